package dlrepo.views;

import dlrepo.http.Access;
import dlrepo.http.HttpError;
import dlrepo.http.Responses;
import dlrepo.http.Target;

import dlrepo.fs.Quota;
import dlrepo.fs.Repository;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code /~<user>/}: a user repository's disk usage against its quota. */
public final class UserHomeHandler implements HttpHandler {
    private final Access access;
    private final boolean latestReleases;

    /** {@code latestReleases}: whether the page lists the repository's newest product versions. */
    public UserHomeHandler(Access access, boolean latestReleases) {
        this.access = access;
        this.latestReleases = latestReleases;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        if (!Responses.isRead(ex)) {
            throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD");
        }
        Repository repo = Target.of(ex).repo();
        if (!repo.exists()) {
            throw HttpError.notFound("User " + repo.user() + " has no repository");
        }
        Quota q = repo.quota().orElseThrow();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", repo.user());
        m.put("disk_usage", q.used());
        m.put("disk_quota", q.limit());
        m.put("branches", repo.urlPrefix() + "branches/");
        m.put("products", repo.urlPrefix() + "products/");
        if (!Responses.wantsHtml(ex)) {
            Responses.json(ex, Map.of("user", m));
            return;
        }
        long used = q.used();
        long limit = q.limit();
        Map<String, Object> page = new HashMap<>();
        page.put("home", ProductPages.repoHref(repo));
        page.put("percent", limit <= 0 ? 100 : Math.min(100, (int) (used * 100 / limit)));
        page.put("full", used >= limit);
        page.put("low", limit / 10 * 8);
        page.put("high", limit / 20 * 19);
        page.put("releases", latestReleases ? ProductPages.latest(ex, access, repo) : null);
        View.send(ex, "user", Map.of("user", m), page);
    }
}
