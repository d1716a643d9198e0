package dlrepo.registry;

import static dlrepo.registry.Reg.assertError;
import static dlrepo.registry.Reg.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.TestServer;
import dlrepo.registry.Reg.Blob;
import dlrepo.registry.Reg.Image;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code DELETE /v2/<name>/manifests/<digest or tag>}: the image (the job's container
 * format) leaves every tag holding that manifest, or that tag; the job keeps its other
 * formats. Needs the delete right, refused on a locked job; and upper-case tags refused
 * on push.
 */
class ManifestDeleteTest {
    static Path dir;
    static TestServer s;
    static final String CI = basic("ci", "ci-pass");
    static final String PUSHER = basic("pusher", "pusher-pass");

    static String basic(String login, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((login + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("dlrepo-regdel-");
        Path acls = Files.createDirectory(dir.resolve("acls"));
        Files.writeString(dir.resolve("auth"), "ci:ci-pass:ci\npusher:pusher-pass:pushers\n");
        Files.writeString(acls.resolve("ci"), "rad /v2/**\nra /branches/**\n");
        Files.writeString(acls.resolve("pushers"), "ra /v2/**\n");
        s = TestServer.start(Map.of("DLREPO_AUTH_DISABLED", "0", "DLREPO_AUTH_FILE", dir.resolve("auth").toString(),
                "DLREPO_ACLS_DIR", acls.toString(), "DLREPO_TAG_CLEANUP_PERIOD", "0"));
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
        TestServer.deleteTree(dir);
    }

    private static HttpResponse<String> call(String auth, String method, String path, byte[] body, String... headers)
            throws IOException, InterruptedException {
        return s.send(auth, method, path, body, headers);
    }

    private static Image image() {
        return Reg.manifest(Reg.OCI_MANIFEST, Reg.config("amd64", Reg.OCI_CONFIG),
                List.of(Blob.of(Reg.data(500), Reg.OCI_LAYER)));
    }

    /** Pushes {@code img}'s blobs and the manifest under {@code ref} as ci. */
    private static void push(String name, String ref, Image img) throws Exception {
        for (Blob b : img.config() == null ? List.<Blob>of() : concat(img.config(), img.layers())) {
            assertStatus(201, call(CI, "POST", "/v2/" + name + "/blobs/uploads/?digest=" + b.digest(), b.data()));
        }
        assertStatus(201, call(CI, "PUT", "/v2/" + name + "/manifests/" + ref, img.bytes(), "Content-Type",
                img.mediaType()));
    }

    private static List<Blob> concat(Blob first, List<Blob> rest) {
        List<Blob> all = new java.util.ArrayList<>(List.of(first));
        all.addAll(rest);
        return all;
    }

    private static HttpResponse<String> delete(String auth, String name, String ref) throws Exception {
        return call(auth, "DELETE", "/v2/" + name + "/manifests/" + ref, null);
    }

    private static int manifestStatus(String name, String ref) throws Exception {
        return call(CI, "GET", "/v2/" + name + "/manifests/" + ref, null).statusCode();
    }

    private static List<String> tags(String name) throws Exception {
        HttpResponse<String> r = call(CI, "GET", "/v2/" + name + "/tags/list", null);
        return r.statusCode() == 404 ? List.of() : Reg.strings(Reg.json(r).get("tags"));
    }

    @Test
    void byDigestRemovesTheImageFromEveryTagHoldingItAndKeepsTheOtherFormats() throws Exception {
        String branch = Reg.unique("dig");
        String name = branch + "/app";
        Image img = image();
        Image other = image();
        push(name, "v1", img);
        push(name, "v2", img);
        push(name, "v3", other);
        String file = "/branches/" + branch + "/v1/app/bin/notes.txt";
        byte[] kept0 = "kept".getBytes(StandardCharsets.UTF_8);
        assertEquals(201, call(CI, "PUT", file, kept0, "Digest", TestServer.digest(kept0)).statusCode());

        HttpResponse<String> r = delete(CI, name, img.digest());
        assertStatus(202, r);
        assertError(call(CI, "GET", "/v2/" + name + "/manifests/v1", null), 404, "MANIFEST_UNKNOWN");
        assertError(call(CI, "GET", "/v2/" + name + "/manifests/v2", null), 404, "MANIFEST_UNKNOWN");
        assertError(call(CI, "GET", "/v2/" + name + "/manifests/" + img.digest(), null), 404, "MANIFEST_UNKNOWN");
        assertEquals(200, manifestStatus(name, "v3"), "an image with another manifest stays");
        assertEquals(List.of("v3"), tags(name));
        Path root = s.root().resolve("branches").resolve(branch);
        assertFalse(Files.exists(root.resolve("v1/app/container")));
        assertFalse(Files.exists(root.resolve("v2/app/container")));
        assertTrue(Files.exists(root.resolve("v3/app/container/.manifest")));
        HttpResponse<String> kept = call(CI, "GET", file, null);
        assertEquals(200, kept.statusCode());
        assertEquals("kept", kept.body());
        // the pull of a deleted image fails; deleting it again finds nothing
        assertError(call(CI, "GET", "/v2/" + name + "/blobs/" + img.config().digest(), null), 404, "BLOB_UNKNOWN");
        assertError(delete(CI, name, img.digest()), 404, "MANIFEST_UNKNOWN");
        // the job listing (cached) no longer shows the format
        String job = call(CI, "GET", "/branches/" + branch + "/v1/app/", null, "Accept", "application/json").body();
        assertFalse(job.contains("\"container\""), job);
        assertTrue(job.contains("\"bin\""), job);
    }

    @Test
    void byDigestOfAChildRemovesTheIndex() throws Exception {
        String name = Reg.unique("idx") + "/app";
        Image amd = image();
        Image arm = image();
        push(name, amd.digest(), amd);
        push(name, arm.digest(), arm);
        Image index = Reg.index(Reg.OCI_INDEX, List.of(amd, arm), List.of("amd64", "arm64"));
        push(name, "v1", index);
        assertStatus(202, delete(CI, name, arm.digest()));
        assertError(call(CI, "GET", "/v2/" + name + "/manifests/v1", null), 404, "MANIFEST_UNKNOWN");
        assertError(call(CI, "GET", "/v2/" + name + "/manifests/" + amd.digest(), null), 404, "MANIFEST_UNKNOWN");
    }

    @Test
    void byTagRemovesThatTagOnly() throws Exception {
        String name = Reg.unique("tag") + "/app";
        Image img = image();
        push(name, "v1", img);
        push(name, "v2", img);
        assertStatus(202, delete(CI, name, "v1"));
        assertError(call(CI, "GET", "/v2/" + name + "/manifests/v1", null), 404, "MANIFEST_UNKNOWN");
        assertEquals(200, manifestStatus(name, "v2"));
        assertEquals(200, manifestStatus(name, img.digest()), "still in v2");
        assertEquals(List.of("v2"), tags(name));
        assertError(delete(CI, name, "v1"), 404, "MANIFEST_UNKNOWN");
        // a tag is spelt in any case on reads and deletes
        assertStatus(202, delete(CI, name, "V2"));
        assertEquals(List.of(), tags(name));
    }

    @Test
    void lockedJobIsRefused() throws Exception {
        String branch = Reg.unique("lock");
        String name = branch + "/app";
        Image img = image();
        push(name, "v1", img);
        HttpResponse<String> lock = call(CI, "PUT", "/branches/" + branch + "/v1/app/", "{\"job\": {\"locked\": true}}"
                .getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
        assertEquals(200, lock.statusCode(), lock.body());
        var byTag = assertError(delete(CI, name, "v1"), 403, "DENIED");
        assertTrue(byTag.toString().contains("is locked"), byTag.toString());
        var byDigest = assertError(delete(CI, name, img.digest()), 403, "DENIED");
        assertTrue(byDigest.toString().contains("is locked"), byDigest.toString());
        assertEquals(200, manifestStatus(name, "v1"));
        assertTrue(Files.exists(s.root().resolve("branches/" + branch + "/v1/app/container/.manifest")));
    }

    @Test
    void theDeleteRightIsNeeded() throws Exception {
        String name = Reg.unique("right") + "/app";
        Image img = image();
        push(name, "v1", img);
        assertError(delete(PUSHER, name, "v1"), 403, "DENIED");
        assertError(delete(PUSHER, name, img.digest()), 403, "DENIED");
        assertEquals(401, delete(null, name, img.digest()).statusCode());
        assertEquals(200, manifestStatus(name, "v1"));
        assertEquals(200, manifestStatus(name, img.digest()));
    }

    @Test
    void unknownManifestsAliasesAndProductsAreRefused() throws Exception {
        String name = Reg.unique("unk") + "/app";
        push(name, "v1", image());
        assertError(delete(CI, name, "v9"), 404, "MANIFEST_UNKNOWN");
        assertError(delete(CI, name, TestServer.digest("nothing".getBytes(StandardCharsets.UTF_8))), 404,
                "MANIFEST_UNKNOWN");
        assertError(delete(CI, name, "sha256:xyz"), 400, "DIGEST_INVALID");
        assertError(delete(CI, name, "latest"), 405, "UNSUPPORTED");
        assertError(delete(CI, "prod/var/main", "v1"), 405, "UNSUPPORTED");
        assertEquals(200, manifestStatus(name, "v1"));
    }

    @Test
    void aManifestPushedByDigestAndWaitingForItsIndexIsForgotten() throws Exception {
        String name = Reg.unique("pend") + "/app";
        Image child = image();
        push(name, child.digest(), child);
        assertEquals(200, manifestStatus(name, child.digest()));
        assertStatus(202, delete(CI, name, child.digest()));
        assertError(call(CI, "GET", "/v2/" + name + "/manifests/" + child.digest(), null), 404, "MANIFEST_UNKNOWN");
    }

    @Test
    void upperCaseTagsAreRefusedOnPushAndMappedOnReads() throws Exception {
        String name = Reg.unique("case") + "/app";
        Image img = image();
        for (Blob b : concat(img.config(), img.layers())) {
            assertStatus(201, call(CI, "POST", "/v2/" + name + "/blobs/uploads/?digest=" + b.digest(), b.data()));
        }
        var err = assertError(call(CI, "PUT", "/v2/" + name + "/manifests/V1", img.bytes(), "Content-Type",
                img.mediaType()), 400, "TAG_INVALID");
        assertTrue(err.toString().contains("Tag V1: dlrepo tags are lower case, push v1"), err.toString());
        assertEquals(404, manifestStatus(name, "v1"));
        assertStatus(201, call(CI, "PUT", "/v2/" + name + "/manifests/v1", img.bytes(), "Content-Type",
                img.mediaType()));
        assertEquals(200, manifestStatus(name, "V1"));
    }

    @Test
    void skopeoDeletesByTagAndByDigest(@TempDir Path tmp) throws Exception {
        assumeTrue(Files.isExecutable(SkopeoTest.SKOPEO), "skopeo is not installed (apt-get install skopeo)");
        try (TestServer open = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"))) {
            SkopeoTest.Layout first = new SkopeoTest.Layout(tmp.resolve("first"));
            first.tag(first.image("amd64", 1000, 2000), "v1");
            SkopeoTest.Layout src = new SkopeoTest.Layout(tmp.resolve("src"));
            ObjectNode m = src.image("amd64", 1000, 2000);
            src.tag(m, "v1");
            String digest = m.get("digest").asText();
            String base = "docker://127.0.0.1:" + open.port() + "/main/skopeo";
            SkopeoTest.ok("copy", "--dest-tls-verify=false", "oci:" + first.dir + ":v1", base + ":v1");
            for (String tag : List.of("v2", "v3", "v4")) {
                SkopeoTest.ok("copy", "--dest-tls-verify=false", "oci:" + src.dir + ":v1", base + ":" + tag);
            }
            // by tag: skopeo deletes the manifest the tag names (by its digest)
            SkopeoTest.ok("delete", "--tls-verify=false", base + ":v1");
            assertNotEquals(0, SkopeoTest.skopeo("inspect", "--tls-verify=false", base + ":v1").exit());
            SkopeoTest.ok("inspect", "--tls-verify=false", base + ":v2");
            assertTrue(Files.exists(open.root().resolve("branches/main/v1/skopeo")), "the job stays");
            assertFalse(Files.exists(open.root().resolve("branches/main/v1/skopeo/container")));

            SkopeoTest.ok("delete", "--tls-verify=false", base + "@" + digest);
            assertNotEquals(0, SkopeoTest.skopeo("inspect", "--tls-verify=false", base + ":v2").exit());
            assertNotEquals(0, SkopeoTest.skopeo("inspect", "--tls-verify=false", base + ":v3").exit());
            assertNotEquals(0, SkopeoTest.skopeo("inspect", "--tls-verify=false", base + ":v4").exit());
            assertNotEquals(0, SkopeoTest.skopeo("delete", "--tls-verify=false", base + ":v2").exit(),
                    "nothing left to delete");
        }
    }
}
