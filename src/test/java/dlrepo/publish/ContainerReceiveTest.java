package dlrepo.publish;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.Caller;
import dlrepo.Check;
import dlrepo.TestServer;
import dlrepo.registry.SkopeoTest;
import dlrepo.registry.SkopeoTest.Layout;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The receiving side of publishing container images: a server publishing to another one
 * copies the {@code container} format file by file through the artifact API (as a
 * {@code dlrepo-server/} agent) and finalizes it. The receiver then tags the image itself
 * (writes {@code .manifest}), so that it can be pulled there and its job digest is the
 * sender's. Skipped without skopeo.
 */
class ContainerReceiveTest {
    static final String AGENT = "dlrepo-server/sender.example";
    static TestServer a;
    static TestServer b;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Files.isExecutable(SkopeoTest.SKOPEO), "skopeo is not installed (apt-get install skopeo)");
        a = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"));
        b = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    static String ref(TestServer s, String image) {
        return "docker://127.0.0.1:" + s.port() + "/" + image;
    }

    /** Copies {@code job}'s container format from A to B the way a publishing server does, then finalizes it. */
    static List<String> copyContainer(String job, Caller to) throws Exception {
        String fmt = job + "container/";
        JsonNode files = a.anonymous().ok(fmt).at("/artifact_format/files");
        List<String> copied = new ArrayList<>();
        for (JsonNode f : files) {
            String rel = f.asText();
            HttpResponse<byte[]> body = a.anonymous().getBytes(fmt + rel);
            assertStatus(200, body);
            String digest = "sha256:" + Path.of(rel).getFileName();
            assertEquals(digest, TestServer.digest(body.body()), rel);
            assertStatus(201, to.put(fmt + rel, body.body(), "Digest", digest));
            copied.add(rel);
        }
        // dirty until finalized: not complete, not tagged
        assertStatus(404, to.head(fmt));
        assertStatus(200, to.send("PATCH", fmt));
        assertStatus(200, to.head(fmt));
        return copied;
    }

    /** Metadata, then the lock, as the publisher does; the two job digests. */
    static void lockBoth(String job) throws Exception {
        JsonNode meta = a.anonymous().ok(job).get("job");
        ObjectNode m = Check.JSON.createObjectNode();
        meta.fields().forEachRemaining(e -> {
            if (!List.of("name", "timestamp", "digest", "artifact_formats", "locked", "internal", "released")
                    .contains(e.getKey()) && e.getValue().isTextual()) {
                m.set(e.getKey(), e.getValue());
            }
        });
        if (!m.isEmpty()) {
            assertStatus(200, b.anonymous().json("PATCH", job, "{\"job\": " + m + "}"));
        }
        assertStatus(200, a.anonymous().json("PUT", job, "{\"job\": {\"locked\": true}}"));
        assertStatus(200, b.anonymous().json("PUT", job, "{\"job\": {\"locked\": true}}"));
    }

    static String digest(TestServer s, String job) throws Exception {
        String d = s.anonymous().ok(job).at("/job/digest").asText();
        assertEquals(64, d.length(), job + " digest on " + s.port() + ": " + d);
        return d;
    }

    @Test
    void singleImageIsTaggedAndPullable(@TempDir Path tmp) throws Exception {
        Layout src = new Layout(tmp.resolve("src"));
        ObjectNode m = src.image("amd64", 300_000, 1000);
        src.tag(m, "v1");
        String top = m.get("digest").asText();
        SkopeoTest.ok("copy", "--dest-tls-verify=false", "oci:" + src.dir + ":v1", ref(a, "main/app:v1"));
        String job = "/branches/main/v1/app/";

        Caller sender = Caller.headers(b, "User-Agent", AGENT);
        List<String> copied = copyContainer(job, sender);
        assertEquals(4, copied.size(), copied.toString()); // manifest, config, 2 layers
        Path marker = b.root().resolve("branches/main/v1/app/container/.manifest");
        assertEquals(top + "\n", Files.readString(marker));
        lockBoth(job);
        assertEquals(digest(a, job), digest(b, job), "the receiver's job digest is the sender's");

        Layout back = new Layout(tmp.resolve("back"));
        SkopeoTest.ok("copy", "--src-tls-verify=false", ref(b, "main/app:v1"), "oci:" + back.dir + ":v1");
        SkopeoTest.assertSameBlobs(src, back);
        assertArrayEquals(src.read(top), SkopeoTest.ok("inspect", "--tls-verify=false", "--raw", ref(b, "main/app:v1"))
                .out().getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void multiPlatformIndexIsTaggedAndPullable(@TempDir Path tmp) throws Exception {
        Layout src = new Layout(tmp.resolve("src"));
        ObjectNode index = src.index(List.of(src.image("amd64", 200_000, 1000), src.image("arm64", 200_000)));
        src.tag(index, "v1");
        String top = index.get("digest").asText();
        SkopeoTest.ok("copy", "--all", "--dest-tls-verify=false", "oci:" + src.dir + ":v1", ref(a, "main/multi:v1"));
        String job = "/branches/main/v1/multi/";

        List<String> copied = copyContainer(job, Caller.headers(b, "User-Agent", AGENT));
        assertEquals(3, copied.stream().filter(r -> r.startsWith("manifests/")).count(), copied.toString());
        assertEquals(top + "\n", Files.readString(b.root().resolve("branches/main/v1/multi/container/.manifest")),
                "the index, not one of its platform manifests");
        lockBoth(job);
        assertEquals(digest(a, job), digest(b, job));

        Layout back = new Layout(tmp.resolve("back"));
        SkopeoTest.ok("copy", "--all", "--src-tls-verify=false", ref(b, "main/multi:v1"), "oci:" + back.dir + ":v1");
        SkopeoTest.assertSameBlobs(src, back);
        assertEquals(top, Check.JSON.readTree(back.dir.resolve("index.json").toFile()).at("/manifests/0/digest")
                .asText());
    }

    /** Two unrelated images in one format: which one the tag stands for is unknown, so there is no tag. */
    @Test
    void twoTopManifestsLeaveTheImageUntagged(@TempDir Path tmp) throws Exception {
        Layout one = new Layout(tmp.resolve("one"));
        ObjectNode m1 = one.image("amd64", 5000);
        one.tag(m1, "v1");
        SkopeoTest.ok("copy", "--dest-tls-verify=false", "oci:" + one.dir + ":v1", ref(a, "main/two:v1"));
        Layout other = new Layout(tmp.resolve("other"));
        ObjectNode m2 = other.image("arm64", 5000);
        other.tag(m2, "v1");
        SkopeoTest.ok("copy", "--dest-tls-verify=false", "oci:" + other.dir + ":v1", ref(a, "main/two:v2"));

        Caller sender = Caller.headers(b, "User-Agent", AGENT);
        String fmt = "/branches/main/v1/two/container/";
        for (String job : List.of("/branches/main/v1/two/", "/branches/main/v2/two/")) {
            for (JsonNode f : a.anonymous().ok(job + "container/").at("/artifact_format/files")) {
                byte[] body = a.anonymous().getBytes(job + "container/" + f.asText()).body();
                assertStatus(201, sender.upload(fmt + f.asText(), body));
            }
        }
        assertStatus(200, sender.send("PATCH", fmt));
        assertStatus(200, sender.head(fmt));
        assertFalse(Files.exists(b.root().resolve("branches/main/v1/two/container/.manifest")));
        assertNotEquals(0, SkopeoTest.skopeo("inspect", "--retry-times=0", "--tls-verify=false",
                ref(b, "main/two:v1")).exit());
        // the files are there all the same
        assertStatus(200, b.anonymous().get(fmt + "manifests/sha256/" + m1.get("digest").asText().substring(7, 9)
                + "/" + m1.get("digest").asText().substring(7)));
    }

    /** A referrer (a manifest with a {@code subject}, such as a signature) is not what the tag stands for. */
    @Test
    void referrersAreNotTheTop(@TempDir Path tmp) throws Exception {
        Layout src = new Layout(tmp.resolve("src"));
        ObjectNode m = src.image("amd64", 3000);
        src.tag(m, "v1");
        SkopeoTest.ok("copy", "--dest-tls-verify=false", "oci:" + src.dir + ":v1", ref(a, "main/signed:v1"));
        Caller sender = Caller.headers(b, "User-Agent", AGENT);
        String job = "/branches/main/v1/signed/";
        for (JsonNode f : a.anonymous().ok(job + "container/").at("/artifact_format/files")) {
            assertStatus(201, sender.upload(job + "container/" + f.asText(),
                    a.anonymous().getBytes(job + "container/" + f.asText()).body()));
        }
        ObjectNode subject = m.deepCopy();
        subject.remove("platform");
        String referrer = "{\"schemaVersion\": 2, \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\", "
                + "\"artifactType\": \"application/vnd.example.sig\", \"config\": {\"mediaType\": "
                + "\"application/vnd.oci.empty.v1+json\", \"digest\": \"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e"
                + "8310c060f61caaff8a\", \"size\": 2}, \"layers\": [], \"subject\": " + subject + "}";
        String rd = TestServer.digest(referrer);
        assertStatus(201, sender.upload(job + "container/manifests/sha256/" + rd.substring(7, 9) + "/" + rd.substring(7),
                referrer));
        assertStatus(200, sender.send("PATCH", job + "container/"));
        assertEquals(m.get("digest").asText() + "\n",
                Files.readString(b.root().resolve("branches/main/v1/signed/container/.manifest")));
        // finalization indexes the referrer: listed by the receiver's registry
        JsonNode index = Check.JSON.readTree(b.root().resolve("branches/main/v1/signed/container/.referrers").toFile());
        assertEquals(List.of(m.get("digest").asText()), fieldNames(index));
        assertEquals(rd, index.at("/" + m.get("digest").asText() + "/0/digest").asText());
        assertEquals("application/vnd.example.sig", index.at("/" + m.get("digest").asText() + "/0/artifactType")
                .asText());
        JsonNode listed = b.anonymous().ok("/v2/main/signed/referrers/" + m.get("digest").asText());
        assertEquals(index.get(m.get("digest").asText()), listed.get("manifests"));
    }

    static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }

    /**
     * A signature pushed to the sender's registry travels with the image: the receiver
     * rebuilds {@code .referrers} at finalization and lists the same referrers; the job
     * digests stay equal ({@code .referrers} is not an entry).
     */
    @Test
    void publishedReferrersAreListedByTheReceiver(@TempDir Path tmp) throws Exception {
        Layout src = new Layout(tmp.resolve("src"));
        ObjectNode m = src.image("amd64", 3000);
        src.tag(m, "v1");
        SkopeoTest.ok("copy", "--dest-tls-verify=false", "oci:" + src.dir + ":v1", ref(a, "main/pubsig:v1"));
        String top = m.get("digest").asText();
        byte[] empty = "{}".getBytes(StandardCharsets.UTF_8);
        Caller anon = a.anonymous();
        assertStatus(201, anon.send(anon.request("/v2/main/pubsig/blobs/uploads/?digest=" + TestServer.digest(empty))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(empty)).build()));
        String referrer = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"artifactType\":\"application/vnd.example.sig\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.empty.v1+json\",\"digest\":\"" + TestServer.digest(empty) + "\",\"size\":2},"
                + "\"layers\":[],\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"digest\":\"" + top + "\",\"size\":" + m.get("size").asLong() + "},"
                + "\"annotations\":{\"org.example\":\"signed\"}}";
        String rd = TestServer.digest(referrer);
        HttpResponse<String> put = a.anonymous().put("/v2/main/pubsig/manifests/" + rd,
                referrer.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/vnd.oci.image.manifest.v1+json");
        assertStatus(201, put);
        assertEquals(top, put.headers().firstValue("OCI-Subject").orElse(null));
        JsonNode onA = a.anonymous().ok("/v2/main/pubsig/referrers/" + top);
        assertEquals(1, onA.get("manifests").size(), onA.toString());

        String job = "/branches/main/v1/pubsig/";
        List<String> copied = copyContainer(job, Caller.headers(b, "User-Agent", AGENT));
        assertTrue(copied.stream().anyMatch(r -> r.endsWith(rd.substring(7))), copied.toString());
        assertFalse(copied.contains(".referrers"), copied.toString());
        assertEquals(top + "\n", Files.readString(b.root().resolve("branches/main/v1/pubsig/container/.manifest")));
        assertEquals(Files.readString(a.root().resolve("branches/main/v1/pubsig/container/.referrers")),
                Files.readString(b.root().resolve("branches/main/v1/pubsig/container/.referrers")));
        assertEquals(onA, b.anonymous().ok("/v2/main/pubsig/referrers/" + top));
        lockBoth(job);
        assertEquals(digest(a, job), digest(b, job));
    }

    /** Only a publishing server writes the container format through the artifact API. */
    @Test
    void otherAgentsCannotWriteTheContainerFormat() throws Exception {
        byte[] data = "{}".getBytes(StandardCharsets.UTF_8);
        String d = TestServer.digest(data);
        String path = "/branches/main/v9/refused/container/blobs/sha256/" + d.substring(7, 9) + "/" + d.substring(7);
        Check.assertError(b.anonymous().upload(path, data), 400, "registry");
        Check.assertError(Caller.headers(b, "User-Agent", "curl/8.0").upload(path, data), 400, "registry");
        assertStatus(201, Caller.headers(b, "User-Agent", AGENT).upload(path, data));
        // blobs only, no manifest: finalized, untagged
        String fmt = "/branches/main/v9/refused/container/";
        assertStatus(200, b.anonymous().send("PATCH", fmt));
        assertFalse(Files.exists(b.root().resolve("branches/main/v9/refused/container/.manifest")));
        assertTrue(Files.exists(b.root().resolve("branches/main/v9/refused/container/.digests")));
    }
}
