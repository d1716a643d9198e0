package dlrepo.registry;

import static dlrepo.registry.Reg.JSON;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.TestServer;
import dlrepo.products.Helpers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's skopeo (CNCF containers/image, as podman and buildah use it) copies OCI layouts
 * into dlrepo and back out, single-arch and multi-arch ({@code --all}): the manifests and
 * every blob come back byte for byte. Skipped when {@code /usr/bin/skopeo} is missing (CI
 * installs the {@code skopeo} package).
 */
public class SkopeoTest {
    public static final Path SKOPEO = Path.of("/usr/bin/skopeo");
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Files.isExecutable(SKOPEO), "skopeo is not installed (apt-get install skopeo)");
        s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (s != null) {
            s.close();
        }
    }

    // ---- OCI image layouts, written the way the image-spec describes them ----

    /** One regular file in a tar archive. */
    static byte[] tar(String name, byte[] data) {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, "0000644");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", data.length));
        put(h, 136, "00000000000");
        h[156] = '0';
        put(h, 257, "ustar");
        put(h, 263, "00");
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        int padded = (data.length + 511) / 512 * 512;
        byte[] out = new byte[512 + padded + 1024];
        System.arraycopy(h, 0, out, 0, 512);
        System.arraycopy(data, 0, out, 512, data.length);
        return out;
    }

    private static void put(byte[] b, int off, String s) {
        byte[] v = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(v, 0, b, off, v.length);
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    /** An OCI image layout being written: blobs by digest, and the manifests it will index. */
    public static final class Layout {
        public final Path dir;

        public Layout(Path dir) throws IOException {
            this.dir = dir;
            Files.createDirectories(dir.resolve("blobs/sha256"));
            Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\": \"1.0.0\"}");
        }

        ObjectNode blob(byte[] data, String mediaType) throws IOException {
            String digest = TestServer.digest(data);
            Files.write(dir.resolve("blobs/sha256").resolve(digest.substring(7)), data);
            ObjectNode d = JSON.createObjectNode();
            d.put("mediaType", mediaType);
            d.put("digest", digest);
            d.put("size", data.length);
            return d;
        }

        /** An image for {@code arch}: gzipped tar layers of the given sizes (random content), its config and manifest. */
        public ObjectNode image(String arch, int... sizes) throws IOException {
            ArrayNode layers = JSON.createArrayNode();
            ArrayNode diffIds = JSON.createArrayNode();
            for (int i = 0; i < sizes.length; i++) {
                byte[] t = tar("file" + i + "-" + arch + ".bin", Reg.data(sizes[i]));
                diffIds.add(TestServer.digest(t));
                layers.add(blob(gzip(t), Reg.OCI_LAYER));
            }
            ObjectNode config = JSON.createObjectNode();
            config.put("architecture", arch);
            config.put("os", "linux");
            config.putObject("config").putArray("Env").add("ID=" + Reg.unique("skopeo"));
            config.putObject("rootfs").put("type", "layers").set("diff_ids", diffIds);
            ObjectNode m = JSON.createObjectNode();
            m.put("schemaVersion", 2);
            m.put("mediaType", Reg.OCI_MANIFEST);
            m.set("config", blob(config.toString().getBytes(StandardCharsets.UTF_8), Reg.OCI_CONFIG));
            m.set("layers", layers);
            ObjectNode d = blob(m.toPrettyString().getBytes(StandardCharsets.UTF_8), Reg.OCI_MANIFEST);
            d.putObject("platform").put("architecture", arch).put("os", "linux");
            return d;
        }

        public ObjectNode index(List<ObjectNode> children) throws IOException {
            ObjectNode idx = JSON.createObjectNode();
            idx.put("schemaVersion", 2);
            idx.put("mediaType", Reg.OCI_INDEX);
            idx.putArray("manifests").addAll(children);
            return blob(idx.toPrettyString().getBytes(StandardCharsets.UTF_8), Reg.OCI_INDEX);
        }

        /** Writes {@code index.json}, {@code top} under reference {@code ref}. */
        public void tag(ObjectNode top, String ref) throws IOException {
            ObjectNode d = top.deepCopy();
            d.remove("platform");
            d.putObject("annotations").put("org.opencontainers.image.ref.name", ref);
            ObjectNode idx = JSON.createObjectNode();
            idx.put("schemaVersion", 2);
            idx.putArray("manifests").add(d);
            Files.writeString(dir.resolve("index.json"), idx.toString());
        }

        public byte[] read(String digest) throws IOException {
            return Files.readAllBytes(dir.resolve("blobs/sha256").resolve(digest.substring(7)));
        }

        /** Every blob of the layout: digest to bytes. */
        public Map<String, byte[]> blobs() throws IOException {
            Map<String, byte[]> out = new TreeMap<>();
            try (var st = Files.list(dir.resolve("blobs/sha256"))) {
                for (Path p : st.toList()) {
                    out.put("sha256:" + p.getFileName(), Files.readAllBytes(p));
                }
            }
            return out;
        }
    }

    // ---- skopeo ----

    public record Result(int exit, String out, String err) {
    }

    public static Result skopeo(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(SKOPEO.toString(), "--insecure-policy"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Path home = Files.createTempDirectory("skopeo-home-");
        // no credentials or registries.conf of the machine's user
        pb.environment().put("HOME", home.toString());
        pb.environment().put("XDG_RUNTIME_DIR", home.toString());
        pb.environment().remove("REGISTRY_AUTH_FILE");
        Path out = home.resolve("out");
        Path err = home.resolve("err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(
                new java.io.File("/dev/null")));
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("skopeo " + String.join(" ", args) + " timed out");
        }
        Result r = new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        TestServerCleanup.deleteTree(home);
        return r;
    }

    public static Result ok(String... args) throws Exception {
        Result r = skopeo(args);
        assertEquals(0, r.exit(), () -> "skopeo " + String.join(" ", args) + ":\n" + r.err());
        return r;
    }

    private static String ref(TestServer srv, String image) {
        return "docker://127.0.0.1:" + srv.port() + "/" + image;
    }

    /** The layout and {@code back} (copied back out) have the same blobs, byte for byte. */
    public static void assertSameBlobs(Layout src, Layout back) throws IOException {
        Map<String, byte[]> a = src.blobs();
        Map<String, byte[]> b = back.blobs();
        assertEquals(a.keySet(), b.keySet(), "blobs copied back");
        for (String d : a.keySet()) {
            assertArrayEquals(a.get(d), b.get(d), d);
            assertEquals(d, TestServer.digest(b.get(d)));
        }
    }

    @Test
    void singleArchImageRoundTrip(@TempDir Path tmp) throws Exception {
        Layout src = new Layout(tmp.resolve("src"));
        ObjectNode m = src.image("amd64", 3 * 1024 * 1024, 300_000, 1000);
        src.tag(m, "v1");
        String digest = m.get("digest").asText();

        ok("copy", "--dest-tls-verify=false", "oci:" + src.dir + ":v1", ref(s, "main/skopeo:v1"));
        // inspect: the raw manifest is the one pushed, byte for byte
        Result raw = ok("inspect", "--tls-verify=false", "--raw", ref(s, "main/skopeo:v1"));
        assertArrayEquals(src.read(digest), raw.out().getBytes(StandardCharsets.UTF_8));
        JsonNode info = JSON.readTree(ok("inspect", "--tls-verify=false", ref(s, "main/skopeo:v1")).out());
        assertEquals(digest, info.get("Digest").asText());
        assertEquals("amd64", info.get("Architecture").asText());
        assertEquals(List.of("v1"), Reg.strings(info.get("RepoTags")));
        JsonNode byDigest = JSON.readTree(ok("inspect", "--tls-verify=false", ref(s, "main/skopeo@" + digest)).out());
        assertEquals(digest, byDigest.get("Digest").asText());

        Layout back = new Layout(tmp.resolve("back"));
        ok("copy", "--src-tls-verify=false", ref(s, "main/skopeo:v1"), "oci:" + back.dir + ":v1");
        assertSameBlobs(src, back);
        JsonNode idx = JSON.readTree(back.dir.resolve("index.json").toFile());
        assertEquals(digest, idx.at("/manifests/0/digest").asText());

        // the image is the job's container format
        assertEquals(digest + "\n", Files.readString(s.root().resolve("branches/main/v1/skopeo/container/.manifest")));

        // a second push of the same image (every blob exists: skipped after a HEAD) to another tag
        ok("copy", "--dest-tls-verify=false", "oci:" + src.dir + ":v1", ref(s, "main/skopeo:v2"));
        assertEquals(digest, JSON.readTree(ok("inspect", "--tls-verify=false", ref(s, "main/skopeo:v2")).out())
                .get("Digest").asText());
        // and from dlrepo to dlrepo (cross-repository mounts)
        ok("copy", "--src-tls-verify=false", "--dest-tls-verify=false", ref(s, "main/skopeo:v1"),
                ref(s, "dev/copied:v1"));
        assertArrayEquals(src.read(digest), ok("inspect", "--tls-verify=false", "--raw", ref(s, "dev/copied:v1"))
                .out().getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void multiArchIndexRoundTrip(@TempDir Path tmp) throws Exception {
        Layout src = new Layout(tmp.resolve("src"));
        List<ObjectNode> children = List.of(src.image("amd64", 200_000, 1000), src.image("arm64", 200_000, 1000),
                src.image("ppc64le", 5000));
        ObjectNode index = src.index(children);
        src.tag(index, "v1");
        String digest = index.get("digest").asText();

        ok("copy", "--all", "--dest-tls-verify=false", "oci:" + src.dir + ":v1", ref(s, "main/multi:v1"));
        Result raw = ok("inspect", "--tls-verify=false", "--raw", ref(s, "main/multi:v1"));
        assertArrayEquals(src.read(digest), raw.out().getBytes(StandardCharsets.UTF_8));
        for (ObjectNode c : children) {
            String d = c.get("digest").asText();
            Result child = ok("inspect", "--tls-verify=false", "--raw", ref(s, "main/multi@" + d));
            assertArrayEquals(src.read(d), child.out().getBytes(StandardCharsets.UTF_8));
        }
        // the platform choice of a non-raw inspect
        JsonNode arm = JSON.readTree(ok("inspect", "--tls-verify=false", "--override-arch", "arm64",
                ref(s, "main/multi:v1")).out());
        assertEquals("arm64", arm.get("Architecture").asText());
        assertEquals(digest, arm.get("Digest").asText(), "skopeo reports the digest of the tagged index");
        assertEquals(List.of("v1"), Reg.strings(arm.get("RepoTags")));

        Layout back = new Layout(tmp.resolve("back"));
        ok("copy", "--all", "--src-tls-verify=false", ref(s, "main/multi:v1"), "oci:" + back.dir + ":v1");
        assertSameBlobs(src, back);
        assertEquals(digest, JSON.readTree(back.dir.resolve("index.json").toFile()).at("/manifests/0/digest").asText());
    }

    /** A push over the user's quota is refused with DENIED; nothing is linked into the user's tree. */
    @Test
    void pushOverQuotaIsDenied(@TempDir Path tmp) throws Exception {
        try (TestServer q = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0", "DLREPO_USER_QUOTA", "200000"))) {
            Layout small = new Layout(tmp.resolve("small"));
            small.tag(small.image("amd64", 10_000), "v1");
            ok("copy", "--dest-tls-verify=false", "oci:" + small.dir + ":v1", ref(q, "u/alice/main/app:v1"));
            Path user = q.root().resolve("users/alice");
            long usage = Long.parseLong(Files.readString(user.resolve(".disk_usage")).strip());
            assertTrue(usage > 10_000 && usage < 20_000, "usage " + usage);
            List<String> tree = Helpers.artifactFiles(user.resolve("branches"));

            Layout big = new Layout(tmp.resolve("big"));
            big.tag(big.image("amd64", 150_000, 150_000), "v2");
            Result r = skopeo("copy", "--retry-times=0", "--dest-tls-verify=false", "oci:" + big.dir + ":v2",
                    ref(q, "u/alice/main/app:v2"));
            assertNotEquals(0, r.exit(), "the push over quota fails");
            assertTrue(r.err().toLowerCase().contains("denied"), r.err());
            assertTrue(r.err().contains("quota") || r.err().contains("Quota"), r.err());
            assertEquals(usage + "\n", Files.readString(user.resolve(".disk_usage")));
            assertEquals(tree, Helpers.artifactFiles(user.resolve("branches")), "nothing linked");
            assertFalse(Files.exists(user.resolve("branches/main/v2/app/container/.manifest")));
            assertEquals(1, skopeo("inspect", "--tls-verify=false", ref(q, "u/alice/main/app:v2")).exit());
            // the same image outside the user repository has no quota
            ok("copy", "--dest-tls-verify=false", "oci:" + big.dir + ":v2", ref(q, "main/app:v2"));
        }
    }

    /** Deletes a tree (for skopeo's temporary home). */
    static final class TestServerCleanup {
        static void deleteTree(Path p) throws IOException {
            try (var st = Files.walk(p)) {
                st.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
