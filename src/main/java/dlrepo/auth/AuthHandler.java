package dlrepo.auth;

import dlrepo.http.Responses;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

/**
 * Identifies the caller of every request (except the open static files) before routing;
 * the router then checks the ACLs on the canonical path.
 */
public final class AuthHandler implements HttpHandler {
    private final AuthService auth;
    private final HttpHandler next;

    public AuthHandler(AuthService auth, HttpHandler next) {
        this.auth = auth;
        this.next = next;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        if (!AuthService.isOpen(Responses.rawPath(ex))) {
            auth.attach(ex, auth.identify(ex));
        }
        next.handleRequest(ex);
    }
}
