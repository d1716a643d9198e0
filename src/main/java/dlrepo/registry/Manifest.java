package dlrepo.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.fs.Digest;
import dlrepo.fs.RepoException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A manifest as pushed, byte for byte (its digest is the SHA-256 of those bytes), and
 * what it references: an image manifest (Docker schema 2 or OCI) its config and layers,
 * an index (OCI image index or Docker manifest list) its child manifests. A referrer
 * (signature, SBOM, attestation) names the manifest it is about in {@code subject}
 * (null otherwise) and has the {@code descriptor} that lists it among the referrers of
 * that subject (null for a manifest without subject).
 */
record Manifest(byte[] bytes, Digest digest, String mediaType, List<Digest> blobs, List<Digest> children,
        Digest subject, ObjectNode descriptor) {
    static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    boolean isIndex() {
        return !children.isEmpty() || mediaType.equals(OCI_INDEX) || mediaType.equals(DOCKER_LIST);
    }

    /** What a referrer's descriptor may carry: it is copied into every listing of its subject's referrers. */
    static final int MAX_REFERRER_DESCRIPTION = 16 * 1024;

    /** MANIFEST_INVALID when this referrer's descriptor (annotations, artifactType) is too large to be listed. */
    void checkReferrerSize() {
        int size = descriptor().toString().length();
        if (size > MAX_REFERRER_DESCRIPTION) {
            throw RegistryError.manifestInvalid("A referrer's annotations and artifactType take at most "
                    + MAX_REFERRER_DESCRIPTION + " characters (they are copied into each referrers listing): "
                    + "this one takes " + size);
        }
    }

    /** Parses a manifest; {@code contentType} (the PUT's header) is used when it names no media type. */
    static Manifest parse(byte[] bytes, String contentType) {
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (IOException e) {
            throw RegistryError.manifestInvalid("not JSON");
        }
        if (root == null || !root.isObject()) {
            throw RegistryError.manifestInvalid("not a JSON object");
        }
        if (root.path("schemaVersion").asInt() != 2) {
            throw RegistryError.manifestInvalid("only schema version 2 manifests are supported");
        }
        String mediaType = root.path("mediaType").asText("");
        List<Digest> blobs = new ArrayList<>();
        List<Digest> children = new ArrayList<>();
        if (root.has("manifests")) {
            if (!root.get("manifests").isArray()) {
                throw RegistryError.manifestInvalid("\"manifests\" is not an array");
            }
            for (JsonNode m : root.get("manifests")) {
                children.add(digest(m, "manifests[].digest"));
            }
            if (mediaType.isEmpty()) {
                mediaType = isManifestType(contentType) ? contentType : OCI_INDEX;
            }
        } else {
            JsonNode config = root.get("config");
            if (config == null || !config.isObject()) {
                throw RegistryError.manifestInvalid("no \"config\"");
            }
            blobs.add(digest(config, "config.digest"));
            JsonNode layers = root.path("layers");
            if (!layers.isArray()) {
                throw RegistryError.manifestInvalid("\"layers\" is not an array");
            }
            for (JsonNode l : layers) {
                Digest d = digest(l, "layers[].digest");
                // foreign layers (with "urls") are fetched from elsewhere, never pushed
                if (!l.has("urls")) {
                    blobs.add(d);
                }
            }
            if (mediaType.isEmpty()) {
                mediaType = isManifestType(contentType) ? contentType : OCI_MANIFEST;
            }
        }
        Digest digest = Digest.of(bytes);
        Digest subject = null;
        ObjectNode descriptor = null;
        if (root.has("subject")) {
            if (!root.get("subject").isObject()) {
                throw RegistryError.manifestInvalid("\"subject\" is not an object");
            }
            subject = digest(root.get("subject"), "subject.digest");
            descriptor = dlrepo.fs.ContainerImage.descriptor(root, mediaType, digest, bytes.length);
        }
        return new Manifest(bytes, digest, mediaType, List.copyOf(blobs), List.copyOf(children), subject,
                descriptor);
    }

    private static boolean isManifestType(String contentType) {
        return contentType != null && (contentType.startsWith("application/vnd.oci.image.")
                || contentType.startsWith("application/vnd.docker.distribution.manifest."));
    }

    private static Digest digest(JsonNode node, String what) {
        try {
            return Digest.parse(node.path("digest").asText(null));
        } catch (RepoException e) {
            throw RegistryError.manifestInvalid(what + ": " + e.getMessage());
        }
    }
}
