package dlrepo.views;

import dlrepo.http.Access;
import dlrepo.http.HttpError;
import dlrepo.http.Responses;
import dlrepo.http.Target;
import dlrepo.http.Urls;

import dlrepo.fs.Branch;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import dlrepo.fs.TagState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@code /branches/}: the list of branches with their tag counts and policies. */
public final class BranchesHandler implements HttpHandler {
    private final Access access;

    public BranchesHandler(Access access) {
        this.access = access;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        if (!Responses.isRead(ex)) {
            throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD");
        }
        List<Object> list = new ArrayList<>();
        Map<String, Object> newest = new HashMap<>();
        boolean page = Responses.wantsHtml(ex);
        for (Branch b : Target.of(ex).repo().branches()) {
            if (access.canRead(ex, Urls.branch(b))) {
                List<TagState> tags = b.tagStates();
                list.add(Views.branchSummary(b, tags));
                if (page) {
                    newestReadable(ex, b, tags).ifPresent(t -> newest.put(b.name(), t));
                }
            }
        }
        View.send(ex, "branches", Map.of("branches", list), Map.of("newest", newest));
    }

    /** The summary of the newest tag of {@code b} the caller may read (a page shows it). */
    private java.util.Optional<Map<String, Object>> newestReadable(HttpServerExchange ex, Branch b,
            List<TagState> tags) {
        String url = Urls.branch(b);
        TagState newest = null;
        for (TagState t : tags) {
            if ((newest == null || t.timestamp() > newest.timestamp()) && access.canRead(ex, url + t.name() + "/")) {
                newest = t;
            }
        }
        return newest == null ? java.util.Optional.empty() : java.util.Optional.of(Views.tagSummary(newest));
    }
}
