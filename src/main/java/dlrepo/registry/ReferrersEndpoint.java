package dlrepo.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.ContainerImage;
import dlrepo.fs.Digest;
import dlrepo.fs.Storage;
import dlrepo.http.Access;
import dlrepo.http.Responses;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code GET /v2/<name>/referrers/<digest>[?artifactType=]}: the manifests that refer to
 * a subject, as an image index (OCI distribution 1.1). Always 200 for a readable name,
 * empty when nothing refers to the digest. Lists the referrers linked into the tags the
 * caller may read ({@code .referrers} of their container format: no manifest is parsed)
 * and the waiting ones the caller may see ({@link ImageContent#waitingVisible}).
 */
final class ReferrersEndpoint {
    private static final HttpString FILTERS_APPLIED = new HttpString("OCI-Filters-Applied");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Storage storage;
    private final Access access;
    private final ImageContent content;
    private final Referrers referrers;

    ReferrersEndpoint(Storage storage, Access access, ImageContent content, Referrers referrers) {
        this.storage = storage;
        this.access = access;
        this.content = content;
        this.referrers = referrers;
    }

    void handle(HttpServerExchange ex, ImageName image, String ref) throws IOException {
        String method = ex.getRequestMethod().toString();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            throw RegistryError.unsupported("Referrers are listed (GET, HEAD), not " + method);
        }
        Digest subject = ManifestEndpoint.digest(ref);
        Map<String, JsonNode> found = new TreeMap<>();
        for (Map.Entry<String, ArtifactFormat> e : image.formats().entrySet()) {
            if (access.canRead(ex, "/v2/" + image.name() + "/manifests/" + e.getKey())) {
                for (JsonNode d : new ContainerImage(e.getValue()).referrers(subject)) {
                    found.putIfAbsent(d.path("digest").asText(), d);
                }
            }
        }
        for (Referrers.Waiting w : referrers.waitingFor(image, subject)) {
            // listed while the store keeps its manifest (the orphan GC decides)
            if (!found.containsKey(w.digest().toString()) && content.waitingVisible(ex, w.pusher())
                    && Files.isRegularFile(storage.blobs().path(w.digest()))) {
                found.put(w.digest().toString(), w.descriptor());
            }
        }
        String type = Responses.queryParam(ex, "artifactType");
        if (type != null) {
            found.values().removeIf(d -> !type.equals(d.path("artifactType").asText(null)));
            ex.getResponseHeaders().put(FILTERS_APPLIED, "artifactType");
        }
        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        index.put("mediaType", Manifest.OCI_INDEX);
        index.putArray("manifests").addAll(found.values());
        Responses.send(ex, 200, Manifest.OCI_INDEX, JSON.writeValueAsBytes(index));
    }
}
