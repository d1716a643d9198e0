package dlrepo.views;

import dlrepo.http.Access;
import dlrepo.http.HttpError;
import dlrepo.http.Responses;
import dlrepo.http.Target;
import dlrepo.http.Urls;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.cleanup.CleanupTrigger;
import dlrepo.cleanup.TagPolicy;
import dlrepo.fs.Branch;
import dlrepo.fs.CleanupPolicy;
import dlrepo.fs.TagState;
import dlrepo.publish.Publisher;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /branches/<b>/}: its tags and cleanup policy; set the policy; delete. */
public final class BranchHandler implements HttpHandler {
    private final CleanupTrigger cleanup;
    private final Publisher publisher;
    private final Access access;

    public BranchHandler(CleanupTrigger cleanup, Publisher publisher, Access access) {
        this.cleanup = cleanup;
        this.publisher = publisher;
        this.access = access;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        Branch branch = Target.of(ex).branch();
        switch (ex.getRequestMethod().toString()) {
            case "GET", "HEAD" -> get(ex, branch);
            case "POST" -> {
                JsonNode body = Responses.readObject(ex, "branch");
                branch.setCleanupPolicy(limit(body, "max_daily_tags"), limit(body, "max_released_tags"));
                Responses.ok(ex);
            }
            case "DELETE" -> {
                for (var tag : branch.tags()) {
                    TagHandler.refuseIfBusy(publisher, tag);
                }
                branch.delete(false);
                cleanup.scheduleCleanup(false);
                Responses.ok(ex);
            }
            default -> throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD, POST, DELETE");
        }
    }

    private void get(HttpServerExchange ex, Branch branch) throws Exception {
        if (!branch.exists()) {
            throw HttpError.notFound("Branch " + branch.name() + " not found");
        }
        boolean releasedOnly = ex.getQueryParameters().containsKey("released");
        String url = Urls.branch(branch);
        List<TagState> states = branch.tagStates();
        List<Map<String, Object>> tags = new ArrayList<>();
        for (TagState t : states) {
            if ((!releasedOnly || t.released()) && access.canRead(ex, url + t.name() + "/")) {
                tags.add(Views.tagSummary(t));
            }
        }
        CleanupPolicy policy = branch.cleanupPolicy();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", branch.name());
        m.put("cleanup_policy", Views.policy(policy));
        m.put("tags", tags);
        boolean page = Responses.wantsHtml(ex);
        List<Object> doomed = new ArrayList<>();
        if (page || ex.getQueryParameters().containsKey("cleanup_preview")) {
            for (TagState t : TagPolicy.tagsToDelete(policy, states)) {
                if (access.canRead(ex, url + t.name() + "/")) {
                    doomed.add(Views.tagSummary(t));
                }
            }
        }
        if (ex.getQueryParameters().containsKey("cleanup_preview")) {
            m.put("cleanup_preview", doomed);
        }
        if (!page) {
            Responses.json(ex, Map.of("branch", m));
            return;
        }
        List<Map<String, Object>> byVersion = new ArrayList<>(tags);
        byVersion.sort(NaturalOrder.newestFirst());
        View.send(ex, "branch", Map.of("branch", m), Map.of("tags", byVersion, "doomed", doomed));
    }

    private static Integer limit(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0) {
            throw HttpError.badRequest("Field \"" + field + "\" must be an integer >= 0");
        }
        return n.intValue();
    }
}
