package dlrepo.metrics;

import dlrepo.Config;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

/** /health and /metrics, answered before authentication (issue 15: being built); everything else goes on. */
public final class OpsHandler implements HttpHandler {
    private final HttpHandler next;

    public OpsHandler(Config config, Health health, Metrics metrics, HttpHandler next) {
        this.next = next;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        next.handleRequest(ex);
    }
}
