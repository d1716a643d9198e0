package dlrepo.metrics;

import dlrepo.Config;
import dlrepo.http.HttpError;
import dlrepo.http.Responses;
import dlrepo.http.RouteKind;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.net.InetSocketAddress;

/**
 * {@code /health} (open to all) and {@code /metrics} (as DLREPO_METRICS_ACCESS says), answered
 * before authentication; everything else goes on to {@code next}.
 */
public final class OpsHandler implements HttpHandler {
    static final String LOCAL_ONLY = "Metrics are served to local clients only (DLREPO_METRICS_ACCESS=local)";
    /** Headers by which a proxy says whom it forwards (any X-Forwarded-* too). */
    private static final HttpString[] PROXY_HEADERS = {new HttpString("Forwarded"), new HttpString("Via"),
            new HttpString("X-Real-IP"), new HttpString("X-Original-Forwarded-For"), new HttpString("CF-Connecting-IP"),
            new HttpString("True-Client-IP")};

    private final Health health;
    private final Metrics metrics;
    private final MetricsHandler metricsHandler;
    private final String access;
    private final HttpHandler next;

    public OpsHandler(Config config, Health health, Metrics metrics, HttpHandler next) {
        this.health = health;
        this.metrics = metrics;
        this.metricsHandler = new MetricsHandler(metrics, false);
        this.access = config.metricsAccess();
        this.next = next;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        metrics.started(ex);
        String path = Responses.rawPath(ex);
        if (path.equals("/health")) {
            RouteKind.set(ex, "health");
            health(ex);
            return;
        }
        if (path.equals("/metrics") || path.startsWith("/metrics/")) {
            RouteKind.set(ex, "metrics");
            switch (access) {
                case "acl" -> next.handleRequest(ex);
                case "open" -> served(ex, path);
                case "local" -> {
                    if (!isLocal(ex)) {
                        throw new HttpError(403, LOCAL_ONLY);
                    }
                    served(ex, path);
                }
                default -> throw HttpError.notFound("Not found");
            }
            return;
        }
        next.handleRequest(ex);
    }

    private void served(HttpServerExchange ex, String path) throws Exception {
        if (!path.equals("/metrics")) {
            throw HttpError.notFound("Not found");
        }
        metricsHandler.send(ex);
    }

    private void health(HttpServerExchange ex) {
        if (!Responses.isRead(ex)) {
            throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD");
        }
        Health.Result r = health.check();
        ex.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
        Responses.json(ex, r.ok() ? 200 : 503, health.json(r));
    }

    /** A client on this machine, not through a proxy (which says whom it forwards). */
    private static boolean isLocal(HttpServerExchange ex) {
        InetSocketAddress peer = ex.getSourceAddress();
        if (peer == null || peer.getAddress() == null || !peer.getAddress().isLoopbackAddress()) {
            return false;
        }
        for (HttpString h : PROXY_HEADERS) {
            if (ex.getRequestHeaders().contains(h)) {
                return false;
            }
        }
        for (HttpString h : ex.getRequestHeaders().getHeaderNames()) {
            if (h.length() > 12 && h.toString().regionMatches(true, 0, "X-Forwarded-", 0, 12)) {
                return false;
            }
        }
        return true;
    }
}
