package dlrepo.views;

import dlrepo.http.HttpError;
import dlrepo.http.Responses;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code /}: where the trees of this server are. */
public final class HomeHandler implements HttpHandler {
    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        if (!Responses.isRead(ex)) {
            throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("branches", "/branches/");
        Responses.json(ex, m);
    }
}
