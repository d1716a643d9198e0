package dlrepo.registry;

import static dlrepo.registry.Reg.JSON;
import static dlrepo.registry.Reg.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.TestServer;
import dlrepo.registry.Reg.Blob;
import dlrepo.registry.Reg.Image;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The requests OCI 1.1 artifact clients send, replayed over HTTP with the checks those
 * clients make on the answers (no Debian package ships cosign, notation or oras):
 * go-containerregistry's blob push (POST, PATCH, PUT) and oras-go's (HEAD, POST, PUT),
 * manifest PUT by digest answered by {@code OCI-Subject}, the referrers listing whose
 * {@code Content-Type} must be exactly the image index type (else oras-go falls back to
 * the tag schema), manifest and blob fetches checked against their descriptors. Plus the
 * on-disk view of a tag's {@code container} format.
 */
final class OciClient {
    static final String EMPTY_JSON = "application/vnd.oci.empty.v1+json";
    /** {@code {}}: the empty config of OCI 1.1 artifacts (image-spec "guidelines for artifact usage"). */
    static final Blob EMPTY = Blob.of("{}".getBytes(StandardCharsets.UTF_8), EMPTY_JSON);
    static final String ZERO_DIGEST = "sha256:" + "0".repeat(64);
    static final String MANIFEST_ACCEPT = String.join(", ", Reg.OCI_MANIFEST, Reg.OCI_INDEX, Reg.DOCKER_MANIFEST,
            Reg.DOCKER_LIST);

    private final TestServer s;
    private final String auth;

    OciClient(TestServer s, String auth) {
        this.s = s;
        this.auth = auth;
    }

    OciClient(TestServer s) {
        this(s, null);
    }

    HttpResponse<String> send(String method, String path, byte[] body, String... headers)
            throws IOException, InterruptedException {
        return s.send(auth, method, path, body, headers);
    }

    private HttpResponse<byte[]> sendBytes(String method, String path, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = s.request(path).method(method, HttpRequest.BodyPublishers.noBody());
        if (auth != null) {
            b.header("Authorization", auth);
        }
        if (headers.length > 0) {
            b.headers(headers);
        }
        return s.client().send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** A descriptor {@code {mediaType, digest, size}}. */
    static ObjectNode descriptor(String mediaType, String digest, long size) {
        ObjectNode d = JSON.createObjectNode();
        d.put("mediaType", mediaType);
        d.put("digest", digest);
        d.put("size", size);
        return d;
    }

    static ObjectNode descriptor(Image img) {
        return descriptor(img.mediaType(), img.digest(), img.bytes().length);
    }

    /** A manifest's bytes as pushed: digest and media type, its blobs (config first). */
    static Image image(ObjectNode manifest, List<Blob> blobs) {
        byte[] bytes = manifest.toString().getBytes(StandardCharsets.UTF_8);
        return new Image(bytes, TestServer.digest(bytes), manifest.path("mediaType").asText(Reg.OCI_MANIFEST),
                blobs.isEmpty() ? null : blobs.get(0), blobs.isEmpty() ? List.of() : blobs.subList(1, blobs.size()));
    }

    /** HEAD of a manifest by tag or digest (oras-go Resolve, go-containerregistry Head): its descriptor. */
    ObjectNode resolve(String name, String ref) throws IOException, InterruptedException {
        HttpResponse<String> r = send("HEAD", "/v2/" + name + "/manifests/" + ref, null, "Accept", MANIFEST_ACCEPT);
        assertStatus(200, r);
        String digest = r.headers().firstValue("Docker-Content-Digest").orElseThrow();
        long size = r.headers().firstValueAsLong("Content-Length").orElse(-1);
        assertTrue(size > 0, "Content-Length of HEAD " + ref);
        if (ref.startsWith("sha256:")) {
            assertEquals(ref, digest);
        }
        return descriptor(r.headers().firstValue("Content-Type").orElseThrow(), digest, size);
    }

    /** oras-go: HEAD the blob, and only when it is missing POST then PUT {@code ?digest=} with the body. */
    void pushBlobOras(String name, Blob b) throws IOException, InterruptedException {
        HttpResponse<String> head = send("HEAD", "/v2/" + name + "/blobs/" + b.digest(), null);
        if (head.statusCode() == 200) {
            assertEquals(String.valueOf(b.data().length), head.headers().firstValue("Content-Length").orElse(null));
            return;
        }
        assertStatus(404, head);
        HttpResponse<String> post = send("POST", "/v2/" + name + "/blobs/uploads/", null);
        assertStatus(202, post);
        HttpResponse<String> put = send("PUT", Reg.withParam(Reg.location(post), "digest=" + b.digest()), b.data(),
                "Content-Type", "application/octet-stream");
        assertStatus(201, put);
        assertEquals(b.digest(), put.headers().firstValue("Docker-Content-Digest").orElse(null));
    }

    /** go-containerregistry's remote.WriteLayer: HEAD, POST, PATCH with the body, PUT {@code ?digest=}. */
    void pushBlobGgcr(String name, Blob b) throws IOException, InterruptedException {
        HttpResponse<String> head = send("HEAD", "/v2/" + name + "/blobs/" + b.digest(), null);
        if (head.statusCode() == 200) {
            return;
        }
        HttpResponse<String> post = send("POST", "/v2/" + name + "/blobs/uploads/", null);
        assertStatus(202, post);
        HttpResponse<String> patch = send("PATCH", Reg.location(post), b.data(), "Content-Type",
                "application/octet-stream");
        assertStatus(202, patch);
        HttpResponse<String> put = send("PUT", Reg.withParam(Reg.location(patch), "digest=" + b.digest()), null);
        assertStatus(201, put);
    }

    /**
     * PUT of a manifest with a subject by its digest, as every OCI 1.1 client pushes one: 201,
     * {@code Location}, {@code Docker-Content-Digest} and {@code OCI-Subject} (oras-go marks
     * the registry as supporting the referrers API from that header alone).
     */
    HttpResponse<String> pushReferrer(String name, Image referrer, String subject) throws IOException, InterruptedException {
        HttpResponse<String> r = send("PUT", "/v2/" + name + "/manifests/" + referrer.digest(), referrer.bytes(),
                "Content-Type", referrer.mediaType());
        assertStatus(201, r);
        assertEquals(referrer.digest(), r.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertEquals(subject, r.headers().firstValue("OCI-Subject").orElse(null), "OCI-Subject of " + r.uri());
        assertTrue(Reg.location(r).endsWith("/v2/" + name + "/manifests/" + referrer.digest()), Reg.location(r));
        return r;
    }

    /**
     * {@code GET /v2/<name>/referrers/<digest>[?artifactType=]}: 200, exactly the image index
     * content type, the index shape, sorted by digest; with a filter the {@code
     * OCI-Filters-Applied} header and only that type. Returns the descriptors.
     */
    List<JsonNode> referrers(String name, String digest, String artifactType) throws IOException, InterruptedException {
        String path = "/v2/" + name + "/referrers/" + digest
                + (artifactType == null ? "" : "?artifactType=" + URLEncoder.encode(artifactType, StandardCharsets.UTF_8));
        HttpResponse<String> r = send("GET", path, null, "Accept", Reg.OCI_INDEX);
        assertStatus(200, r);
        assertEquals(Reg.OCI_INDEX, r.headers().firstValue("Content-Type").orElse(null), "Content-Type of " + path);
        JsonNode index = JSON.readTree(r.body());
        assertEquals(2, index.path("schemaVersion").asInt(), r.body());
        assertEquals(Reg.OCI_INDEX, index.path("mediaType").asText(), r.body());
        assertTrue(index.path("manifests").isArray(), r.body());
        List<JsonNode> out = new ArrayList<>();
        index.get("manifests").forEach(out::add);
        for (int i = 1; i < out.size(); i++) {
            assertTrue(out.get(i - 1).get("digest").asText().compareTo(out.get(i).get("digest").asText()) < 0,
                    "sorted by digest, no duplicate: " + r.body());
        }
        if (artifactType != null) {
            assertEquals("artifactType", r.headers().firstValue("OCI-Filters-Applied").orElse(null), path);
            out.forEach(d -> assertEquals(artifactType, d.path("artifactType").asText(), r.body()));
        }
        return out;
    }

    /** The digests of {@link #referrers}. */
    List<String> referrerDigests(String name, String digest, String artifactType) throws IOException, InterruptedException {
        return referrers(name, digest, artifactType).stream().map(d -> d.get("digest").asText()).toList();
    }

    /**
     * oras-go's manifest Fetch: GET by digest with {@code Accept} = the descriptor's type; the
     * answer's type, length and digest must match it. Returns the parsed manifest.
     */
    JsonNode fetchManifest(String name, JsonNode desc) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = sendBytes("GET", "/v2/" + name + "/manifests/" + desc.get("digest").asText(), "Accept",
                desc.get("mediaType").asText());
        assertStatus(200, r);
        assertEquals(desc.get("mediaType").asText(), r.headers().firstValue("Content-Type").orElse(null));
        assertEquals(desc.get("size").asLong(), r.body().length);
        assertEquals(desc.get("digest").asText(), r.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertEquals(desc.get("digest").asText(), TestServer.digest(r.body()));
        return JSON.readTree(r.body());
    }

    /** A blob by its descriptor, checked against its digest and size. */
    byte[] fetchBlob(String name, JsonNode desc) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = sendBytes("GET", "/v2/" + name + "/blobs/" + desc.get("digest").asText());
        assertStatus(200, r);
        assertEquals(desc.get("size").asLong(), r.body().length);
        assertEquals(desc.get("digest").asText(), TestServer.digest(r.body()));
        return r.body();
    }

    int manifestStatus(String name, String ref) throws IOException, InterruptedException {
        return send("GET", "/v2/" + name + "/manifests/" + ref, null, "Accept", MANIFEST_ACCEPT).statusCode();
    }

    int blobStatus(String name, String digest) throws IOException, InterruptedException {
        return send("GET", "/v2/" + name + "/blobs/" + digest, null).statusCode();
    }

    /** The real tags of {@code name} (404: none). */
    List<String> tags(String name) throws IOException, InterruptedException {
        HttpResponse<String> r = send("GET", "/v2/" + name + "/tags/list", null);
        if (r.statusCode() == 404) {
            return List.of();
        }
        return Reg.strings(Reg.json(r).get("tags"));
    }

    // ---- the container format of a tag, on disk ----

    /** {@code branches/<branch>/<tag>/<job>/container} of a {@code <branch>/<job>} image name. */
    static Path container(TestServer s, String name, String tag) {
        int slash = name.indexOf('/');
        return s.root().resolve("branches").resolve(name.substring(0, slash)).resolve(tag)
                .resolve(name.substring(slash + 1)).resolve("container");
    }

    static String rel(String kind, String digest) {
        String hex = digest.substring("sha256:".length());
        return kind + "/sha256/" + hex.substring(0, 2) + "/" + hex;
    }

    /** The {@code .referrers} index of a format: subject digest → descriptors (empty when the file is absent). */
    static Map<String, List<JsonNode>> referrersFile(Path container) throws IOException {
        Path f = container.resolve(".referrers");
        Map<String, List<JsonNode>> out = new java.util.LinkedHashMap<>();
        if (!Files.exists(f)) {
            return out;
        }
        JsonNode root = JSON.readTree(f.toFile());
        List<String> keys = new ArrayList<>();
        root.fieldNames().forEachRemaining(keys::add);
        assertEquals(keys.stream().sorted().toList(), keys, ".referrers keys sorted: " + root);
        for (String k : keys) {
            List<JsonNode> l = new ArrayList<>();
            root.get(k).forEach(l::add);
            assertTrue(!l.isEmpty(), "no empty entry in " + f + ": " + root);
            out.put(k, l);
        }
        return out;
    }

    /** The {@code .digests} of a format: relative path → digest. */
    static Map<String, String> digestsFile(Path container) throws IOException {
        Map<String, String> out = new java.util.TreeMap<>();
        JsonNode root = JSON.readTree(container.resolve(".digests").toFile());
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    /**
     * Asserts that the manifest {@code digest} and everything it references (config, layers,
     * children of an index) are files of {@code container}, in its {@code .digests}, byte for
     * byte what the digests say.
     */
    static void assertLinked(Path container, String digest) throws IOException {
        Map<String, String> digests = digestsFile(container);
        Path m = container.resolve(rel("manifests", digest));
        assertTrue(Files.isRegularFile(m), m + " exists");
        assertEquals(digest, digests.get(rel("manifests", digest)), "in .digests of " + container);
        byte[] bytes = Files.readAllBytes(m);
        assertEquals(digest, TestServer.digest(bytes));
        JsonNode manifest = JSON.readTree(bytes);
        List<JsonNode> blobs = new ArrayList<>();
        if (manifest.has("config")) {
            blobs.add(manifest.get("config"));
        }
        manifest.path("layers").forEach(blobs::add);
        manifest.path("blobs").forEach(blobs::add);
        for (JsonNode b : blobs) {
            String d = b.get("digest").asText();
            Path p = container.resolve(rel("blobs", d));
            assertTrue(Files.isRegularFile(p), p + " (blob of " + digest + ") exists");
            assertEquals(d, digests.get(rel("blobs", d)), "blob " + d + " in .digests of " + container);
        }
        for (JsonNode c : manifest.path("manifests")) {
            assertLinked(container, c.get("digest").asText());
        }
    }

    /** Asserts that {@code container}'s {@code .referrers} lists exactly {@code expected} for {@code subject}. */
    static void assertReferrersFile(Path container, String subject, List<String> expected) throws IOException {
        List<JsonNode> l = referrersFile(container).getOrDefault(subject, List.of());
        assertEquals(expected.stream().sorted().toList(), l.stream().map(d -> d.get("digest").asText()).toList(),
                ".referrers of " + container + " for " + subject);
    }
}
