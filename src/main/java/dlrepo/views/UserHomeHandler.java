package dlrepo.views;

import dlrepo.http.HttpError;
import dlrepo.http.Responses;
import dlrepo.http.Target;

import dlrepo.fs.Quota;
import dlrepo.fs.Repository;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code /~<user>/}: a user repository's disk usage against its quota. */
public final class UserHomeHandler implements HttpHandler {
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
        Responses.json(ex, Map.of("user", m));
    }
}
