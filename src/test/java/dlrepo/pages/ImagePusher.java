package dlrepo.pages;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/**
 * Pushes images and artifacts the way a registry client does ({@code POST
 * /v2/<name>/blobs/uploads/?digest=} then {@code PUT /v2/<name>/manifests/<ref>}), as one
 * identity ({@code auth}: an Authorization value, or null), for the tests of the pages.
 */
public final class ImagePusher {
    public static final ObjectMapper JSON = new ObjectMapper();
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    public static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
    public static final String OCI_EMPTY = "application/vnd.oci.empty.v1+json";

    private final TestServer server;
    private final String auth;
    private final String name;

    public ImagePusher(TestServer server, String auth, String name) {
        this.server = server;
        this.auth = auth;
        this.name = name;
    }

    /** Pushes a blob; its descriptor. */
    public ObjectNode blob(byte[] data, String mediaType) throws IOException, InterruptedException {
        String digest = TestServer.digest(data);
        HttpResponse<String> r = server.send(auth, "POST", "/v2/" + name + "/blobs/uploads/?digest=" + digest, data,
                "Content-Type", "application/octet-stream");
        assertEquals(201, r.statusCode(), () -> "blob push: " + r.body());
        return descriptor(mediaType, digest, data.length);
    }

    public ObjectNode blob(String text, String mediaType) throws IOException, InterruptedException {
        return blob(text.getBytes(StandardCharsets.UTF_8), mediaType);
    }

    /** Pushes {@code manifest} under {@code ref} (a tag or its digest); its descriptor. */
    public ObjectNode manifest(String ref, ObjectNode manifest) throws IOException, InterruptedException {
        byte[] bytes = manifest.toString().getBytes(StandardCharsets.UTF_8);
        String digest = TestServer.digest(bytes);
        String mediaType = manifest.path("mediaType").asText();
        HttpResponse<String> r = server.send(auth, "PUT", "/v2/" + name + "/manifests/" + (ref == null ? digest : ref),
                bytes, "Content-Type", mediaType);
        assertEquals(201, r.statusCode(), () -> "manifest push: " + r.body());
        return descriptor(mediaType, digest, bytes.length);
    }

    /** An image manifest over a config and one layer, both pushed; not pushed itself. */
    public ObjectNode image(String os, String arch, String variant) throws IOException, InterruptedException {
        ObjectNode config = JSON.createObjectNode().put("architecture", arch).put("os", os);
        if (variant != null) {
            config.put("variant", variant);
        }
        config.putObject("config").putArray("Env").add("IMAGE=" + System.nanoTime());
        config.putObject("rootfs").put("type", "layers").putArray("diff_ids");
        ObjectNode m = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST);
        m.set("config", blob(config.toString(), OCI_CONFIG));
        m.putArray("layers").add(blob("layer of " + os + "/" + arch + " " + System.nanoTime(), OCI_LAYER));
        return m;
    }

    /**
     * An OCI 1.1 artifact about {@code subject}: empty config, one layer holding
     * {@code payload}, {@code artifactType}, {@code annotations} (key, value, ...); pushed by digest.
     */
    public ObjectNode artifact(ObjectNode subject, String artifactType, String payload, String... annotations)
            throws IOException, InterruptedException {
        ObjectNode m = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST)
                .put("artifactType", artifactType);
        m.set("config", blob("{}", OCI_EMPTY));
        m.putArray("layers").add(blob(payload, artifactType));
        m.set("subject", subject);
        ObjectNode a = m.putObject("annotations");
        for (int i = 0; i + 1 < annotations.length; i += 2) {
            a.put(annotations[i], annotations[i + 1]);
        }
        return manifest(null, m);
    }

    public static ObjectNode descriptor(String mediaType, String digest, long size) {
        return JSON.createObjectNode().put("mediaType", mediaType).put("digest", digest).put("size", size);
    }
}
