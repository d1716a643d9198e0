package dlrepo.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.Check;
import dlrepo.DaemonProcess;
import dlrepo.TestServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writer and replica as real processes on one root: an image pushed to the writer with
 * skopeo is pulled from the replica byte for byte, a push to the replica fails naming the
 * read-only replica, SIGUSR1 on the replica deletes nothing (an orphan blob the writer
 * would collect stays), and a replica on a folder that is not a dlrepo root exits 1.
 */
class ReplicaProcessTest {
    static final Path SKOPEO = Path.of("/usr/bin/skopeo");

    record Result(int exit, String out, String err) {
    }

    static Result skopeo(Path home, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(SKOPEO.toString(), "--insecure-policy"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("HOME", home.toString());
        pb.environment().put("XDG_RUNTIME_DIR", home.toString());
        pb.environment().remove("REGISTRY_AUTH_FILE");
        Path out = Files.createTempFile(home, "out", "");
        Path err = Files.createTempFile(home, "err", "");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("skopeo timed out");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** A one-layer OCI layout tagged {@code v1}; returns its blobs (digest to bytes). */
    static Map<String, byte[]> layout(Path dir, Path work) throws Exception {
        Files.createDirectories(dir.resolve("blobs/sha256"));
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\": \"1.0.0\"}");
        Path content = Files.createDirectories(work.resolve("content"));
        Files.write(content.resolve("data.bin"), Replicas.random(3 * 1024 * 1024, 31));
        Path tar = work.resolve("layer.tar");
        Process t = new ProcessBuilder("tar", "-cf", tar.toString(), "-C", content.toString(), "data.bin")
                .inheritIO().start();
        assertEquals(0, t.waitFor());
        byte[] layer = Files.readAllBytes(tar);
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\","
                + "\"diff_ids\":[\"" + TestServer.digest(layer) + "\"]}}").getBytes(StandardCharsets.UTF_8);
        ObjectNode m = Replicas.JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        m.set("config", descriptor("application/vnd.oci.image.config.v1+json", config));
        m.putArray("layers").add(descriptor("application/vnd.oci.image.layer.v1.tar", layer));
        byte[] manifest = m.toPrettyString().getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> blobs = new TreeMap<>();
        for (byte[] b : List.of(layer, config, manifest)) {
            blobs.put(TestServer.digest(b), b);
            Files.write(dir.resolve("blobs/sha256").resolve(TestServer.digest(b).substring(7)), b);
        }
        ObjectNode top = descriptor("application/vnd.oci.image.manifest.v1+json", manifest);
        top.putObject("annotations").put("org.opencontainers.image.ref.name", "v1");
        ObjectNode index = Replicas.JSON.createObjectNode();
        index.put("schemaVersion", 2);
        index.putArray("manifests").add(top);
        Files.writeString(dir.resolve("index.json"), index.toString());
        return blobs;
    }

    static ObjectNode descriptor(String mediaType, byte[] data) {
        ObjectNode d = Replicas.JSON.createObjectNode();
        d.put("mediaType", mediaType);
        d.put("digest", TestServer.digest(data));
        d.put("size", data.length);
        return d;
    }

    @Test
    void skopeoPushToTheWriterPullFromTheReplicaAndSigusr1DeletesNothing(@TempDir Path tmp) throws Exception {
        assumeTrue(Files.isExecutable(SKOPEO), "skopeo is not installed (apt-get install skopeo)");
        Path root = Files.createDirectories(tmp.resolve("root"));
        Path home = Files.createDirectories(tmp.resolve("home"));
        Map<String, byte[]> blobs = layout(tmp.resolve("src"), tmp);
        try (DaemonProcess writer = DaemonProcess.start(root, Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0",
                "DLREPO_ORPHAN_BLOB_LIFETIME", "0"));
                DaemonProcess replica = DaemonProcess.start(root, Map.of("DLREPO_READ_ONLY", "1",
                        "DLREPO_PRIMARY_URL", Replicas.PRIMARY, "DLREPO_ORPHAN_BLOB_LIFETIME", "0"))) {
            Result push = skopeo(home, "copy", "--dest-tls-verify=false", "oci:" + tmp.resolve("src") + ":v1",
                    "docker://127.0.0.1:" + writer.port() + "/main/app:v1");
            assertEquals(0, push.exit(), push::err);
            // skopeo may compress the layer on the way in: the writer's copy is the reference
            Map<String, byte[]> fromWriter = pull(home, writer, tmp.resolve("back-writer"));
            Map<String, byte[]> fromReplica = pull(home, replica, tmp.resolve("back-replica"));
            assertEquals(3, fromWriter.size());
            assertEquals(fromWriter.keySet(), fromReplica.keySet());
            for (var e : fromWriter.entrySet()) {
                assertArrayEquals(e.getValue(), fromReplica.get(e.getKey()), e.getKey());
                assertEquals(e.getKey(), TestServer.digest(fromReplica.get(e.getKey())));
            }
            byte[] config = blobs.values().stream().filter(b -> b[0] == '{' && new String(b, StandardCharsets.UTF_8)
                    .contains("rootfs")).findFirst().orElseThrow();
            assertArrayEquals(config, fromReplica.get(TestServer.digest(config)), "the image config as pushed");
            Result refused = skopeo(home, "copy", "--retry-times=0", "--dest-tls-verify=false",
                    "oci:" + tmp.resolve("src") + ":v1", "docker://127.0.0.1:" + replica.port() + "/main/app:v2");
            assertNotEquals(0, refused.exit());
            assertTrue(refused.err().contains("read-only replica"), refused::err);

            // an orphan blob the writer's collector would delete: the replica's SIGUSR1 leaves it
            Path orphan = root.resolve(".blobs/sha256/ab").resolve("ab".repeat(32));
            Files.createDirectories(orphan.getParent());
            Files.writeString(orphan, "orphan");
            Files.setLastModifiedTime(orphan, java.nio.file.attribute.FileTime.fromMillis(0));
            Map<String, Replicas.Entry> before = Replicas.snapshot(root);
            replica.signal("USR1");
            assertTrue(Check.eventually(10_000, () -> {
                try {
                    return replica.log().contains("cleanup runs on the read-write server");
                } catch (java.io.IOException e) {
                    return false;
                }
            }), "the replica logs that cleanup runs on the writer");
            Thread.sleep(500);
            Replicas.assertSame(before, Replicas.snapshot(root));
            assertTrue(replica.process().isAlive());
            assertTrue(replica.log().contains("DLREPO_READ_ONLY=1: ignored on a read-only replica: "
                    + "DLREPO_ORPHAN_BLOB_LIFETIME"), replica.log());
            // the writer's does collect it
            writer.signal("USR1");
            assertTrue(Check.eventually(20_000, () -> !Files.exists(orphan)));
        }
    }

    /** Pulls {@code main/app:v1} into an OCI layout; its blobs (digest to bytes). */
    static Map<String, byte[]> pull(Path home, DaemonProcess from, Path dir) throws Exception {
        Result r = skopeo(home, "copy", "--src-tls-verify=false",
                "docker://127.0.0.1:" + from.port() + "/main/app:v1", "oci:" + dir + ":v1");
        assertEquals(0, r.exit(), r::err);
        Map<String, byte[]> out = new TreeMap<>();
        try (var st = Files.list(dir.resolve("blobs/sha256"))) {
            for (Path p : st.toList()) {
                out.put("sha256:" + p.getFileName(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    @Test
    void aReplicaOnWhatIsNotADlrepoRootExits1(@TempDir Path tmp) throws Exception {
        try (DaemonProcess p = DaemonProcess.spawn(tmp, Map.of("DLREPO_READ_ONLY", "1"))) {
            assertEquals(1, p.waitFor(30));
            assertTrue(p.log().contains("dlrepo: cannot start: DLREPO_ROOT_DIR=" + tmp + ": not a dlrepo root"),
                    p.log());
        }
        assertEquals(List.of(), Files.list(tmp).toList());
    }
}
