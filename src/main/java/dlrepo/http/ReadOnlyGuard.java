package dlrepo.http;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A read-only replica's first check: every request but GET and HEAD is refused with 405,
 * before authentication (no credential check is spent on it) and before its body is read,
 * naming the read-write server. The error takes the usual forms: JSON, a page for
 * browsers, the registry's under {@code /v2/} (code {@code UNSUPPORTED}).
 */
public final class ReadOnlyGuard implements HttpHandler {
    private final String message;
    private final Map<String, String> headers;
    private final HttpHandler next;

    public ReadOnlyGuard(Optional<String> primaryUrl, HttpHandler next) {
        this.message = message(primaryUrl);
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Allow", "GET, HEAD");
        primaryUrl.ifPresent(u -> h.put("X-Dlrepo-Primary", u));
        this.headers = Map.copyOf(h);
        this.next = next;
    }

    /** The refusal's text. */
    public static String message(Optional<String> primaryUrl) {
        return "This server is a read-only replica: send writes to " + primaryUrl.orElse("the read-write server");
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        if (!Responses.isRead(ex)) {
            throw new HttpError(405, "UNSUPPORTED", message, headers);
        }
        next.handleRequest(ex);
    }
}
