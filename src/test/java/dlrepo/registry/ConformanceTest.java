package dlrepo.registry;

import static dlrepo.registry.Reg.JSON;
import static dlrepo.registry.Reg.assertError;
import static dlrepo.registry.Reg.assertStatus;
import static dlrepo.registry.Reg.location;
import static dlrepo.registry.Reg.send;
import static dlrepo.registry.Reg.withParam;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.TestServer;
import dlrepo.registry.Reg.Blob;
import dlrepo.registry.Reg.Image;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A port of the OCI distribution-spec conformance suite (pull, push, content discovery,
 * error codes) to JUnit, as registry.md restricts it: every answer carries
 * {@code Docker-Distribution-Api-Version}, every error is
 * {@code {"errors": [{"code", "message", "detail"}]}}.
 */
class ConformanceTest {
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"));
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    private static String name() {
        return "main/" + Reg.unique("conf");
    }

    private static Blob layer(int size) {
        return Blob.of(Reg.data(size), Reg.OCI_LAYER);
    }

    private static byte[] getBlob(String name, String digest) throws Exception {
        HttpResponse<byte[]> r = Reg.sendBytes(s, "GET", "/v2/" + name + "/blobs/" + digest);
        assertStatus(200, r);
        assertEquals(digest, r.headers().firstValue("Docker-Content-Digest").orElse(null));
        return r.body();
    }

    private static HttpResponse<String> startUpload(String name) throws Exception {
        HttpResponse<String> r = send(s, "POST", "/v2/" + name + "/blobs/uploads/", null);
        assertStatus(202, r);
        assertEquals("0-0", r.headers().firstValue("Range").orElse(null));
        assertNotNull(r.headers().firstValue("Docker-Upload-UUID").orElse(null));
        assertTrue(location(r).startsWith("/v2/" + name + "/blobs/uploads/"), location(r));
        return r;
    }

    private static HttpResponse<String> patch(String location, byte[] chunk, long start) throws Exception {
        List<String> h = new ArrayList<>(List.of("Content-Type", "application/octet-stream"));
        if (start >= 0) {
            h.addAll(List.of("Content-Range", start + "-" + (start + chunk.length - 1)));
        }
        return send(s, "PATCH", location, chunk, h.toArray(String[]::new));
    }

    // ---- base ----

    @Test
    void baseEndpoint() throws Exception {
        HttpResponse<String> r = s.get("/v2/");
        assertStatus(200, r);
        assertEquals("{}", r.body().strip());
        assertStatus(200, s.get("/v2"));
        assertError(s.get("/v2/nothing/here"), 404, "NAME_UNKNOWN");
        assertError(send(s, "POST", "/v2/", new byte[0]), 405, "UNSUPPORTED");
    }

    // ---- push: blobs ----

    @Test
    void monolithicPost() throws Exception {
        String name = name();
        Blob b = layer(5000);
        HttpResponse<String> r = Reg.post(s, "/v2/" + name + "/blobs/uploads/?digest=" + b.digest(), b.data());
        assertStatus(201, r);
        assertEquals("/v2/" + name + "/blobs/" + b.digest(), location(r));
        assertEquals(b.digest(), r.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertArrayEquals(b.data(), getBlob(name, b.digest()));
        // the blob is in the store (mode 0640), not yet in any job
        Path blob = s.root().resolve(".blobs/sha256/" + b.hex().substring(0, 2) + "/" + b.hex());
        assertEquals("rw-r-----", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(blob)));
        assertFalse(Files.exists(s.root().resolve("branches/" + name.split("/")[0] + "/latest")));
    }

    @Test
    void postThenPut() throws Exception {
        String name = name();
        Blob b = layer(7000);
        HttpResponse<String> start = startUpload(name);
        HttpResponse<String> r = send(s, "PUT", withParam(location(start), "digest=" + b.digest()), b.data(),
                "Content-Type", "application/octet-stream");
        assertStatus(201, r);
        assertEquals("/v2/" + name + "/blobs/" + b.digest(), location(r));
        assertEquals(b.digest(), r.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertArrayEquals(b.data(), getBlob(name, b.digest()));
        // the session is over
        assertError(s.get(location(start)), 404, "BLOB_UPLOAD_UNKNOWN");
    }

    @Test
    void chunkedUpload() throws Exception {
        String name = name();
        Blob b = layer(30_000);
        byte[][] chunks = {Arrays.copyOfRange(b.data(), 0, 10_000), Arrays.copyOfRange(b.data(), 10_000, 25_000),
            Arrays.copyOfRange(b.data(), 25_000, 30_000)};
        String loc = location(startUpload(name));
        HttpResponse<String> r = patch(loc, chunks[0], 0);
        assertStatus(202, r);
        assertEquals("0-9999", r.headers().firstValue("Range").orElse(null));
        loc = location(r);

        HttpResponse<String> status = s.get(loc);
        assertStatus(204, status);
        assertEquals("0-9999", status.headers().firstValue("Range").orElse(null));
        assertEquals(loc, location(status));

        // a chunk that does not start where the last one ended
        assertError(patch(loc, chunks[2], 25_000), 416, "BLOB_UPLOAD_INVALID");
        assertError(patch(loc, chunks[1], 0), 416, "BLOB_UPLOAD_INVALID");
        // nothing was appended by the refused chunks
        assertEquals("0-9999", s.get(loc).headers().firstValue("Range").orElse(null));

        r = patch(loc, chunks[1], 10_000);
        assertStatus(202, r);
        assertEquals("0-24999", r.headers().firstValue("Range").orElse(null));
        loc = location(r);
        // the last chunk with the closing PUT
        r = send(s, "PUT", withParam(loc, "digest=" + b.digest()), chunks[2], "Content-Type",
                "application/octet-stream", "Content-Range", "25000-29999");
        assertStatus(201, r);
        assertArrayEquals(b.data(), getBlob(name, b.digest()));
    }

    @Test
    void chunkedUploadWithoutContentRangeAndEmptyClosingPut() throws Exception {
        String name = name();
        Blob b = layer(20_000);
        String loc = location(startUpload(name));
        loc = location(patch(loc, Arrays.copyOfRange(b.data(), 0, 12_345), -1));
        HttpResponse<String> r = patch(loc, Arrays.copyOfRange(b.data(), 12_345, 20_000), -1);
        assertStatus(202, r);
        assertEquals("0-19999", r.headers().firstValue("Range").orElse(null));
        r = send(s, "PUT", withParam(location(r), "digest=" + b.digest()), null);
        assertStatus(201, r);
        assertArrayEquals(b.data(), getBlob(name, b.digest()));
    }

    /** A PATCH streamed with chunked transfer encoding (as Jib and Go clients send layers), larger than Undertow's 2 MiB default. */
    @Test
    void streamedPatchOfManyMegabytes() throws Exception {
        String name = name();
        Blob b = layer(5 * 1024 * 1024 + 3);
        String loc = location(startUpload(name));
        HttpResponse<String> r = s.send(s.request(loc).header("Content-Type", "application/octet-stream")
                .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(b.data())))
                .build());
        assertStatus(202, r);
        assertEquals("0-" + (b.data().length - 1), r.headers().firstValue("Range").orElse(null));
        r = send(s, "PUT", withParam(location(r), "digest=" + b.digest()), null);
        assertStatus(201, r);
        assertArrayEquals(b.data(), getBlob(name, b.digest()));
        // and a monolithic streamed PUT as well
        Blob c = layer(3 * 1024 * 1024);
        loc = location(startUpload(name));
        r = s.send(s.request(withParam(loc, "digest=" + c.digest()))
                .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(c.data()))).build());
        assertStatus(201, r);
    }

    @Test
    void closingPutWithoutDigestAndEmptyBlobs() throws Exception {
        String name = name();
        Blob b = layer(1234);
        String loc = location(startUpload(name));
        loc = location(patch(loc, b.data(), 0));
        // the digest is required to close an upload
        assertError(send(s, "PUT", loc, null), 400, "DIGEST_INVALID");
        assertError(send(s, "PUT", withParam(loc, "digest=sha256:nothex"), null), 400, "DIGEST_INVALID");
        HttpResponse<String> status = s.get(loc);
        assertStatus(204, status);
        assertEquals("0-1233", status.headers().firstValue("Range").orElse(null), "the session goes on");
        assertStatus(201, send(s, "PUT", withParam(loc, "digest=" + b.digest()), null));
        assertArrayEquals(b.data(), getBlob(name, b.digest()));

        // empty blobs (the OCI empty layer), monolithic and POST+PUT
        String empty = TestServer.digest(new byte[0]);
        assertStatus(201, Reg.post(s, "/v2/" + name + "/blobs/uploads/?digest=" + empty, new byte[0]));
        assertStatus(201, send(s, "PUT", withParam(location(startUpload(name)), "digest=" + empty), null));
        HttpResponse<String> head = s.head("/v2/" + name + "/blobs/" + empty);
        assertStatus(200, head);
        assertEquals("0", head.headers().firstValue("Content-Length").orElse(null));
        // an image whose config is the OCI empty descriptor ({}), as artifacts have
        byte[] emptyJson = "{}".getBytes(StandardCharsets.UTF_8);
        Blob config = Blob.of(emptyJson, "application/vnd.oci.empty.v1+json");
        Reg.pushBlob(s, name, config);
        Image artifact = Reg.manifest(Reg.OCI_MANIFEST, config, List.of(b));
        assertStatus(201, Reg.putManifest(s, name, "artifact", artifact));
        assertManifest(name, "artifact", artifact);
    }

    @Test
    void deleteUpload() throws Exception {
        String name = name();
        String loc = location(startUpload(name));
        loc = location(patch(loc, Reg.data(100), 0));
        HttpResponse<String> r = send(s, "DELETE", loc, null);
        assertStatus(204, r);
        assertError(s.get(loc), 404, "BLOB_UPLOAD_UNKNOWN");
        assertError(patch(loc, Reg.data(10), -1), 404, "BLOB_UPLOAD_UNKNOWN");
        assertError(send(s, "PUT", withParam(loc, "digest=" + TestServer.digest("x")), null), 404,
                "BLOB_UPLOAD_UNKNOWN");
        assertError(send(s, "DELETE", loc, null), 404, "BLOB_UPLOAD_UNKNOWN");
        assertError(s.get("/v2/" + name + "/blobs/uploads/0123456789abcdef0123456789abcdef"), 404,
                "BLOB_UPLOAD_UNKNOWN");
        // nothing is left in .uploads for a cancelled session
        assertFalse(Files.exists(s.root().resolve(".uploads").resolve(loc.substring(loc.lastIndexOf('/') + 1))));
    }

    @Test
    void digestMismatch() throws Exception {
        String name = name();
        Blob b = layer(1000);
        String wrong = TestServer.digest("something else");
        assertError(Reg.post(s, "/v2/" + name + "/blobs/uploads/?digest=" + wrong, b.data()), 400, "DIGEST_INVALID");
        String loc = location(startUpload(name));
        assertError(send(s, "PUT", withParam(loc, "digest=" + wrong), b.data()), 400, "DIGEST_INVALID");
        // neither upload left a blob behind
        for (String d : List.of(wrong, b.digest())) {
            String hex = d.substring(7);
            assertFalse(Files.exists(s.root().resolve(".blobs/sha256/" + hex.substring(0, 2) + "/" + hex)), d);
            assertError(s.head("/v2/" + name + "/blobs/" + d), 404, "BLOB_UNKNOWN");
        }
        // a malformed digest
        assertError(Reg.post(s, "/v2/" + name + "/blobs/uploads/?digest=sha256:xyz", b.data()), 400,
                "DIGEST_INVALID");
        assertError(s.get("/v2/" + name + "/blobs/sha256:1234"), 400, "DIGEST_INVALID");
    }

    @Test
    void crossRepositoryMount() throws Exception {
        String from = name();
        String to = name();
        Blob b = layer(3000);
        Reg.pushBlob(s, from, b);
        HttpResponse<String> r = send(s, "POST", "/v2/" + to + "/blobs/uploads/?mount=" + b.digest() + "&from=" + from,
                null);
        assertStatus(201, r);
        assertEquals("/v2/" + to + "/blobs/" + b.digest(), location(r));
        assertEquals(b.digest(), r.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertArrayEquals(b.data(), getBlob(to, b.digest()));

        // an unknown blob cannot be mounted: the answer is an upload session, which works
        Blob unknown = layer(2000);
        r = send(s, "POST", "/v2/" + to + "/blobs/uploads/?mount=" + unknown.digest() + "&from=" + from, null);
        assertStatus(202, r);
        assertTrue(location(r).startsWith("/v2/" + to + "/blobs/uploads/"), location(r));
        r = send(s, "PUT", withParam(location(r), "digest=" + unknown.digest()), unknown.data());
        assertStatus(201, r);
        assertArrayEquals(unknown.data(), getBlob(to, unknown.digest()));
    }

    // ---- pull: blobs ----

    @Test
    void blobGetHeadAndRange() throws Exception {
        String name = name();
        Blob b = layer(4096);
        Reg.pushBlob(s, name, b);
        HttpResponse<String> head = s.head("/v2/" + name + "/blobs/" + b.digest());
        assertStatus(200, head);
        assertEquals("4096", head.headers().firstValue("Content-Length").orElse(null));
        assertEquals(b.digest(), head.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertEquals("", head.body());

        HttpResponse<byte[]> r = Reg.sendBytes(s, "GET", "/v2/" + name + "/blobs/" + b.digest(), "Range", "bytes=100-199");
        assertStatus(206, r);
        assertArrayEquals(Arrays.copyOfRange(b.data(), 100, 200), r.body());
        assertEquals("bytes 100-199/4096", r.headers().firstValue("Content-Range").orElse(null));
        r = Reg.sendBytes(s, "GET", "/v2/" + name + "/blobs/" + b.digest(), "Range", "bytes=4000-");
        assertStatus(206, r);
        assertArrayEquals(Arrays.copyOfRange(b.data(), 4000, 4096), r.body());

        String unknown = TestServer.digest(Reg.data(10));
        assertError(s.get("/v2/" + name + "/blobs/" + unknown), 404, "BLOB_UNKNOWN");
        HttpResponse<String> h = s.head("/v2/" + name + "/blobs/" + unknown);
        assertError(h, 404, "BLOB_UNKNOWN");
        assertEquals("", h.body());
        // blobs cannot be deleted or pushed at their URL
        assertError(send(s, "PUT", "/v2/" + name + "/blobs/" + b.digest(), b.data()), 405, "UNSUPPORTED");
    }

    // ---- push and pull: manifests ----

    private static void assertManifest(String name, String ref, Image img) throws Exception {
        HttpResponse<byte[]> r = Reg.sendBytes(s, "GET", "/v2/" + name + "/manifests/" + ref, "Accept",
                String.join(", ", Reg.OCI_MANIFEST, Reg.OCI_INDEX, Reg.DOCKER_MANIFEST, Reg.DOCKER_LIST));
        assertStatus(200, r);
        assertArrayEquals(img.bytes(), r.body(), "byte for byte");
        assertEquals(img.mediaType(), r.headers().firstValue("Content-Type").orElse(null));
        assertEquals(img.digest(), r.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertEquals(String.valueOf(img.bytes().length), r.headers().firstValue("Content-Length").orElse(null));
        HttpResponse<String> h = s.head("/v2/" + name + "/manifests/" + ref);
        assertStatus(200, h);
        assertEquals("", h.body());
        assertEquals(img.mediaType(), h.headers().firstValue("Content-Type").orElse(null));
        assertEquals(img.digest(), h.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertEquals(String.valueOf(img.bytes().length), h.headers().firstValue("Content-Length").orElse(null));
    }

    private void pushAndPull(String mediaType) throws Exception {
        String name = name();
        Image img = Reg.pushBlobs(s, name, mediaType, "amd64", 3, 2000);
        HttpResponse<String> r = Reg.putManifest(s, name, "v1", img);
        assertStatus(201, r);
        assertEquals(img.digest(), r.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertEquals("/v2/" + name + "/manifests/" + img.digest(), location(r));
        assertManifest(name, "v1", img);
        assertManifest(name, img.digest(), img);
        for (Blob b : img.layers()) {
            assertArrayEquals(b.data(), getBlob(name, b.digest()));
        }
        assertArrayEquals(img.config().data(), getBlob(name, img.config().digest()));
        // pushing the same manifest again is idempotent
        assertStatus(201, Reg.putManifest(s, name, "v1", img));
        assertManifest(name, "v1", img);
    }

    @Test
    void dockerSchema2() throws Exception {
        pushAndPull(Reg.DOCKER_MANIFEST);
    }

    @Test
    void ociManifest() throws Exception {
        pushAndPull(Reg.OCI_MANIFEST);
    }

    @Test
    void ociManifestWithoutMediaTypeFieldTakesTheContentType() throws Exception {
        String name = name();
        Image img = Reg.pushBlobs(s, name, Reg.OCI_MANIFEST, "amd64", 1, 100);
        ObjectNode m = (ObjectNode) JSON.readTree(img.bytes());
        m.remove("mediaType");
        byte[] bytes = m.toString().getBytes(StandardCharsets.UTF_8);
        assertStatus(201, Reg.putManifest(s, name, "v1", Reg.OCI_MANIFEST, bytes));
        HttpResponse<String> r = s.get("/v2/" + name + "/manifests/v1");
        assertStatus(200, r);
        assertEquals(Reg.OCI_MANIFEST, r.headers().firstValue("Content-Type").orElse(null));
        assertEquals(TestServer.digest(bytes), r.headers().firstValue("Docker-Content-Digest").orElse(null));
    }

    private void pushIndex(String indexType, String childType) throws Exception {
        String name = name();
        List<Image> children = new ArrayList<>();
        List<String> archs = List.of("amd64", "arm64", "s390x");
        for (String arch : archs) {
            Image c = Reg.pushBlobs(s, name, childType, arch, 2, 500);
            // children are pushed by digest, before the index
            HttpResponse<String> r = Reg.putManifest(s, name, c.digest(), c);
            assertStatus(201, r);
            assertEquals(c.digest(), r.headers().firstValue("Docker-Content-Digest").orElse(null));
            children.add(c);
        }
        // a child pushed by digest can be read back by digest before its index arrives
        assertManifest(name, children.get(0).digest(), children.get(0));
        Image index = Reg.index(indexType, children, archs);
        HttpResponse<String> r = Reg.putManifest(s, name, "v1", index);
        assertStatus(201, r);
        assertEquals(index.digest(), r.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertManifest(name, "v1", index);
        assertManifest(name, index.digest(), index);
        for (Image c : children) {
            assertManifest(name, c.digest(), c);
        }
        // the index and every child manifest, config and layer are linked into the job
        Path container = s.root().resolve("branches/" + name.replace("main/", "main/v1/") + "/container");
        assertEquals(index.digest() + "\n", Files.readString(container.resolve(".manifest")));
        for (Image c : children) {
            assertTrue(Files.isRegularFile(container.resolve("manifests/sha256/" + c.hex().substring(0, 2) + "/" + c.hex())));
            for (Blob b : c.layers()) {
                assertTrue(Files.isRegularFile(container.resolve("blobs/sha256/" + b.hex().substring(0, 2) + "/" + b.hex())));
            }
            Blob cfg = c.config();
            assertTrue(Files.isRegularFile(container.resolve("blobs/sha256/" + cfg.hex().substring(0, 2) + "/" + cfg.hex())));
        }
    }

    @Test
    void ociIndex() throws Exception {
        pushIndex(Reg.OCI_INDEX, Reg.OCI_MANIFEST);
    }

    @Test
    void dockerManifestList() throws Exception {
        pushIndex(Reg.DOCKER_LIST, Reg.DOCKER_MANIFEST);
    }

    @Test
    void indexWithUnknownChild() throws Exception {
        String name = name();
        Image c = Reg.pushBlobs(s, name, Reg.OCI_MANIFEST, "amd64", 1, 100);
        Image index = Reg.index(Reg.OCI_INDEX, List.of(c), List.of("amd64"));
        assertError(Reg.putManifest(s, name, "v1", index), 400, "MANIFEST_BLOB_UNKNOWN");
        assertError(s.get("/v2/" + name + "/manifests/v1"), 404, "MANIFEST_UNKNOWN");
    }

    @Test
    void manifestWithMissingBlob() throws Exception {
        String name = name();
        Blob config = Reg.config("amd64", Reg.OCI_CONFIG);
        Blob pushed = layer(100);
        Blob missing = layer(100);
        Reg.pushBlob(s, name, config);
        Reg.pushBlob(s, name, pushed);
        Image img = Reg.manifest(Reg.OCI_MANIFEST, config, List.of(pushed, missing));
        assertError(Reg.putManifest(s, name, "v1", img), 400, "MANIFEST_BLOB_UNKNOWN");
        // a missing config as well
        Image noConfig = Reg.manifest(Reg.OCI_MANIFEST, Reg.config("amd64", Reg.OCI_CONFIG), List.of(pushed));
        assertError(Reg.putManifest(s, name, "v1", noConfig), 400, "MANIFEST_BLOB_UNKNOWN");
        // and by digest
        assertError(Reg.putManifest(s, name, img.digest(), img), 400, "MANIFEST_BLOB_UNKNOWN");
        assertError(s.get("/v2/" + name + "/manifests/v1"), 404, "MANIFEST_UNKNOWN");
        assertError(s.get("/v2/" + name + "/manifests/" + img.digest()), 404, "MANIFEST_UNKNOWN");
        assertFalse(Files.exists(s.root().resolve("branches/main/v1/" + name.substring(5))), "no job created");
    }

    @Test
    void invalidManifests() throws Exception {
        String name = name();
        for (String body : List.of("not json", "[1, 2]", "{\"schemaVersion\": 2}",
                "{\"schemaVersion\": 2, \"config\": {\"digest\": \"sha256:00\"}, \"layers\": []}",
                "{\"schemaVersion\": 2, \"manifests\": {}}")) {
            assertError(Reg.putManifest(s, name, "v1", Reg.OCI_MANIFEST, body.getBytes(StandardCharsets.UTF_8)),
                    400, "MANIFEST_INVALID");
        }
        // Docker image manifest schema 1 (signed or not) is not supported
        String schema1 = "{\"schemaVersion\": 1, \"name\": \"" + name + "\", \"tag\": \"v1\", \"architecture\": "
                + "\"amd64\", \"fsLayers\": [], \"history\": []}";
        assertError(Reg.putManifest(s, name, "v1", "application/vnd.docker.distribution.manifest.v1+prettyjws",
                schema1.getBytes(StandardCharsets.UTF_8)), 400, "MANIFEST_INVALID");
        assertError(s.get("/v2/" + name + "/manifests/v1"), 404, "MANIFEST_UNKNOWN");
    }

    @Test
    void manifestByWrongDigest() throws Exception {
        String name = name();
        Image img = Reg.pushBlobs(s, name, Reg.OCI_MANIFEST, "amd64", 1, 100);
        assertError(Reg.putManifest(s, name, TestServer.digest("other"), img), 400, "DIGEST_INVALID");
    }

    @Test
    void unknownManifests() throws Exception {
        String name = name();
        Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 100);
        assertError(s.get("/v2/" + name + "/manifests/v2"), 404, "MANIFEST_UNKNOWN");
        assertError(s.head("/v2/" + name + "/manifests/v2"), 404, "MANIFEST_UNKNOWN");
        assertError(s.get("/v2/" + name + "/manifests/" + TestServer.digest("nothing")), 404, "MANIFEST_UNKNOWN");
        // a blob that is not a manifest is not served as one
        Blob b = layer(100);
        Reg.pushBlob(s, name, b);
        assertError(s.get("/v2/" + name + "/manifests/" + b.digest()), 404, "MANIFEST_UNKNOWN");
        assertError(s.get("/v2/main/" + Reg.unique("none") + "/manifests/v1"), 404, "MANIFEST_UNKNOWN");
    }

    @Test
    void replacingTheImageOfATag() throws Exception {
        String name = name();
        Image first = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 2, 1000);
        Image second = Reg.pushImage(s, name, "v1", Reg.DOCKER_MANIFEST, 1, 1000);
        assertManifest(name, "v1", second);
        Path container = s.root().resolve("branches/main/v1/" + name.substring(5) + "/container");
        assertEquals(second.digest() + "\n", Files.readString(container.resolve(".manifest")));
        for (Blob b : first.layers()) {
            assertFalse(Files.exists(container.resolve("blobs/sha256/" + b.hex().substring(0, 2) + "/" + b.hex())),
                    "the previous image's layers left the job");
        }
        assertFalse(Files.exists(container.resolve("manifests/sha256/" + first.hex().substring(0, 2) + "/"
                + first.hex())));
    }

    // ---- content discovery ----

    private static List<String> follow(String first, String field) throws Exception {
        List<String> all = new ArrayList<>();
        String url = first;
        Pattern link = Pattern.compile("<([^>]+)>;\\s*rel=\"next\"");
        for (int pages = 0; url != null; pages++) {
            assertTrue(pages < 100, "pagination ends");
            HttpResponse<String> r = s.get(url);
            JsonNode body = Reg.json(r);
            all.addAll(Reg.strings(body.get(field)));
            String h = r.headers().firstValue("Link").orElse(null);
            if (h == null) {
                url = null;
            } else {
                Matcher m = link.matcher(h);
                assertTrue(m.find(), "Link header: " + h);
                url = m.group(1);
            }
        }
        return all;
    }

    @Test
    void tagsList() throws Exception {
        String name = name();
        Image img = Reg.pushBlobs(s, name, Reg.OCI_MANIFEST, "amd64", 1, 100);
        List<String> tags = List.of("v1", "v2", "v3", "v4", "v5");
        for (String t : tags) {
            assertStatus(201, Reg.putManifest(s, name, t, img));
        }
        JsonNode all = Reg.json(s.get("/v2/" + name + "/tags/list"));
        assertEquals(name, all.get("name").asText());
        List<String> expected = List.of("v1", "v2", "v3", "v4", "v5");
        assertEquals(expected, Reg.strings(all.get("tags")));

        HttpResponse<String> r = s.get("/v2/" + name + "/tags/list?n=2");
        JsonNode page = Reg.json(r);
        assertEquals(List.of("v1", "v2"), Reg.strings(page.get("tags")));
        String linkHeader = r.headers().firstValue("Link").orElse("");
        assertEquals("</v2/" + name + "/tags/list?n=2&last=v2>; rel=\"next\"", linkHeader);
        assertEquals(List.of("v3", "v4"), Reg.strings(Reg.json(s.get("/v2/" + name + "/tags/list?n=2&last=v2"))
                .get("tags")));
        assertEquals(List.of("v4", "v5"), Reg.strings(Reg.json(s.get("/v2/" + name + "/tags/list?last=v3"))
                .get("tags")));
        assertEquals(List.of(), Reg.strings(Reg.json(s.get("/v2/" + name + "/tags/list?n=0")).get("tags")));
        assertEquals(expected, follow("/v2/" + name + "/tags/list?n=2", "tags"));
        assertEquals(expected, follow("/v2/" + name + "/tags/list?n=1", "tags"));
        // the last page has no Link
        assertFalse(s.get("/v2/" + name + "/tags/list?n=10").headers().firstValue("Link").isPresent());

        assertError(s.get("/v2/" + name + "/tags/list?n=x"), 400, "PAGINATION_NUMBER_INVALID");
        assertError(s.get("/v2/main/" + Reg.unique("none") + "/tags/list"), 404, "NAME_UNKNOWN");
    }

    @Test
    void catalog() throws Exception {
        try (TestServer c = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"))) {
            assertEquals(List.of(), Reg.strings(Reg.json(c.get("/v2/_catalog")).get("repositories")));
            List<String> names = List.of("dev/app", "main/app", "main/base", "main/tools", "u/alice/main/app");
            for (String n : names) {
                Reg.pushImage(c, n, "v1", Reg.OCI_MANIFEST, 1, 100);
            }
            // blobs without a manifest make no image
            Reg.pushBlob(c, "main/nomanifest", layer(10));
            JsonNode all = Reg.json(c.get("/v2/_catalog"));
            assertEquals(names, Reg.strings(all.get("repositories")));
            HttpResponse<String> r = c.get("/v2/_catalog?n=2");
            assertEquals(List.of("dev/app", "main/app"), Reg.strings(Reg.json(r).get("repositories")));
            assertEquals("</v2/_catalog?n=2&last=main%2Fapp>; rel=\"next\"", r.headers().firstValue("Link").orElse(""));
            assertEquals(List.of("main/base", "main/tools"),
                    Reg.strings(Reg.json(c.get("/v2/_catalog?n=2&last=main%2Fapp")).get("repositories")));
            TestServer saved = s;
            s = c;
            try {
                assertEquals(names, follow("/v2/_catalog?n=2", "repositories"));
                assertEquals(names, follow("/v2/_catalog?n=1", "repositories"));
            } finally {
                s = saved;
            }
            // a tag deleted: its image leaves the catalog
            assertEquals(200, c.delete("/branches/dev/v1/").statusCode());
            assertFalse(Reg.strings(Reg.json(c.get("/v2/_catalog")).get("repositories")).contains("dev/app"));
        }
    }

    @Test
    void unsupportedMethodsAndEndpoints() throws Exception {
        String name = name();
        Image img = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 100);
        // a manifest is deleted (ManifestDeleteTest), not patched
        HttpResponse<String> r = send(s, "PATCH", "/v2/" + name + "/manifests/" + img.digest(), new byte[0]);
        assertError(r, 405, "UNSUPPORTED");
        assertManifest(name, "v1", img);
        assertError(send(s, "POST", "/v2/" + name + "/tags/list", null), 405, "UNSUPPORTED");
        assertError(send(s, "PUT", "/v2/_catalog", new byte[0]), 405, "UNSUPPORTED");
        // referrers are listed (ReferrersTest), not pushed there
        assertError(send(s, "PUT", "/v2/" + name + "/referrers/" + img.digest(), new byte[0]), 405, "UNSUPPORTED");
        HttpResponse<String> refs = s.get("/v2/" + name + "/referrers/" + img.digest());
        assertStatus(200, refs);
        assertEquals(List.of(), Reg.strings(Reg.json(refs).get("manifests")));
    }
}
