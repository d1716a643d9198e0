package dlrepo.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.TestServer;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * A writer and a read-only replica serving the same root (in-process: separate storages,
 * versions and locks, the model of two hosts on shared storage), and what the replica
 * tests share: a snapshot of the whole root, a small registry push.
 */
final class Replicas implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PRIMARY = "https://writer.example.com";

    final TestServer writer;
    final TestServer replica;

    private Replicas(TestServer writer, TestServer replica) {
        this.writer = writer;
        this.replica = replica;
    }

    /** A writer (no cleanup timer, its start-up cleanup done), then a replica on its root. */
    static Replicas start(Map<String, String> writerEnv, Map<String, String> replicaEnv) throws Exception {
        Map<String, String> w = new HashMap<>(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"));
        w.putAll(writerEnv);
        TestServer writer = TestServer.start(w);
        assertTrue(writer.daemon().cleanup().awaitIdle(30_000));
        try {
            return new Replicas(writer, replica(writer.root(), replicaEnv));
        } catch (Exception | Error e) {
            writer.close();
            throw e;
        }
    }

    static Replicas start() throws Exception {
        return start(Map.of(), Map.of("DLREPO_PRIMARY_URL", PRIMARY));
    }

    /** A read-only replica on {@code root}. */
    static TestServer replica(Path root, Map<String, String> env) throws IOException {
        Map<String, String> r = new HashMap<>(Map.of("DLREPO_READ_ONLY", "1"));
        r.putAll(env);
        return TestServer.start(root, r);
    }

    @Override
    public void close() throws IOException {
        replica.stop();
        writer.close();
    }

    /** What identifies the state of an entry: kind, inode, links, mode, size, mtime and ctime (ns). */
    record Entry(String kind, Object inode, int links, int mode, long size, long mtime, long ctime) {
    }

    /** Every entry below {@code root} (itself included), links not followed. */
    static Map<String, Entry> snapshot(Path root) throws IOException {
        Map<String, Entry> all = new TreeMap<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                all.put(root.relativize(dir) + "/", entry(dir, "dir"));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                all.put(root.relativize(file).toString(), entry(file, attrs.isSymbolicLink() ? "link" : "file"));
                return FileVisitResult.CONTINUE;
            }
        });
        return all;
    }

    private static Entry entry(Path p, String kind) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:ino,nlink,mode,size,lastModifiedTime,ctime",
                java.nio.file.LinkOption.NOFOLLOW_LINKS);
        return new Entry(kind, a.get("ino"), (Integer) a.get("nlink"), (Integer) a.get("mode"), (Long) a.get("size"),
                ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS),
                ((FileTime) a.get("ctime")).to(TimeUnit.NANOSECONDS));
    }

    /** The two snapshots are equal; else the entries that differ, named. */
    static void assertSame(Map<String, Entry> before, Map<String, Entry> after) {
        Map<String, String> diff = new TreeMap<>();
        for (String k : before.keySet()) {
            if (!before.get(k).equals(after.get(k))) {
                diff.put(k, before.get(k) + " -> " + after.get(k));
            }
        }
        for (String k : after.keySet()) {
            if (!before.containsKey(k)) {
                diff.put(k, "new " + after.get(k));
            }
        }
        assertEquals(Map.of(), diff, "the root changed");
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** An image pushed through the registry: its manifest digest and its blobs (digest to bytes). */
    record Image(String manifestDigest, byte[] manifest, Map<String, byte[]> blobs) {
    }

    /** Pushes a one-layer OCI image {@code name:ref} ({@code <branch>/<job>:<tag>}) to {@code s}. */
    static Image push(TestServer s, String name, String ref, byte[] layer) throws Exception {
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},"
                + "\"config\":{\"Env\":[\"ID=" + name + ref + "\"]}}").getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> blobs = new TreeMap<>();
        blobs.put(TestServer.digest(config), config);
        blobs.put(TestServer.digest(layer), layer);
        for (var e : blobs.entrySet()) {
            HttpResponse<String> r = s.send(s.request("/v2/" + name + "/blobs/uploads/?digest=" + e.getKey())
                    .header("Content-Type", "application/octet-stream")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(e.getValue())).build());
            assertEquals(201, r.statusCode(), r::body);
        }
        ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        m.set("config", descriptor("application/vnd.oci.image.config.v1+json", config));
        m.putArray("layers").add(descriptor("application/vnd.oci.image.layer.v1.tar", layer));
        byte[] manifest = m.toString().getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> r = s.send(s.request("/v2/" + name + "/manifests/" + ref)
                .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(manifest)).build());
        assertEquals(201, r.statusCode(), r::body);
        return new Image(TestServer.digest(manifest), manifest, blobs);
    }

    private static ObjectNode descriptor(String mediaType, byte[] data) {
        ObjectNode d = JSON.createObjectNode();
        d.put("mediaType", mediaType);
        d.put("digest", TestServer.digest(data));
        d.put("size", data.length);
        return d;
    }

    static final List<String> MANIFEST_TYPES = List.of("application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.v2+json");
}
