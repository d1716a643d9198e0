package dlrepo.http;

import dlrepo.Version;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import io.undertow.util.StatusCodes;
import java.util.Map;

/**
 * The outermost handler: every answer says {@code Server: dlrepo/<version>}, and an error
 * answer that ends with nothing sent (graceful shutdown's 503 while draining, a refused
 * {@code Expect}, any handler that only set a status) gets the usual error body. What
 * Undertow refuses before any handler is {@link MalformedRequests}'.
 */
public final class ErrorBodies implements HttpHandler {
    /** The {@code Server} header's value. */
    public static final String SERVER = "dlrepo/" + Version.get();
    static final String SHUTTING_DOWN = "Server shutting down, try again in a moment";

    private final HttpHandler next;

    private ErrorBodies(HttpHandler next) {
        this.next = next;
    }

    public static HttpHandler wrap(HttpHandler next) {
        return new ErrorBodies(next);
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        // at commit: after whatever a handler did to the headers (errors clear them)
        ex.addResponseCommitListener(e -> e.getResponseHeaders().put(Headers.SERVER, SERVER));
        ex.addDefaultResponseListener(ErrorBodies::fillIn);
        next.handleRequest(ex);
    }

    /** Run by {@code endExchange()} when nothing was sent: true if it sent an error body. */
    private static boolean fillIn(HttpServerExchange ex) {
        int status = ex.getStatusCode();
        if (status < 400 || ex.isResponseStarted() || !ex.getConnection().isOpen()
                || ex.getResponseHeaders().contains(Headers.CONTENT_LENGTH)
                || ex.getResponseHeaders().contains(Headers.TRANSFER_ENCODING)) {
            return false;
        }
        if (ex.getRequestMethod().equals(Methods.HEAD)) {
            ex.setResponseContentLength(0);
            return false;
        }
        String message = status == 503 ? SHUTTING_DOWN : StatusCodes.getReason(status);
        try {
            Responses.error(ex, status, message, Map.of());
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
