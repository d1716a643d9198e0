package dlrepo.views;

import dlrepo.http.Access;
import dlrepo.http.HttpError;
import dlrepo.http.Responses;
import dlrepo.http.Target;
import dlrepo.http.Urls;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.cleanup.CleanupTrigger;
import dlrepo.fs.Job;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** {@code /branches/<b>/<t>/<j>/}: job details, lock/internal, metadata, delete. */
public final class JobHandler implements HttpHandler {
    /** Fields of the job view that metadata may not shadow. */
    private static final Set<String> RESERVED =
            Set.of("name", "locked", "released", "internal", "timestamp", "digest", "artifact_formats");

    private final CleanupTrigger cleanup;
    private final Access access;

    public JobHandler(CleanupTrigger cleanup, Access access) {
        this.cleanup = cleanup;
        this.access = access;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        Job job = Target.of(ex).job();
        switch (ex.getRequestMethod().toString()) {
            case "GET", "HEAD" -> {
                requireExists(job);
                Map<String, Object> view = Views.job(job, f -> access.canRead(ex, Urls.format(f)));
                if (Responses.wantsHtml(ex)) {
                    View.send(ex, "job", Map.of("job", view), JobPage.of(job, view, Urls.job(job)));
                } else {
                    Responses.json(ex, Map.of("job", view));
                }
            }
            case "PUT" -> {
                JsonNode body = Responses.readObject(ex, "job");
                Boolean locked = Responses.optBoolean(body, "locked");
                Boolean internal = Responses.optBoolean(body, "internal");
                job.update(locked, internal);
                Responses.ok(ex);
            }
            case "PATCH" -> {
                job.updateMetadata(metadataChanges(Responses.readObject(ex, "job")), access.products(ex));
                Responses.ok(ex);
            }
            case "DELETE" -> {
                job.delete();
                cleanup.scheduleCleanup(false);
                Responses.ok(ex);
            }
            default -> throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(),
                    "GET, HEAD, PUT, PATCH, DELETE");
        }
    }

    static void requireExists(Job job) {
        if (!job.exists()) {
            throw HttpError.notFound("Job " + job.name() + " not found");
        }
    }

    /**
     * Metadata values are kept as strings: numbers and {@code true} as their JSON text;
     * null, "" and {@code false} delete the key (mapped to null).
     */
    private static Map<String, String> metadataChanges(JsonNode body) {
        Map<String, String> changes = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            if (key.isEmpty() || key.length() > 255 || key.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                throw HttpError.badRequest("Invalid metadata key \"" + key + "\"");
            }
            if (RESERVED.contains(key)) {
                throw HttpError.badRequest("Metadata key \"" + key + "\" is reserved");
            }
            JsonNode v = e.getValue();
            String value;
            if (v.isNull() || (v.isTextual() && v.textValue().isEmpty()) || (v.isBoolean() && !v.booleanValue())) {
                value = null;
            } else if (v.isTextual()) {
                value = v.textValue();
            } else if (v.isNumber() || v.isBoolean()) {
                value = v.asText();
            } else {
                throw HttpError.badRequest("Metadata value of \"" + key + "\" must be a string, number or boolean");
            }
            changes.put(key, value);
        }
        return changes;
    }
}
