package dlrepo.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.TarReader;
import dlrepo.TestServer;
import dlrepo.products.Helpers;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A read-only replica next to a running writer on the same root: it starts while the
 * writer holds the root's lock, serves every kind of read (pages, JSON, files, ranges,
 * dedup probes, archives, registry pulls, {@code /cleanup}), and changes nothing at all in
 * the root: not at start (the writer's uploads in {@code .uploads}, its removals in
 * {@code .trash}, a dirty format with its journal, the missing {@code .formats-checked}
 * all stay), not while serving (no mtime of a probed blob touched), not on SIGHUP or a
 * cleanup request.
 */
class ReplicaTest {
    static final String JOB = "/branches/main/v1/job1/";

    @Test
    void servesEveryReadAndWritesNothing() throws Exception {
        try (TestServer writer = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"))) {
            assertTrue(writer.daemon().cleanup().awaitIdle(30_000));
            Path root = writer.root();
            byte[] big = Replicas.random(300_000, 1);
            writer.uploadFinalized(JOB + "deb/a.deb", "package a");
            assertEquals(201, writer.upload(JOB + "deb/sub/b.bin", big).statusCode());
            assertEquals(200, writer.json("PATCH", JOB + "deb/", "").statusCode());
            assertEquals(200, writer.json("PATCH", JOB, Helpers.productMeta("prod", "var", "main", "1.0"))
                    .statusCode());
            assertEquals(200, writer.json("POST", "/branches/main/v1/",
                    "{\"tag\": {\"stable\": true, \"description\": \"first\"}}").statusCode());
            // a dirty format with a journal the writer is filling
            assertEquals(201, writer.upload("/branches/main/v1/job2/iso/x.iso", "x").statusCode());
            assertEquals(201, writer.upload("/branches/main/v1/job2/iso/y.iso", "y").statusCode());
            assertTrue(Files.exists(root.resolve("branches/main/v1/job2/iso/.digests.journal")));
            writer.anonymous().uploadFinalized("/~alice/branches/b/t/j/f/a.txt", "alice");
            Replicas.Image image = Replicas.push(writer, "main/app", "v1", Replicas.random(50_000, 2));
            // the writer's work in progress: never the replica's to purge
            Files.writeString(root.resolve(".uploads/upload-in-progress"), "half");
            Files.createDirectories(root.resolve(".trash/removal-in-progress/x"));
            Files.writeString(root.resolve(".trash/removal-in-progress/x/f"), "f");
            Files.delete(root.resolve(".formats-checked"));
            Map<String, Replicas.Entry> before = Replicas.snapshot(root);

            // (stopped, never closed: closing a test server deletes its root)
            TestServer replica = Replicas.replica(root, Map.of("DLREPO_PRIMARY_URL", Replicas.PRIMARY));
            try {
                readEverything(replica, big, image);
                replica.daemon().reload();
                replica.daemon().cleanup().schedule(true, "signal");
                JsonNode cleanup = ok(replica, "/cleanup").get("cleanup");
                assertTrue(cleanup.get("read_only").asBoolean());
                assertEquals(Replicas.PRIMARY, cleanup.get("primary_url").asText());
                assertFalse(cleanup.get("running").asBoolean());
                assertEquals(0, cleanup.get("runs").size());
                assertTrue(html(replica, "/cleanup").contains("read-only replica"));
                Replicas.assertSame(before, Replicas.snapshot(root));
            } finally {
                replica.stop();
            }
            Replicas.assertSame(before, Replicas.snapshot(root));
            // the writer goes on as if nothing happened
            assertEquals(201, writer.upload("/branches/main/v1/job2/iso/z.iso", "z").statusCode());
            assertEquals(3, ok(writer, "/branches/main/v1/job2/iso/").get("artifact_format").get("files").size());
        }
    }

    @Test
    void refusesToStartOnWhatIsNotADlrepoRoot(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> Replicas.replica(empty, Map.of()));
        assertEquals("DLREPO_ROOT_DIR=" + empty + ": not a dlrepo root, branches is missing (DLREPO_READ_ONLY=1: "
                + "start the read-write server on it first)", e.getMessage());
        assertEquals(List.of(), Files.list(empty).toList(), "nothing created");
        Path missing = tmp.resolve("missing");
        e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> Replicas.replica(missing, Map.of()));
        assertTrue(e.getMessage().contains("no such folder"), e.getMessage());
        assertFalse(Files.exists(missing));
        Files.createDirectories(empty.resolve("branches"));
        e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> Replicas.replica(empty, Map.of()));
        assertTrue(e.getMessage().contains(".blobs/sha256 is missing"), e.getMessage());
    }

    private static void readEverything(TestServer r, byte[] big, Replicas.Image image) throws Exception {
        List<String> levels = List.of("/", "/branches/", "/branches/main/", "/branches/main/v1/", JOB, JOB + "deb/",
                "/branches/main/v1/job2/", "/branches/main/v1/job2/iso/", "/branches/main/v1/app/container/",
                "/products/", "/products/prod/", "/products/prod/var/", "/products/prod/var/main/",
                "/products/prod/var/main/1.0/", "/products/prod/var/main/1.0/deb/", "/~alice/", "/~alice/branches/",
                "/~alice/branches/b/t/j/f/", "/cleanup");
        for (String level : levels) {
            ok(r, level);
            html(r, level);
        }
        for (String alias : List.of("/branches/main/latest/", "/branches/main/stable/")) {
            HttpResponse<String> a = r.get(alias);
            assertEquals(302, a.statusCode(), alias);
            assertTrue(a.headers().firstValue("Location").orElse("").endsWith("/branches/main/v1/"), alias);
        }
        JsonNode tag = ok(r, "/branches/main/v1/").get("tag");
        assertEquals("first", tag.get("description").asText());
        assertTrue(tag.get("stable").asBoolean());
        JsonNode dirty = ok(r, "/branches/main/v1/job2/iso/").get("artifact_format");
        assertTrue(dirty.get("dirty").asBoolean());
        assertEquals(List.of("x.iso", "y.iso"), names(dirty.get("files")));
        assertEquals(List.of("a.txt"), names(ok(r, "/~alice/branches/b/t/j/f/").get("artifact_format").get("files")));

        // files, ranges, checksums, dedup probes
        assertEquals("package a", r.get(JOB + "deb/a.deb").body());
        HttpResponse<byte[]> whole = r.getBytes(JOB + "deb/sub/b.bin");
        assertArrayEquals(big, whole.body());
        HttpResponse<byte[]> range = r.client().send(r.request(JOB + "deb/sub/b.bin").header("Range", "bytes=1000-1999")
                .GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(206, range.statusCode());
        assertArrayEquals(Arrays.copyOfRange(big, 1000, 2000), range.body());
        assertEquals(200, r.get(JOB + "deb/a.deb.sha256").statusCode());
        assertEquals("x", r.get("/branches/main/v1/job2/iso/x.iso").body());
        assertEquals(200, r.head(JOB + "deb/a.deb").statusCode());
        HttpResponse<String> probe = r.head(JOB + "deb/c.deb", "Digest", TestServer.digest("package a"));
        assertEquals(200, probe.statusCode(), "a dedup probe is a read");
        assertEquals(404, r.head(JOB + "deb/c.deb", "Digest", TestServer.digest("nothing")).statusCode());
        assertEquals(200, r.get("/products/prod/var/main/1.0/deb/a.deb").statusCode());

        // archives
        List<TarReader.Member> job = TarReader.read(r.getBytes("/branches/main/v1/job1.tar").body());
        assertTrue(job.stream().anyMatch(m -> m.name().endsWith("deb/sub/b.bin") && Arrays.equals(big, m.data())),
                () -> job.stream().map(TarReader.Member::name).toList().toString());
        List<TarReader.Member> fmt = TarReader.read(r.getBytes(JOB + "deb.tar").body());
        assertTrue(fmt.stream().anyMatch(m -> m.name().endsWith("a.deb") && m.text().equals("package a")));
        assertEquals(200, r.get(JOB + "deb.sha256").statusCode());
        assertEquals(200, r.getBytes("/products/prod/var/main/1.0.tar").statusCode());
        assertEquals(200, r.getBytes("/branches/main/v1/job2/iso.tar").statusCode());

        // registry pulls
        assertEquals(200, r.get("/v2/").statusCode());
        JsonNode tags = ok(r, "/v2/main/app/tags/list");
        assertTrue(names(tags.get("tags")).contains("v1"), tags::toString);
        for (String ref : List.of("v1", image.manifestDigest())) {
            HttpResponse<byte[]> m = r.client().send(r.request("/v2/main/app/manifests/" + ref)
                    .header("Accept", String.join(", ", Replicas.MANIFEST_TYPES)).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, m.statusCode());
            assertArrayEquals(image.manifest(), m.body());
            assertEquals(200, r.send(r.request("/v2/main/app/manifests/" + ref)
                    .header("Accept", String.join(", ", Replicas.MANIFEST_TYPES))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build()).statusCode());
        }
        for (var b : image.blobs().entrySet()) {
            assertArrayEquals(b.getValue(), r.getBytes("/v2/main/app/blobs/" + b.getKey()).body());
            assertEquals(200, r.head("/v2/main/app/blobs/" + b.getKey()).statusCode());
        }
        assertEquals(200, r.get("/cli").statusCode());
    }

    static List<String> names(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.isTextual() ? n.asText() : n.get("name").asText()));
        return out;
    }

    static JsonNode ok(TestServer s, String path) throws IOException, InterruptedException {
        HttpResponse<String> r = s.get(path);
        assertEquals(200, r.statusCode(), () -> "GET " + path + ": " + r.body());
        return Replicas.JSON.readTree(r.body());
    }

    static String html(TestServer s, String path) throws IOException, InterruptedException {
        HttpResponse<String> r = s.send(s.request(path).header("Accept", "text/html").GET().build());
        assertEquals(200, r.statusCode(), () -> "GET " + path + " (page): " + r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/html"), path);
        return new String(r.body().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    }
}
