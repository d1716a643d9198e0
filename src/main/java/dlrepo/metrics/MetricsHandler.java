package dlrepo.metrics;

import dlrepo.http.HttpError;
import dlrepo.http.Responses;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

/**
 * {@code GET /metrics}: the metrics in the Prometheus text format. Reached through the
 * router (after authentication and the ACL check of {@code /metrics}) only with
 * {@code DLREPO_METRICS_ACCESS=acl}; the other modes are answered before, by {@link OpsHandler}.
 */
public final class MetricsHandler implements HttpHandler {
    private static final PrometheusTextFormatWriter WRITER = PrometheusTextFormatWriter.create();

    private final Metrics metrics;
    private final boolean routed;

    /** The handler of the router's {@code /metrics} (the {@code acl} mode). */
    public MetricsHandler(Metrics metrics) {
        this(metrics, true);
    }

    MetricsHandler(Metrics metrics, boolean routed) {
        this.metrics = metrics;
        this.routed = routed;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        // the router also brings /metrics/x and /%6detrics here: only the exact path, and
        // only when the ACLs are what decides (else OpsHandler has answered already)
        if (routed && (!metrics.access().equals("acl") || !Responses.rawPath(ex).equals("/metrics"))) {
            throw HttpError.notFound("Not found");
        }
        send(ex);
    }

    void send(HttpServerExchange ex) throws Exception {
        if (!Responses.isRead(ex)) {
            throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(32 * 1024);
        WRITER.write(out, metrics.scrape());
        byte[] body = out.toByteArray();
        ex.setStatusCode(200);
        ex.getResponseHeaders().put(Headers.CONTENT_TYPE, PrometheusTextFormatWriter.CONTENT_TYPE);
        ex.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
        ex.setResponseContentLength(body.length);
        if (!ex.getRequestMethod().equals(Methods.HEAD)) {
            ex.getResponseSender().send(ByteBuffer.wrap(body));
        }
    }
}
