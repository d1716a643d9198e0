package dlrepo.security;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.Caller;
import dlrepo.Check;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 11, item 5: a known digest reads nothing the caller may not read. With the
 * "private user repositories" ACLs of {@code etc/acls-examples/3-user-repositories}, bob
 * learns nothing of alice's private files from their digests: not through the registry
 * ({@code /v2/<his image>/blobs/<d>}, {@code manifests/<d>}, {@code ?mount=}, a manifest
 * naming her blobs), not by linking them into his repository ({@code X-Dlrepo-Link}), and
 * the dedup probe ({@code HEAD} with {@code Digest}) answers him the same whether or not
 * she has the content. Deduplication of what the caller may read keeps working.
 */
class BlobAccessTest {
    static TestAuth auth;
    static TestServer s;
    static Caller alice;
    static Caller bob;
    static Caller admin;
    static Caller carol;
    static final Random RANDOM = new Random(11_5);

    @BeforeAll
    static void start() throws Exception {
        auth = new TestAuth().user("alice", "alice-pw", "users").user("bob", "bob-pw", "users")
                .user("root", "root-pw", "users", "admin").user("carol", "carol-pw", "nov1");
        installExampleAcls(auth);
        // carol may pull main/app, but not its tag v1
        auth.acl("nov1", "r /v2/** !/v2/main/app/manifests/v1");
        s = auth.start();
        alice = s.as("alice", "alice-pw");
        bob = s.as("bob", "bob-pw");
        admin = s.as("root", "root-pw");
        carol = s.as("carol", "carol-pw");
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
        auth.close();
    }

    /** The ACL files of the documented set-up, as shipped. */
    static void installExampleAcls(TestAuth a) throws IOException {
        Path dir = Path.of("etc/acls-examples/3-user-repositories");
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.copy(f, a.aclsDir.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    // ---- helpers ----

    static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** A low-entropy private file of alice's (the kind a digest can be guessed for), uploaded; its digest. */
    static String alicesSecret(String tag) throws Exception {
        byte[] secret = ("alice's password: " + Check.unique("hunter") + "\n").getBytes(StandardCharsets.UTF_8);
        assertStatus(201, alice.upload("/~alice/branches/private/" + tag + "/notes/txt/secret.txt", secret));
        assertStatus(403, bob.get("/~alice/branches/private/" + tag + "/notes/txt/secret.txt"));
        return TestServer.digest(secret);
    }

    static Path blobFile(String digest) {
        String hex = digest.substring("sha256:".length());
        return s.root().resolve(".blobs/sha256/" + hex.substring(0, 2) + "/" + hex);
    }

    static HttpResponse<String> post(Caller c, String path, byte[] body) throws Exception {
        return c.send(c.request(path).header("Content-Type", "application/octet-stream")
                .POST(body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body))
                .build());
    }

    static void pushBlob(Caller c, String name, byte[] data) throws Exception {
        assertStatus(201, post(c, "/v2/" + name + "/blobs/uploads/?digest=" + TestServer.digest(data), data));
    }

    static String descriptor(String mediaType, String digest, long size) {
        return "{\"mediaType\": \"" + mediaType + "\", \"digest\": \"" + digest + "\", \"size\": " + size + "}";
    }

    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

    static byte[] manifest(String configDigest, long configSize, List<String> layers, List<Long> sizes) {
        List<String> ds = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            ds.add(descriptor(OCI_LAYER, layers.get(i), sizes.get(i)));
        }
        return ("{\"schemaVersion\": 2, \"mediaType\": \"" + OCI_MANIFEST + "\", \"config\": "
                + descriptor(OCI_CONFIG, configDigest, configSize) + ", \"layers\": [" + String.join(", ", ds) + "]}")
                .getBytes(StandardCharsets.UTF_8);
    }

    static HttpResponse<String> putManifest(Caller c, String name, String ref, byte[] bytes, String type)
            throws Exception {
        return c.put("/v2/" + name + "/manifests/" + ref, bytes, "Content-Type", type);
    }

    /** A pushed one-layer image: its config, layer and manifest bytes. */
    record Image(byte[] config, byte[] layer, byte[] manifest) {
        String digest() {
            return TestServer.digest(manifest);
        }
    }

    static Image pushImage(Caller c, String name, String tag) throws Exception {
        byte[] config = ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"n\": \"" + Check.unique("c") + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] layer = random(3000);
        pushBlob(c, name, config);
        pushBlob(c, name, layer);
        byte[] m = manifest(TestServer.digest(config), config.length, List.of(TestServer.digest(layer)),
                List.of((long) layer.length));
        assertStatus(201, putManifest(c, name, tag, m, OCI_MANIFEST));
        return new Image(config, layer, m);
    }

    static void assertRegistryError(HttpResponse<String> r, int status, String code) throws IOException {
        assertStatus(status, r);
        if (!r.request().method().equals("HEAD")) {
            JsonNode e = Check.JSON.readTree(r.body()).path("errors").path(0);
            assertEquals(code, e.path("code").asText(), r.body());
        }
    }

    // ---- the attacks ----

    @Test
    void registryBlobUrlDoesNotServeAnotherUsersFile() throws Exception {
        String d = alicesSecret(Check.unique("t"));
        Image shared = pushImage(admin, "main/app", Check.unique("v"));
        // through his own image name, through a shared one he may read, with GET and HEAD
        for (String name : List.of("u/bob/main/app", "u/bob/other/job", "main/app")) {
            HttpResponse<String> r = bob.get("/v2/" + name + "/blobs/" + d);
            assertRegistryError(r, 404, "BLOB_UNKNOWN");
            assertFalse(r.body().contains("hunter"), r.body());
            assertRegistryError(bob.head("/v2/" + name + "/blobs/" + d), 404, "BLOB_UNKNOWN");
        }
        // the shared image's own blobs are still served, through its own name only
        HttpResponse<byte[]> ok = bob.getBytes("/v2/main/app/blobs/" + TestServer.digest(shared.layer()));
        assertStatus(200, ok);
        assertArrayEquals(shared.layer(), ok.body());
        assertRegistryError(bob.get("/v2/u/bob/main/app/blobs/" + TestServer.digest(shared.layer())), 404,
                "BLOB_UNKNOWN");
    }

    @Test
    void manifestsByDigestStayInTheirImage() throws Exception {
        Image priv = pushImage(alice, "u/alice/main/app", "v1");
        // alice reads her own image by digest
        assertStatus(200, alice.get("/v2/u/alice/main/app/manifests/" + priv.digest()));
        for (String name : List.of("u/bob/main/app", "main/app")) {
            HttpResponse<String> r = bob.get("/v2/" + name + "/manifests/" + priv.digest());
            assertRegistryError(r, 404, "MANIFEST_UNKNOWN");
            assertFalse(r.body().contains("schemaVersion"), r.body());
            assertRegistryError(bob.get("/v2/" + name + "/blobs/" + TestServer.digest(priv.config())), 404,
                    "BLOB_UNKNOWN");
        }
        // a manifest alice pushed by digest only (an index's child, waiting for its index)
        byte[] config = "{\"architecture\": \"arm64\", \"os\": \"linux\"}".getBytes(StandardCharsets.UTF_8);
        pushBlob(alice, "u/alice/main/multi", config);
        byte[] child = manifest(TestServer.digest(config), config.length, List.of(), List.of());
        assertStatus(201, putManifest(alice, "u/alice/main/multi", TestServer.digest(child), child, OCI_MANIFEST));
        assertStatus(200, alice.get("/v2/u/alice/main/multi/manifests/" + TestServer.digest(child)));
        assertRegistryError(bob.get("/v2/u/bob/main/multi/manifests/" + TestServer.digest(child)), 404,
                "MANIFEST_UNKNOWN");
        // a private file that happens to be a manifest
        byte[] file = manifest(TestServer.digest(config), config.length, List.of(), List.of());
        file = (new String(file, StandardCharsets.UTF_8) + "\n").getBytes(StandardCharsets.UTF_8);
        assertStatus(201, alice.upload("/~alice/branches/private/m1/notes/json/manifest.json", file));
        assertRegistryError(bob.get("/v2/u/bob/main/app/manifests/" + TestServer.digest(file)), 404,
                "MANIFEST_UNKNOWN");
    }

    @Test
    void linkByDigestNeedsAReadableCopy() throws Exception {
        String d = alicesSecret(Check.unique("t"));
        String tag = Check.unique("stolen");
        String path = "/~bob/branches/main/" + tag + "/loot/txt/secret.txt";
        HttpResponse<String> r = bob.link(path, d);
        Check.assertError(r, 404, "not found");
        assertStatus(404, bob.get(path));
        // nothing was created: no tag, no job, no file
        assertFalse(Files.exists(s.root().resolve("users/bob/branches/main/" + tag)));
        // a digest nobody has: the same answer
        Check.assertError(bob.link(path, TestServer.digest(random(32))), 404, "not found");
    }

    @Test
    void mountNeedsAReadableSource() throws Exception {
        Image priv = pushImage(alice, "u/alice/main/app", Check.unique("v"));
        String d = TestServer.digest(priv.layer());
        Image shared = pushImage(admin, "main/app", Check.unique("v"));
        List<String> queries = List.of("mount=" + d + "&from=u/alice/main/app", "mount=" + d + "&from=main/app",
                "mount=" + d + "&from=u/bob/main/app", "mount=" + d, "mount=" + d + "&from=NOT%20A%20NAME");
        for (String q : queries) {
            HttpResponse<String> r = post(bob, "/v2/u/bob/main/app/blobs/uploads/?" + q, null);
            assertStatus(202, r);
            assertTrue(r.headers().firstValue("Location").orElse("").startsWith("/v2/u/bob/main/app/blobs/uploads/"),
                    q + ": " + r.headers().map());
        }
        assertRegistryError(bob.get("/v2/u/bob/main/app/blobs/" + d), 404, "BLOB_UNKNOWN");
        // a blob of an image he may read: mounted, then served through his image
        String sd = TestServer.digest(shared.layer());
        HttpResponse<String> r = post(bob, "/v2/u/bob/main/app/blobs/uploads/?mount=" + sd + "&from=main/app", null);
        assertStatus(201, r);
        assertEquals("/v2/u/bob/main/app/blobs/" + sd, r.headers().firstValue("Location").orElse(null));
        HttpResponse<byte[]> blob = bob.getBytes("/v2/u/bob/main/app/blobs/" + sd);
        assertStatus(200, blob);
        assertArrayEquals(shared.layer(), blob.body());
        // without "from": a blob he may read in the tree (the shared image's container format)
        String config = TestServer.digest(shared.config());
        assertStatus(201, post(bob, "/v2/u/bob/other/app/blobs/uploads/?mount=" + config, null));
        assertArrayEquals(shared.config(), bob.getBytes("/v2/u/bob/other/app/blobs/" + config).body());
    }

    /**
     * Blobs and manifests pushed to a name and waiting for their manifest are read back by
     * their pusher only: until that manifest says which tag (and so which ACL) they belong
     * to, another reader of the name could be reading a tag she may not pull. Before, any
     * reader of the name read them.
     */
    @Test
    void pendingPushesAreReadBackByTheirPusherOnly() throws Exception {
        byte[] config = ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"n\": \"" + Check.unique("c") + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] layer = random(3000);
        pushBlob(admin, "main/app", config);
        pushBlob(admin, "main/app", layer);
        String ld = TestServer.digest(layer);
        byte[] child = manifest(TestServer.digest(config), config.length, List.of(ld), List.of((long) layer.length));
        assertStatus(201, putManifest(admin, "main/app", TestServer.digest(child), child, OCI_MANIFEST));
        // the pusher reads them back, as the distribution flow does
        assertArrayEquals(layer, admin.getBytes("/v2/main/app/blobs/" + ld).body());
        assertStatus(200, admin.get("/v2/main/app/manifests/" + TestServer.digest(child)));
        // other readers of the name do not, nor mount them from it
        for (Caller other : List.of(bob, carol)) {
            HttpResponse<String> r = other.get("/v2/main/app/blobs/" + ld);
            assertRegistryError(r, 404, "BLOB_UNKNOWN");
            assertRegistryError(other.head("/v2/main/app/blobs/" + ld), 404, "BLOB_UNKNOWN");
            assertRegistryError(other.get("/v2/main/app/blobs/" + TestServer.digest(config)), 404, "BLOB_UNKNOWN");
            assertRegistryError(other.get("/v2/main/app/manifests/" + TestServer.digest(child)), 404,
                    "MANIFEST_UNKNOWN");
        }
        assertStatus(202, post(bob, "/v2/u/bob/main/app/blobs/uploads/?mount=" + ld + "&from=main/app", null));
        assertRegistryError(bob.get("/v2/u/bob/main/app/blobs/" + ld), 404, "BLOB_UNKNOWN");
        // the manifest arrives in v1, which carol may not pull: then bob reads them, carol still not
        assertStatus(201, putManifest(admin, "main/app", "v1", child, OCI_MANIFEST));
        assertArrayEquals(layer, bob.getBytes("/v2/main/app/blobs/" + ld).body());
        assertRegistryError(carol.get("/v2/main/app/blobs/" + ld), 404, "BLOB_UNKNOWN");
    }

    /** A tag the caller may not pull does not serve its blobs through the image's other tags' name either. */
    @Test
    void blobsOfADeniedTagAreNotServed() throws Exception {
        Image v1 = pushImage(admin, "main/app", "v1");
        Image v2 = pushImage(admin, "main/app", Check.unique("v"));
        assertStatus(403, carol.get("/v2/main/app/manifests/v1"));
        assertRegistryError(carol.get("/v2/main/app/blobs/" + TestServer.digest(v1.layer())), 404, "BLOB_UNKNOWN");
        assertRegistryError(carol.get("/v2/main/app/manifests/" + v1.digest()), 404, "MANIFEST_UNKNOWN");
        assertArrayEquals(v2.layer(), carol.getBytes("/v2/main/app/blobs/" + TestServer.digest(v2.layer())).body());
        assertStatus(200, carol.get("/v2/main/app/manifests/" + v2.digest()));
        assertArrayEquals(v1.layer(), bob.getBytes("/v2/main/app/blobs/" + TestServer.digest(v1.layer())).body());
    }

    @Test
    void aManifestCannotReferenceBlobsTheCallerCannotRead() throws Exception {
        Image priv = pushImage(alice, "u/alice/main/app", Check.unique("v"));
        String secret = alicesSecret(Check.unique("t"));
        byte[] mine = random(100);
        pushBlob(bob, "u/bob/main/app", mine);
        String tag = Check.unique("v");
        // her private file as a layer, her image's config: both unknown to his image
        byte[] m = manifest(TestServer.digest(mine), mine.length, List.of(secret), List.of(10L));
        assertRegistryError(putManifest(bob, "u/bob/main/app", tag, m, OCI_MANIFEST), 400, "MANIFEST_BLOB_UNKNOWN");
        m = manifest(TestServer.digest(priv.config()), priv.config().length, List.of(), List.of());
        assertRegistryError(putManifest(bob, "u/bob/main/app", tag, m, OCI_MANIFEST), 400, "MANIFEST_BLOB_UNKNOWN");
        assertRegistryError(putManifest(bob, "u/bob/main/app", TestServer.digest(m), m, OCI_MANIFEST), 400,
                "MANIFEST_BLOB_UNKNOWN");
        // an index whose child is her manifest
        byte[] index = ("{\"schemaVersion\": 2, \"mediaType\": \"" + OCI_INDEX + "\", \"manifests\": ["
                + descriptor(OCI_MANIFEST, priv.digest(), priv.manifest().length) + "]}").getBytes(StandardCharsets.UTF_8);
        assertRegistryError(putManifest(bob, "u/bob/main/app", tag, index, OCI_INDEX), 400, "MANIFEST_BLOB_UNKNOWN");
        assertRegistryError(bob.get("/v2/u/bob/main/app/manifests/" + tag), 404, "MANIFEST_UNKNOWN");
        assertRegistryError(bob.get("/v2/u/bob/main/app/blobs/" + secret), 404, "BLOB_UNKNOWN");
        assertRegistryError(bob.get("/v2/u/bob/main/app/manifests/" + priv.digest()), 404, "MANIFEST_UNKNOWN");
    }

    @Test
    void dedupProbeIsNotAnOracle() throws Exception {
        String d = alicesSecret(Check.unique("t"));
        String absent = TestServer.digest(random(40));
        Path blob = blobFile(d);
        FileTime old = FileTime.fromMillis(System.currentTimeMillis() - 3_600_000L);
        Files.setLastModifiedTime(blob, old);
        String path = "/~bob/branches/main/" + Check.unique("t") + "/guess/txt/guess.txt";
        HttpResponse<String> known = bob.head(path, "Digest", d);
        HttpResponse<String> unknown = bob.head(path, "Digest", absent);
        assertEquals(404, known.statusCode());
        assertEquals(unknown.statusCode(), known.statusCode());
        for (String h : List.of("Content-Length", "Digest", "Content-Type")) {
            assertEquals(unknown.headers().firstValue(h), known.headers().firstValue(h), h);
        }
        // and his probe did not keep her blob alive
        assertEquals(old, Files.getLastModifiedTime(blob));
        // in the shared tree, where he may read but not write, the same
        assertEquals(404, bob.head("/branches/main/x/guess/txt/guess.txt", "Digest", d).statusCode());
        // alice herself gets her answer
        assertEquals(200, alice.head("/~alice/branches/private/" + Check.unique("t") + "/notes/txt/secret.txt",
                "Digest", d).statusCode());
        assertTrue(Files.getLastModifiedTime(blob).compareTo(old) > 0, "her probe protects the blob");
    }

    /** The normal case: a CI re-uploads its artifacts into a new tag of the same branch. */
    @Test
    void ciReuploadIntoANewTagIsDeduplicated() throws Exception {
        String branch = Check.unique("ci");
        Map<String, byte[]> files = new java.util.TreeMap<>();
        for (int i = 0; i < 5; i++) {
            files.put("pkg/lib" + i + ".so", random(2000 + i));
        }
        String t1 = "/~alice/branches/" + branch + "/1/build/deb/";
        for (var e : files.entrySet()) {
            assertStatus(201, alice.upload(t1 + e.getKey(), e.getValue()));
        }
        assertStatus(200, alice.send("PATCH", t1));
        for (String tag : List.of("2", "3")) {
            String dir = "/~alice/branches/" + branch + "/" + tag + "/build/deb/";
            for (var e : files.entrySet()) {
                String d = TestServer.digest(e.getValue());
                HttpResponse<String> probe = alice.head(dir + e.getKey(), "Digest", d);
                assertStatus(200, probe);
                assertEquals(String.valueOf(e.getValue().length), probe.headers().firstValue("Content-Length").orElse(null));
                HttpResponse<String> link = alice.link(dir + e.getKey(), d);
                assertStatus(201, link);
                HttpResponse<byte[]> get = alice.getBytes(dir + e.getKey());
                assertStatus(200, get);
                assertArrayEquals(e.getValue(), get.body());
            }
        }
        // the same content under other names, another job, another branch: found too
        byte[] first = files.values().iterator().next();
        String other = "/~alice/branches/" + Check.unique("other") + "/1/test/deb/renamed.so";
        assertStatus(200, alice.head(other, "Digest", TestServer.digest(first)));
        assertStatus(201, alice.link(other, TestServer.digest(first)));
        // a file of the shared tree bob may read: he may link it into his repository
        byte[] pub = random(500);
        assertStatus(201, admin.upload("/branches/main/" + Check.unique("r") + "/build/deb/public.so", pub));
        String his = "/~bob/branches/main/" + Check.unique("t") + "/build/deb/public.so";
        assertStatus(200, bob.head(his, "Digest", TestServer.digest(pub)));
        assertStatus(201, bob.link(his, TestServer.digest(pub)));
        assertArrayEquals(pub, bob.getBytes(his).body());
    }

    /** After a restart nothing is remembered: the same branch's newest tags are still found. */
    @Test
    void dedupAfterARestartLooksInTheBranchsNewestTags() throws Exception {
        try (TestAuth a = new TestAuth().user("alice", "alice-pw", "users").user("bob", "bob-pw", "users")) {
            installExampleAcls(a);
            Path root = Files.createTempDirectory("dlrepo-blobaccess-");
            TestServer first = TestServer.start(root, a.env());
            byte[] same = random(3000);
            byte[] renamed = random(3100);
            byte[] otherJob = random(3200);
            Caller al = first.as("alice", "alice-pw");
            assertStatus(201, al.upload("/~alice/branches/main/1/build/deb/same.so", same));
            assertStatus(201, al.upload("/~alice/branches/main/1/build/deb/app-1.0.so", renamed));
            assertStatus(201, al.upload("/~alice/branches/main/2/test/deb/index.html", otherJob));
            assertStatus(200, al.send("PATCH", "/~alice/branches/main/1/build/deb/"));
            first.daemon().close();
            try (TestServer again = TestServer.start(root, a.env())) {
                Caller al2 = again.as("alice", "alice-pw");
                Caller bob2 = again.as("bob", "bob-pw");
                String dir = "/~alice/branches/main/2/build/deb/";
                assertStatus(200, al2.head(dir + "same.so", "Digest", TestServer.digest(same)));
                assertStatus(201, al2.link(dir + "same.so", TestServer.digest(same)));
                assertStatus(200, al2.head(dir + "app-1.1.so", "Digest", TestServer.digest(renamed)));
                assertStatus(201, al2.link(dir + "app-1.1.so", TestServer.digest(renamed)));
                assertStatus(200, al2.head(dir + "index.html", "Digest", TestServer.digest(otherJob)));
                assertArrayEquals(renamed, al2.getBytes(dir + "app-1.1.so").body());
                // bob, probing his own repository, still learns nothing
                for (byte[] b : List.of(same, renamed, otherJob)) {
                    assertEquals(404, bob2.head("/~bob/branches/main/2/build/deb/same.so", "Digest",
                            TestServer.digest(b)).statusCode());
                }
            }
        }
    }

    @Test
    void registryPushAndPullStillWork() throws Exception {
        String name = "u/bob/" + Check.unique("main") + "/app";
        byte[] config = "{\"architecture\": \"amd64\", \"os\": \"linux\"}".getBytes(StandardCharsets.UTF_8);
        byte[] layer = random(5000);
        pushBlob(bob, name, config);
        // chunked: POST, PATCH, PUT
        HttpResponse<String> start = post(bob, "/v2/" + name + "/blobs/uploads/", null);
        assertStatus(202, start);
        String loc = start.headers().firstValue("Location").orElseThrow();
        assertStatus(202, bob.send(bob.request(loc).method("PATCH", HttpRequest.BodyPublishers.ofByteArray(layer))
                .header("Content-Type", "application/octet-stream").build()));
        assertStatus(201, bob.put(loc + "?digest=" + TestServer.digest(layer), new byte[0]));
        // pushed but not yet in a manifest: served through the name it was pushed to
        assertArrayEquals(layer, bob.getBytes("/v2/" + name + "/blobs/" + TestServer.digest(layer)).body());
        assertStatus(200, bob.head("/v2/" + name + "/blobs/" + TestServer.digest(config)));
        byte[] m = manifest(TestServer.digest(config), config.length, List.of(TestServer.digest(layer)),
                List.of((long) layer.length));
        assertStatus(201, putManifest(bob, name, "v1", m, OCI_MANIFEST));
        // pulled by tag, by digest, blobs
        HttpResponse<byte[]> got = bob.getBytes("/v2/" + name + "/manifests/v1");
        assertStatus(200, got);
        assertArrayEquals(m, got.body());
        assertStatus(200, bob.get("/v2/" + name + "/manifests/" + TestServer.digest(m)));
        assertArrayEquals(layer, bob.getBytes("/v2/" + name + "/blobs/" + TestServer.digest(layer)).body());
        // a second tag reusing the layers: HEAD says they are there, no upload needed
        assertStatus(200, bob.head("/v2/" + name + "/blobs/" + TestServer.digest(layer)));
        byte[] m2 = manifest(TestServer.digest(config), config.length, List.of(TestServer.digest(layer)),
                List.of((long) layer.length));
        m2 = (new String(m2, StandardCharsets.UTF_8) + " ").getBytes(StandardCharsets.UTF_8);
        assertStatus(201, putManifest(bob, name, "v2", m2, OCI_MANIFEST));
        // a multi-platform index: child pushed by digest first
        byte[] child = manifest(TestServer.digest(config), config.length, List.of(), List.of());
        assertStatus(201, putManifest(bob, name, TestServer.digest(child), child, OCI_MANIFEST));
        assertStatus(200, bob.get("/v2/" + name + "/manifests/" + TestServer.digest(child)));
        byte[] index = ("{\"schemaVersion\": 2, \"mediaType\": \"" + OCI_INDEX + "\", \"manifests\": ["
                + descriptor(OCI_MANIFEST, TestServer.digest(child), child.length) + "]}").getBytes(StandardCharsets.UTF_8);
        assertStatus(201, putManifest(bob, name, "multi", index, OCI_INDEX));
        assertArrayEquals(index, bob.getBytes("/v2/" + name + "/manifests/multi").body());
        // alice may not read bob's images at all
        assertStatus(403, alice.get("/v2/" + name + "/blobs/" + TestServer.digest(layer)));
    }

    /** Without authentication every caller may read everything: the probe answers for the whole store. */
    @Test
    void withoutAuthenticationTheWholeStoreIsShared() throws Exception {
        try (TestServer open = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"))) {
            byte[] data = random(700);
            String d = TestServer.digest(data);
            assertStatus(201, open.anonymous().upload("/branches/a/1/j/f/x.bin", data));
            assertStatus(200, open.anonymous().head("/~someone/branches/b/9/k/g/y.bin", "Digest", d));
            assertStatus(201, open.anonymous().link("/~someone/branches/b/9/k/g/y.bin", d));
            // mounting from nowhere in particular: the blob is readable somewhere
            HttpResponse<String> r = post(open.anonymous(), "/v2/b/k/blobs/uploads/?mount=" + d, null);
            assertStatus(201, r);
        }
    }
}
