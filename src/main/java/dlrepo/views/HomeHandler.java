package dlrepo.views;

import dlrepo.fs.Repository;
import dlrepo.fs.Storage;
import dlrepo.http.Access;
import dlrepo.http.HttpError;
import dlrepo.http.Responses;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /}: where the trees of this server are, and the user repositories the caller may read. */
public final class HomeHandler implements HttpHandler {
    private final Storage storage;
    private final Access access;

    private final boolean latestReleases;

    /** {@code latestReleases}: whether the page lists the newest product versions. */
    public HomeHandler(Storage storage, Access access, boolean latestReleases) {
        this.storage = storage;
        this.access = access;
        this.latestReleases = latestReleases;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        if (!Responses.isRead(ex)) {
            throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("branches", "/branches/");
        m.put("version", dlrepo.Version.get());
        if (!Responses.wantsHtml(ex)) {
            Responses.json(ex, m);
            return;
        }
        List<String> users = new ArrayList<>();
        for (Repository r : storage.userRepositories()) {
            if (access.canRead(ex, r.urlPrefix())) {
                users.add(r.user());
            }
        }
        Map<String, Object> page = new HashMap<>();
        page.put("users", users);
        page.put("releases", latestReleases ? ProductPages.latest(ex, access, storage.repository()) : null);
        View.send(ex, "home", m, page);
    }
}
