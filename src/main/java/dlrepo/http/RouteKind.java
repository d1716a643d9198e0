package dlrepo.http;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;

/**
 * What kind of URL a request was routed to ({@code branch}, {@code format_file},
 * {@code registry}...): the label metrics count requests by, never the path itself.
 */
public final class RouteKind {
    private static final AttachmentKey<String> KEY = AttachmentKey.create(String.class);

    private RouteKind() {
    }

    /** {@code next}, marking the requests it handles as {@code kind}. */
    public static HttpHandler tag(String kind, HttpHandler next) {
        return ex -> {
            ex.putAttachment(KEY, kind);
            next.handleRequest(ex);
        };
    }

    public static void set(HttpServerExchange ex, String kind) {
        ex.putAttachment(KEY, kind);
    }

    /** The kind the request was routed to; {@code redirect} or {@code other} when it reached none. */
    public static String of(HttpServerExchange ex) {
        String kind = ex.getAttachment(KEY);
        if (kind != null) {
            return kind;
        }
        int status = ex.getStatusCode();
        return status >= 300 && status < 400 ? "redirect" : "other";
    }
}
