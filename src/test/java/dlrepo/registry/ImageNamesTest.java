package dlrepo.registry;

import static dlrepo.registry.Reg.assertError;
import static dlrepo.registry.Reg.assertStatus;
import static dlrepo.registry.Reg.send;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.TestServer;
import dlrepo.products.Helpers;
import dlrepo.registry.Reg.Blob;
import dlrepo.registry.Reg.Image;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What image names map to (registry.md): {@code <branch>/<job>} and its user form are
 * writable jobs whose tag is the registry tag, products are read-only views whose tag is
 * the version; aliases, the image in the job's tree, deletion with the tag, the job digest.
 */
class ImageNamesTest {
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"));
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    private static String hexPath(String kind, String digest) {
        String hex = digest.substring(7);
        return kind + "/sha256/" + hex.substring(0, 2) + "/" + hex;
    }

    private static byte[] manifest(TestServer srv, String name, String ref) throws Exception {
        HttpResponse<byte[]> r = Reg.sendBytes(srv, "GET", "/v2/" + name + "/manifests/" + ref);
        assertStatus(200, r);
        return r.body();
    }

    /** The image lands in {@code /branches/<b>/<tag>/<job>/container/}, next to the job's other formats. */
    @Test
    void branchJobImageInTheTree() throws Exception {
        String b = Reg.unique("br");
        String job = "build";
        Helpers.upload201(s, "/branches/" + b + "/v1/" + job + "/deb/pkg.deb", "a package");
        Helpers.finalizeFormat(s, "/branches/" + b + "/v1/" + job + "/deb/");
        Image img = Reg.pushImage(s, b + "/" + job, "v1", Reg.OCI_MANIFEST, 2, 1000);

        Path jobDir = s.root().resolve("branches/" + b + "/v1/" + job);
        Path container = jobDir.resolve("container");
        assertEquals(img.digest() + "\n", Files.readString(container.resolve(".manifest")));
        Path m = container.resolve(hexPath("manifests", img.digest()));
        assertArrayEquals(img.bytes(), Files.readAllBytes(m));
        assertEquals(Files.getAttribute(Helpers.blob(s, img.hex()), "unix:ino"), Files.getAttribute(m, "unix:ino"),
                "the manifest is a hard link to its blob");
        List<Blob> blobs = new ArrayList<>(img.layers());
        blobs.add(img.config());
        for (Blob bl : blobs) {
            Path p = container.resolve(hexPath("blobs", bl.digest()));
            assertArrayEquals(bl.data(), Files.readAllBytes(p));
            assertEquals(Files.getAttribute(Helpers.blob(s, bl.hex()), "unix:ino"), Files.getAttribute(p, "unix:ino"));
        }
        assertFalse(Files.exists(container.resolve(".dirty")), "finalized");
        // .digests lists every file of the image
        JsonNode digests = Reg.JSON.readTree(container.resolve(".digests").toFile());
        assertEquals(blobs.size() + 1, digests.size(), digests.toString());
        assertEquals(img.digest(), digests.get(hexPath("manifests", img.digest())).asText());
        Path debDir = jobDir.resolve("deb");
        assertTrue(Files.isRegularFile(debDir.resolve("pkg.deb")), "the other format stays");

        JsonNode j = Helpers.ok(s.get("/branches/" + b + "/v1/" + job + "/")).get("job");
        assertEquals(List.of("container", "deb"), Reg.strings(j.get("artifact_formats")));
        // the format is readable through the artifact API, and not writable there
        JsonNode f = Helpers.ok(s.get("/branches/" + b + "/v1/" + job + "/container/")).get("artifact_format");
        assertTrue(Reg.strings(f.get("files")).contains(hexPath("manifests", img.digest())), f.toString());
        HttpResponse<String> put = s.upload("/branches/" + b + "/v1/" + job + "/container/x", "x");
        assertEquals(400, put.statusCode(), put.body());

        // the registry and the artifact API serve the same bytes
        HttpResponse<byte[]> viaApi = s.getBytes("/branches/" + b + "/v1/" + job + "/container/"
                + hexPath("blobs", img.layers().get(0).digest()));
        assertEquals(200, viaApi.statusCode());
        assertArrayEquals(img.layers().get(0).data(), viaApi.body());
    }

    @Test
    void userRepositoryImage() throws Exception {
        String user = Reg.unique("alice");
        String name = "u/" + user + "/main/app";
        Image img = Reg.pushImage(s, name, "v1", Reg.DOCKER_MANIFEST, 1, 500);
        Path container = s.root().resolve("users/" + user + "/branches/main/v1/app/container");
        assertEquals(img.digest() + "\n", Files.readString(container.resolve(".manifest")));
        assertArrayEquals(img.bytes(), manifest(s, name, "v1"));
        JsonNode j = Helpers.ok(s.get("/~" + user + "/branches/main/v1/app/")).get("job");
        assertEquals(List.of("container"), Reg.strings(j.get("artifact_formats")));
        // the same name outside the user repository is another image
        assertError(s.get("/v2/main/app-" + user + "/manifests/v1"), 404, "MANIFEST_UNKNOWN");
        assertFalse(Files.exists(s.root().resolve("branches/main/v1/app/container/.manifest"))
                && Files.readString(s.root().resolve("branches/main/v1/app/container/.manifest"))
                        .equals(img.digest() + "\n"));
        assertEquals(List.of("v1"), Reg.strings(Reg.json(s.get("/v2/" + name + "/tags/list")).get("tags")));
    }

    /** A job with product metadata: its image is pulled through the product name, the version as tag. */
    @Test
    void productImagesAreReadOnly() throws Exception {
        String p = Reg.unique("prod");
        String b = Reg.unique("br");
        Image v1 = Reg.pushImage(s, b + "/app", "t1", Reg.OCI_MANIFEST, 1, 300);
        Image v2 = Reg.pushImage(s, b + "/app", "t2", Reg.OCI_MANIFEST, 1, 300);
        Helpers.linkJob(s, "/branches/" + b + "/t1/app/", p, "server", "main", "1.0");
        Helpers.linkJob(s, "/branches/" + b + "/t2/app/", p, "server", "main", "2.0");
        String product = p + "/server/main";

        assertArrayEquals(v1.bytes(), manifest(s, product, "1.0"));
        assertArrayEquals(v2.bytes(), manifest(s, product, "2.0"));
        assertArrayEquals(v2.bytes(), manifest(s, product, v2.digest()));
        assertEquals(List.of("1.0", "2.0"),
                Reg.strings(Reg.json(s.get("/v2/" + product + "/tags/list")).get("tags")));
        HttpResponse<byte[]> layer = Reg.sendBytes(s, "GET", "/v2/" + product + "/blobs/" + v1.layers().get(0).digest());
        assertStatus(200, layer);
        assertArrayEquals(v1.layers().get(0).data(), layer.body());
        assertTrue(Reg.strings(Reg.json(s.get("/v2/_catalog")).get("repositories")).contains(product));

        // pushes to a product name are refused
        assertError(Reg.putManifest(s, product, "3.0", v1), 403, "DENIED");
        assertError(Reg.putManifest(s, product, "1.0", v2), 403, "DENIED");
        assertError(send(s, "POST", "/v2/" + product + "/blobs/uploads/", null), 403, "DENIED");
        Blob blob = Blob.of(Reg.data(10), Reg.OCI_LAYER);
        assertError(Reg.post(s, "/v2/" + product + "/blobs/uploads/?digest=" + blob.digest(), blob.data()), 403,
                "DENIED");
        assertArrayEquals(v1.bytes(), manifest(s, product, "1.0"), "unchanged");

        // a user's product
        String user = Reg.unique("bob");
        Image mine = Reg.pushImage(s, "u/" + user + "/" + b + "/app", "t1", Reg.OCI_MANIFEST, 1, 300);
        Helpers.linkJob(s, "/~" + user + "/branches/" + b + "/t1/app/", p, "server", "main", "9.0");
        String userProduct = "u/" + user + "/" + product;
        assertArrayEquals(mine.bytes(), manifest(s, userProduct, "9.0"));
        assertError(s.get("/v2/" + product + "/manifests/9.0"), 404, "MANIFEST_UNKNOWN");
        assertError(Reg.putManifest(s, userProduct, "9.1", mine), 403, "DENIED");
        assertError(send(s, "POST", "/v2/" + userProduct + "/blobs/uploads/", null), 403, "DENIED");
    }

    @Test
    void invalidNames() throws Exception {
        Image img = Reg.pushImage(s, "main/named", "v1", Reg.OCI_MANIFEST, 1, 100);
        for (String name : List.of("Main/named", "main/Named", "MAIN/NAMED", "u/Alice/main/named", "main/na--",
                "main", "a/b/c/d", "u/x/a/b/c/d", "main/-named", "main/na%20med")) {
            assertError(s.get("/v2/" + name + "/manifests/v1"), 400, "NAME_INVALID");
            assertError(s.get("/v2/" + name + "/tags/list"), 400, "NAME_INVALID");
            assertError(s.head("/v2/" + name + "/blobs/" + img.config().digest()), 400, "NAME_INVALID");
            assertError(Reg.putManifest(s, name, "v2", img), 400, "NAME_INVALID");
            assertError(send(s, "POST", "/v2/" + name + "/blobs/uploads/", null), 400, "NAME_INVALID");
        }
        // the canonical forms of dlrepo (lower case) are not applied to registry names
        assertFalse(Files.exists(s.root().resolve("branches/main/v2")));
        assertFalse(Files.exists(s.root().resolve("branches/MAIN")));
        // an invalid tag
        for (String tag : List.of(".x", "-x", "x".repeat(129), "a%20b", "%C3%A9")) {
            assertError(Reg.putManifest(s, "main/named", tag, img), 400, "TAG_INVALID");
        }
        // dlrepo tags are lower case: an upper-case tag is refused on push (it would be the
        // lower-case one, while OCI tags are case-sensitive) and read as the lower-case one
        assertArrayEquals(img.bytes(), manifest(s, "main/named", "V1"));
        assertError(Reg.putManifest(s, "main/named", "V3", img), 400, "TAG_INVALID");
        assertFalse(Files.exists(s.root().resolve("branches/main/v3")));
        assertStatus(201, Reg.putManifest(s, "main/named", "v3", img));
        assertArrayEquals(img.bytes(), manifest(s, "main/named", "V3"));
    }

    private static void setCreated(String b, String tag, long secondsAgo) throws Exception {
        Files.setLastModifiedTime(s.root().resolve("branches/" + b + "/" + tag + "/.stamp"),
                FileTime.fromMillis(System.currentTimeMillis() - secondsAgo * 1000));
    }

    private static void stable(String b, String tag) throws Exception {
        HttpResponse<String> r = s.json("POST", "/branches/" + b + "/" + tag + "/", "{\"tag\": {\"stable\": true}}");
        assertEquals(200, r.statusCode(), r.body());
    }

    /** latest, stable and oldstable resolve among the tags that hold the image, by creation time. */
    @Test
    void aliases() throws Exception {
        String b = Reg.unique("br");
        String name = b + "/app";
        Image i1 = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 100);
        Image i2 = Reg.pushImage(s, name, "v2", Reg.OCI_MANIFEST, 1, 100);
        Image i3 = Reg.pushImage(s, name, "v3", Reg.OCI_MANIFEST, 1, 100);
        setCreated(b, "v1", 300);
        setCreated(b, "v2", 200);
        setCreated(b, "v3", 100);
        // the newest tag has no image of this job
        Helpers.upload201(s, "/branches/" + b + "/v4/other/deb/x.deb", "x");
        Reg.pushImage(s, b + "/other", "v5", Reg.OCI_MANIFEST, 1, 100);

        assertArrayEquals(i3.bytes(), manifest(s, name, "latest"));
        assertError(s.get("/v2/" + name + "/manifests/stable"), 404, "MANIFEST_UNKNOWN");
        stable(b, "v1");
        assertArrayEquals(i1.bytes(), manifest(s, name, "stable"));
        assertError(s.get("/v2/" + name + "/manifests/oldstable"), 404, "MANIFEST_UNKNOWN");
        stable(b, "v2");
        stable(b, "v4");
        assertArrayEquals(i2.bytes(), manifest(s, name, "stable"));
        assertArrayEquals(i1.bytes(), manifest(s, name, "oldstable"));
        // v1 becomes the newest
        setCreated(b, "v1", 10);
        assertArrayEquals(i1.bytes(), manifest(s, name, "latest"));
        assertArrayEquals(i1.bytes(), manifest(s, name, "stable"));
        assertArrayEquals(i2.bytes(), manifest(s, name, "oldstable"));
        HttpResponse<String> h = s.head("/v2/" + name + "/manifests/latest");
        assertEquals(i1.digest(), h.headers().firstValue("Docker-Content-Digest").orElse(null));

        // an alias cannot be pushed
        for (String alias : List.of("latest", "stable", "oldstable")) {
            HttpResponse<String> r = Reg.putManifest(s, name, alias, i3);
            assertTrue(r.statusCode() == 405 || r.statusCode() == 400 || r.statusCode() == 403, r.body());
            Reg.assertError(r, r.statusCode(), r.statusCode() == 403 ? "DENIED" : r.statusCode() == 400
                    ? "TAG_INVALID" : "UNSUPPORTED");
            assertFalse(Files.exists(s.root().resolve("branches/" + b + "/" + alias)), alias);
        }
        assertArrayEquals(i1.bytes(), manifest(s, name, "latest"));
        // aliases are not tags: not listed
        assertEquals(List.of("v1", "v2", "v3"),
                Reg.strings(Reg.json(s.get("/v2/" + name + "/tags/list")).get("tags")));
    }

    /** Deleting the tag deletes its image; the cleanup then frees the blobs nothing else uses. */
    @Test
    void tagDeletionAndCleanup() throws Exception {
        Map<String, String> env = Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0", "DLREPO_ORPHAN_BLOB_LIFETIME", "0");
        TestServer first = TestServer.start(env);
        Path root = first.root();
        Blob shared = Blob.of(Reg.data(2000), Reg.OCI_LAYER);
        Reg.pushBlob(first, "main/app", shared);
        Image i1 = Reg.pushBlobs(first, "main/app", Reg.OCI_MANIFEST, "amd64", 2, 1500);
        i1 = Reg.manifest(Reg.OCI_MANIFEST, i1.config(), List.of(shared, i1.layers().get(0), i1.layers().get(1)));
        assertStatus(201, Reg.putManifest(first, "main/app", "v1", i1));
        Image i2 = Reg.pushBlobs(first, "main/app", Reg.OCI_MANIFEST, "amd64", 1, 1500);
        i2 = Reg.manifest(Reg.OCI_MANIFEST, i2.config(), List.of(shared, i2.layers().get(0)));
        assertStatus(201, Reg.putManifest(first, "main/app", "v2", i2));
        // the blob store protects fresh pushes for a while: a restart forgets that
        first.daemon().close();
        try (TestServer s2 = TestServer.start(root, env)) {
            assertEquals(200, s2.delete("/branches/main/v1/").statusCode());
            assertError(s2.get("/v2/main/app/manifests/v1"), 404, "MANIFEST_UNKNOWN");
            assertEquals(List.of("v2"), Reg.strings(Reg.json(s2.get("/v2/main/app/tags/list")).get("tags")));
            Helpers.fullCleanup(s2);
            List<String> left = Helpers.blobs(s2);
            List<String> gone = new ArrayList<>(List.of(i1.hex(), i1.config().hex(), i1.layers().get(1).hex(),
                    i1.layers().get(2).hex()));
            for (String g : gone) {
                assertFalse(left.contains(g), "orphan blob " + g + " collected");
            }
            for (String kept : List.of(i2.hex(), i2.config().hex(), shared.hex(), i2.layers().get(1).hex())) {
                assertTrue(left.contains(kept), "blob " + kept + " of v2 kept");
            }
            assertArrayEquals(i2.bytes(), manifest(s2, "main/app", "latest"));
            HttpResponse<byte[]> r = Reg.sendBytes(s2, "GET", "/v2/main/app/blobs/" + shared.digest());
            assertArrayEquals(shared.data(), r.body());
            assertError(s2.get("/v2/main/app/blobs/" + i1.layers().get(1).digest()), 404, "BLOB_UNKNOWN");
            // deleting the job (not the tag) deletes the image too
            assertEquals(200, s2.delete("/branches/main/v2/app/").statusCode());
            assertError(s2.get("/v2/main/app/manifests/latest"), 404, "MANIFEST_UNKNOWN");
            assertError(s2.get("/v2/main/app/tags/list"), 404, "NAME_UNKNOWN");
        }
    }

    /** layout.md: for the container format, the job digest covers the manifest digest. */
    @Test
    void jobDigestCoversTheManifestDigest() throws Exception {
        String b = Reg.unique("br");
        String jobUrl = "/branches/" + b + "/v1/app/";
        Helpers.upload201(s, jobUrl + "deb/pkg.deb", "package");
        Helpers.finalizeFormat(s, jobUrl + "deb/");
        Reg.pushImage(s, b + "/app", "v1", Reg.OCI_MANIFEST, 1, 100);
        Image img = Reg.pushImage(s, b + "/app", "v1", Reg.DOCKER_MANIFEST, 2, 100);
        assertEquals(200, Helpers.patchJob(s, jobUrl, "{\"job\": {\"arch\": \"x86_64\"}}").statusCode());
        HttpResponse<String> lock = s.json("PUT", jobUrl, "{\"job\": {\"locked\": true}}");
        assertEquals(200, lock.statusCode(), lock.body());

        Path jobDir = s.root().resolve("branches/" + b + "/v1/app");
        Map<String, String> parts = new TreeMap<>();
        parts.put(".metadata", "sha256:" + Helpers.sha256(Files.readAllBytes(jobDir.resolve(".metadata"))));
        parts.put("container", img.digest());
        parts.put("deb", "sha256:" + Helpers.sha256(Files.readAllBytes(jobDir.resolve("deb/.digests"))));
        StringBuilder json = new StringBuilder("{");
        parts.forEach((k, v) -> json.append(json.length() > 1 ? ", " : "").append('"').append(k).append("\": \"")
                .append(v).append('"'));
        json.append('}');
        String expected = Helpers.sha256(json.toString().getBytes(StandardCharsets.US_ASCII));
        assertEquals(expected, Helpers.ok(s.get(jobUrl)).get("job").get("digest").asText());
        assertEquals(expected + "\n", Files.readString(jobDir.resolve(".digest")));

        // a locked job's image cannot be replaced
        Image other = Reg.pushBlobs(s, b + "/app", Reg.OCI_MANIFEST, "amd64", 1, 100);
        assertError(Reg.putManifest(s, b + "/app", "v1", other), 403, "DENIED");
        assertArrayEquals(img.bytes(), manifest(s, b + "/app", "v1"));
    }
}
