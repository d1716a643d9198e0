package dlrepo.views;

import dlrepo.http.Access;
import dlrepo.http.HttpError;
import dlrepo.http.Responses;
import dlrepo.http.Target;
import dlrepo.http.Urls;

import dlrepo.fs.Branch;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.ArrayList;
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
        for (Branch b : Target.of(ex).repo().branches()) {
            if (access.canRead(ex, Urls.branch(b))) {
                list.add(Views.branchSummary(b));
            }
        }
        Responses.json(ex, Map.of("branches", list));
    }
}
