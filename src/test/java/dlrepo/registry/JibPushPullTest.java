package dlrepo.registry;

import static dlrepo.registry.Reg.JSON;
import static dlrepo.registry.Reg.assertStatus;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.JibContainerBuilder;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import dlrepo.TestServer;
import dlrepo.products.Helpers;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real OCI client, Jib (as the Maven and Gradle plugins run it), pushes multi-layer
 * images to dlrepo over plain HTTP and pulls them back; the digests and the bytes of every
 * layer must survive the round trip, and the image must land in the job's tree.
 */
class JibPushPullTest {
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"));
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    /** Three layers of distinct sizes (one over the default chunk size), each one file of random bytes. */
    private static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("big.bin", Reg.data(3 * 1024 * 1024 + 17));
        files.put("medium.bin", Reg.data(200_000));
        files.put("small.txt", ("hello " + Reg.unique("jib") + "\n").getBytes());
        for (var e : files.entrySet()) {
            Files.write(dir.resolve(e.getKey()), e.getValue());
        }
        return files;
    }

    private static JibContainerBuilder builder(Path dir, Map<String, byte[]> files) {
        JibContainerBuilder b = Jib.fromScratch();
        for (String name : files.keySet()) {
            b.addFileEntriesLayer(FileEntriesLayer.builder().setName(name)
                    .addEntry(dir.resolve(name), AbsoluteUnixPath.get("/data/" + name)).build());
        }
        return b.setEntrypoint("/data/small.txt").addLabel("test", "dlrepo");
    }

    private static Containerizer containerizer(Containerizer c, Path cache) {
        return c.setAllowInsecureRegistries(true).setToolName("dlrepo-test")
                .setBaseImageLayersCache(cache.resolve("base")).setApplicationLayersCache(cache.resolve("app"));
    }

    @Test
    void dockerFormatPushAndPullBack(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("src"));
        Map<String, byte[]> files = files(dir);
        String job = Reg.unique("jib");
        String ref = "127.0.0.1:" + s.port() + "/main/" + job + ":v1";
        JibContainer c = builder(dir, files).containerize(containerizer(Containerizer.to(RegistryImage.named(ref)),
                tmp.resolve("cache")));

        JsonNode m = checkPulled("main/" + job, "v1", c.getDigest().toString(), Reg.DOCKER_MANIFEST, files);
        assertEquals(Reg.DOCKER_MANIFEST, m.path("mediaType").asText());

        // the image is in the job's tree, next to the other formats
        Path container = s.root().resolve("branches/main/v1/" + job + "/container");
        String hex = c.getDigest().getHash();
        assertTrue(Files.isRegularFile(container.resolve("manifests/sha256/" + hex.substring(0, 2) + "/" + hex)));
        for (JsonNode l : m.get("layers")) {
            String h = l.get("digest").asText().substring(7);
            Path p = container.resolve("blobs/sha256/" + h.substring(0, 2) + "/" + h);
            assertTrue(Files.isRegularFile(p), p.toString());
            assertTrue(Helpers.nlink(p) >= 2, "hard link to the blob store");
        }
        JsonNode jobJson = Helpers.ok(s.get("/branches/main/v1/" + job + "/"));
        assertTrue(jobJson.toString().contains("\"container\""), jobJson.toString());

        // Jib pulls it back (dlrepo as the base image) into a docker tarball
        Path tar = tmp.resolve("pulled.tar");
        Jib.from(RegistryImage.named(ref)).containerize(containerizer(
                Containerizer.to(TarImage.at(tar).named("pulled:1")), tmp.resolve("cache2")));
        Map<String, byte[]> members = Reg.untar(Files.readAllBytes(tar));
        JsonNode tarManifest = JSON.readTree(members.get("manifest.json")).get(0);
        List<String> pulledLayers = new ArrayList<>();
        for (JsonNode l : tarManifest.get("Layers")) {
            byte[] data = members.get(l.asText());
            assertNotNull(data, l.asText() + " in the tarball");
            pulledLayers.add("sha256:" + Helpers.sha256(data));
        }
        List<String> pushedLayers = new ArrayList<>();
        m.get("layers").forEach(l -> pushedLayers.add(l.get("digest").asText()));
        assertEquals(pushedLayers, pulledLayers, "the layers Jib pulled are the ones it pushed");
    }

    @Test
    void ociFormatWithTwoTags(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("src"));
        Map<String, byte[]> files = files(dir);
        String job = Reg.unique("jiboci");
        String ref = "127.0.0.1:" + s.port() + "/main/" + job + ":v1";
        JibContainer c = builder(dir, files).setFormat(ImageFormat.OCI).containerize(containerizer(
                Containerizer.to(RegistryImage.named(ref)).withAdditionalTag("v2"), tmp.resolve("cache")));
        String digest = c.getDigest().toString();
        JsonNode m1 = checkPulled("main/" + job, "v1", digest, Reg.OCI_MANIFEST, files);
        JsonNode m2 = checkPulled("main/" + job, "v2", digest, Reg.OCI_MANIFEST, files);
        assertEquals(m1, m2);
        // both dlrepo tags hold the image, and the blobs are stored once
        JsonNode tags = Reg.json(s.get("/v2/main/" + job + "/tags/list"));
        assertEquals(List.of("v1", "v2"), Reg.strings(tags.get("tags")));
        String layerHex = m1.get("layers").get(0).get("digest").asText().substring(7);
        Path p = s.root().resolve("branches/main/v2/" + job + "/container/blobs/sha256/"
                + layerHex.substring(0, 2) + "/" + layerHex);
        assertEquals(3, Helpers.nlink(p), "store + two tags");
    }

    /**
     * GETs the manifest of {@code tag} and every blob, over plain HTTP: the digests announced
     * and computed agree with Jib's, and each layer, unpacked, holds its source file.
     */
    private static JsonNode checkPulled(String name, String tag, String digest, String mediaType,
            Map<String, byte[]> files) throws Exception {
        HttpResponse<byte[]> r = Reg.sendBytes(s, "GET", "/v2/" + name + "/manifests/" + tag,
                "Accept", Reg.DOCKER_MANIFEST + ", " + Reg.OCI_MANIFEST);
        assertStatus(200, r);
        assertEquals(digest, r.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertEquals(digest, TestServer.digest(r.body()), "served byte for byte");
        assertEquals(mediaType, r.headers().firstValue("Content-Type").orElse(null));
        JsonNode m = JSON.readTree(r.body());
        HttpResponse<byte[]> byDigest = Reg.sendBytes(s, "GET", "/v2/" + name + "/manifests/" + digest);
        assertStatus(200, byDigest);
        assertArrayEquals(r.body(), byDigest.body());

        String configDigest = m.get("config").get("digest").asText();
        HttpResponse<byte[]> cfg = Reg.sendBytes(s, "GET", "/v2/" + name + "/blobs/" + configDigest);
        assertStatus(200, cfg);
        assertEquals(configDigest, TestServer.digest(cfg.body()));
        assertEquals("dlrepo", JSON.readTree(cfg.body()).at("/config/Labels/test").asText());

        Map<String, byte[]> found = new HashMap<>();
        assertEquals(files.size(), m.get("layers").size());
        for (JsonNode l : m.get("layers")) {
            String d = l.get("digest").asText();
            HttpResponse<byte[]> b = Reg.sendBytes(s, "GET", "/v2/" + name + "/blobs/" + d);
            assertStatus(200, b);
            assertEquals(d, TestServer.digest(b.body()), "layer bytes");
            assertEquals(l.get("size").asLong(), b.body().length);
            assertEquals(d, b.headers().firstValue("Docker-Content-Digest").orElse(null));
            byte[] tar = new GZIPInputStream(new ByteArrayInputStream(b.body())).readAllBytes();
            Reg.untar(tar).forEach((n, data) -> found.put(n.replaceFirst("^/?(\\./)?data/", ""), data));
        }
        for (var e : files.entrySet()) {
            assertArrayEquals(e.getValue(), found.get(e.getKey()), e.getKey() + " in the pulled layers " + found.keySet());
        }
        return m;
    }
}
