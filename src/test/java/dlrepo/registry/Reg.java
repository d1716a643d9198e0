package dlrepo.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.TestServer;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small registry client over {@link TestServer}'s HTTP client, written from the OCI
 * distribution specification: blob pushes (monolithic, POST+PUT, chunked), manifests
 * built from descriptors, and the checks every answer of {@code /v2/} must pass.
 */
final class Reg {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
    static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    static final String DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private Reg() {
    }

    /** A lowercase name unique in this JVM. */
    static String unique(String base) {
        return base + COUNTER.incrementAndGet();
    }

    /** {@code n} pseudo-random bytes that no other call of this JVM returns. */
    static byte[] data(int n) {
        byte[] b = new byte[n];
        new Random(COUNTER.incrementAndGet() * 7919L + System.nanoTime()).nextBytes(b);
        return b;
    }

    /** A blob of the test and its descriptor. */
    record Blob(byte[] data, String digest, String mediaType) {
        static Blob of(byte[] data, String mediaType) {
            return new Blob(data, TestServer.digest(data), mediaType);
        }

        ObjectNode descriptor() {
            ObjectNode d = JSON.createObjectNode();
            d.put("mediaType", mediaType);
            d.put("digest", digest);
            d.put("size", data.length);
            return d;
        }

        String hex() {
            return digest.substring("sha256:".length());
        }
    }

    /** A manifest as pushed: its exact bytes, digest and media type, and the blobs it references. */
    record Image(byte[] bytes, String digest, String mediaType, Blob config, List<Blob> layers) {
        String hex() {
            return digest.substring("sha256:".length());
        }

        String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    /** An image config (JSON) for {@code arch}, unique. */
    static Blob config(String arch, String configType) {
        ObjectNode c = JSON.createObjectNode();
        c.put("architecture", arch);
        c.put("os", "linux");
        c.putObject("config").putArray("Env").add("UNIQUE=" + unique("x"));
        c.putObject("rootfs").put("type", "layers").putArray("diff_ids");
        return Blob.of(c.toString().getBytes(StandardCharsets.UTF_8), configType);
    }

    /** An image manifest of {@code mediaType} (OCI or Docker schema 2) over config and layers; some odd spacing so that re-serializing it would change its digest. */
    static Image manifest(String mediaType, Blob config, List<Blob> layers) {
        ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", mediaType);
        m.set("config", config.descriptor());
        ArrayNode l = m.putArray("layers");
        layers.forEach(b -> l.add(b.descriptor()));
        byte[] bytes = ("{ " + m.toString().substring(1) + "\n").getBytes(StandardCharsets.UTF_8);
        return new Image(bytes, TestServer.digest(bytes), mediaType, config, layers);
    }

    /** An index (OCI image index or Docker manifest list) over {@code children}. */
    static Image index(String mediaType, List<Image> children, List<String> archs) {
        ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", mediaType);
        ArrayNode l = m.putArray("manifests");
        for (int i = 0; i < children.size(); i++) {
            Image c = children.get(i);
            ObjectNode d = l.addObject();
            d.put("mediaType", c.mediaType());
            d.put("digest", c.digest());
            d.put("size", c.bytes().length);
            d.putObject("platform").put("architecture", archs.get(i)).put("os", "linux");
        }
        byte[] bytes = m.toPrettyString().getBytes(StandardCharsets.UTF_8);
        return new Image(bytes, TestServer.digest(bytes), mediaType, null, List.of());
    }

    /** Config + {@code layers} random layers of {@code size} bytes, pushed monolithically, and their manifest (not pushed). */
    static Image pushBlobs(TestServer s, String name, String mediaType, String arch, int layers, int size)
            throws IOException, InterruptedException {
        boolean docker = mediaType.equals(DOCKER_MANIFEST);
        Blob config = config(arch, docker ? DOCKER_CONFIG : OCI_CONFIG);
        List<Blob> ls = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            ls.add(Blob.of(data(size), docker ? DOCKER_LAYER : OCI_LAYER));
        }
        pushBlob(s, name, config);
        for (Blob b : ls) {
            pushBlob(s, name, b);
        }
        return manifest(mediaType, config, ls);
    }

    /** Pushes blobs and the manifest under {@code tag}; asserts 201. */
    static Image pushImage(TestServer s, String name, String tag, String mediaType, int layers, int size)
            throws IOException, InterruptedException {
        Image img = pushBlobs(s, name, mediaType, "amd64", layers, size);
        HttpResponse<String> r = putManifest(s, name, tag, img);
        assertStatus(201, r);
        return img;
    }

    /** Monolithic upload: {@code POST /v2/<name>/blobs/uploads/?digest=} with the body; asserts 201. */
    static void pushBlob(TestServer s, String name, Blob b) throws IOException, InterruptedException {
        HttpResponse<String> r = post(s, "/v2/" + name + "/blobs/uploads/?digest=" + b.digest(), b.data());
        assertStatus(201, r);
        assertEquals(b.digest(), r.headers().firstValue("Docker-Content-Digest").orElse(null));
    }

    static HttpResponse<String> post(TestServer s, String path, byte[] body) throws IOException, InterruptedException {
        return s.send(s.request(path).header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
    }

    static HttpResponse<String> send(TestServer s, String method, String path, byte[] body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = s.request(path).method(method, body == null
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return s.send(b.build());
    }

    static HttpResponse<byte[]> sendBytes(TestServer s, String method, String path, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = s.request(path).method(method, HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            b.headers(headers);
        }
        return s.client().send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static HttpResponse<String> putManifest(TestServer s, String name, String ref, Image img)
            throws IOException, InterruptedException {
        return putManifest(s, name, ref, img.mediaType(), img.bytes());
    }

    static HttpResponse<String> putManifest(TestServer s, String name, String ref, String contentType, byte[] bytes)
            throws IOException, InterruptedException {
        return send(s, "PUT", "/v2/" + name + "/manifests/" + ref, bytes, "Content-Type", contentType);
    }

    /** The {@code Location} of a response, resolved against the server (it may be relative). */
    static String location(HttpResponse<?> r) {
        String loc = r.headers().firstValue("Location").orElse(null);
        assertNotNull(loc, () -> "Location of " + r.request().method() + " " + r.uri());
        if (loc.startsWith("http://")) {
            loc = loc.substring(loc.indexOf('/', "http://".length()));
        }
        return loc;
    }

    /** Appends a query parameter to a Location that may already have a query. */
    static String withParam(String location, String param) {
        return location + (location.contains("?") ? "&" : "?") + param;
    }

    static void assertStatus(int expected, HttpResponse<?> r) {
        assertEquals(expected, r.statusCode(), () -> r.request().method() + " " + r.uri() + ": "
                + (r.body() instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : r.body()));
        assertApiVersion(r);
    }

    static void assertApiVersion(HttpResponse<?> r) {
        assertEquals("registry/2.0", r.headers().firstValue("Docker-Distribution-Api-Version").orElse(null),
                () -> "Docker-Distribution-Api-Version of " + r.request().method() + " " + r.uri());
    }

    /**
     * Asserts an error of the distribution specification: the status, the API version header
     * and (for non-HEAD requests) a body {@code {"errors": [{"code", "message", "detail"}]}}
     * whose first code is {@code code}. Returns the error.
     */
    static JsonNode assertError(HttpResponse<String> r, int status, String code) throws IOException {
        assertStatus(status, r);
        if (r.request().method().equals("HEAD")) {
            return null;
        }
        String ct = r.headers().firstValue("Content-Type").orElse("");
        assertTrue(ct.startsWith("application/json"), "JSON error expected, got " + ct + ": " + r.body());
        JsonNode body = JSON.readTree(r.body());
        assertTrue(body.path("errors").isArray() && body.get("errors").size() >= 1,
                () -> "errors array expected: " + r.body());
        JsonNode e = body.get("errors").get(0);
        assertEquals(code, e.path("code").asText(), () -> "code of " + r.request().method() + " " + r.uri()
                + ": " + r.body());
        assertTrue(e.has("message") && e.get("message").isTextual() && !e.get("message").asText().isEmpty(),
                () -> "message expected: " + r.body());
        assertTrue(e.has("detail"), () -> "detail expected: " + r.body());
        for (var it = e.fieldNames(); it.hasNext();) {
            String f = it.next();
            assertTrue(List.of("code", "message", "detail").contains(f), "unexpected field " + f + ": " + r.body());
        }
        return e;
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        assertStatus(200, r);
        return JSON.readTree(r.body());
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** The regular files of a tar archive (ustar, GNU or pax), by name; other members are skipped. */
    static java.util.Map<String, byte[]> untar(byte[] tar) {
        java.util.Map<String, byte[]> out = new java.util.LinkedHashMap<>();
        int off = 0;
        String longName = null;
        while (off + 512 <= tar.length) {
            boolean zero = true;
            for (int i = off; i < off + 512 && zero; i++) {
                zero = tar[i] == 0;
            }
            if (zero) {
                break;
            }
            String name = field(tar, off, 100);
            String prefix = new String(tar, off + 257, 5, StandardCharsets.US_ASCII).equals("ustar")
                    ? field(tar, off + 345, 155) : "";
            if (!prefix.isEmpty()) {
                name = prefix + "/" + name;
            }
            String sizeText = field(tar, off + 124, 12).trim();
            int size = sizeText.isEmpty() ? 0 : (int) Long.parseLong(sizeText, 8);
            char type = (char) tar[off + 156];
            byte[] data = java.util.Arrays.copyOfRange(tar, off + 512, off + 512 + size);
            off += 512 + (size + 511) / 512 * 512;
            if (type == 'x') {
                for (String rec : new String(data, StandardCharsets.UTF_8).split("\n")) {
                    int sp = rec.indexOf(' ');
                    if (sp > 0 && rec.startsWith("path=", sp + 1)) {
                        longName = rec.substring(sp + 1 + "path=".length());
                    }
                }
                continue;
            }
            if (type == 'L') {
                longName = new String(data, StandardCharsets.UTF_8).replace("\0", "");
                continue;
            }
            if (longName != null) {
                name = longName;
                longName = null;
            }
            if (type == '0' || type == 0) {
                out.put(name, data);
            }
        }
        return out;
    }

    private static String field(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }
}
