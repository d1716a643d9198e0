package dlrepo.views;

import dlrepo.http.FileSender;
import dlrepo.http.HttpError;
import dlrepo.http.Responses;
import dlrepo.http.Target;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.Digest;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * {@code .../<j>/<f>.sha256}: {@code <hex>  <relpath>} lines, sha256sum style; the same
 * text for browsers (a link of the job page) as for every other client.
 */
public final class FormatSumsHandler implements HttpHandler {
    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        if (!Responses.isRead(ex)) {
            throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD");
        }
        ArtifactFormat f = Target.of(ex).format();
        FormatHandler.requireExists(f);
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, Digest> e : f.digests().entrySet()) {
            b.append(e.getValue().hex()).append("  ").append(e.getKey()).append('\n');
        }
        // the lines hold names chosen by uploaders: never rendered as anything but text
        FileSender.untrusted(ex);
        Responses.send(ex, 200, "text/plain; charset=utf-8", b.toString().getBytes(StandardCharsets.UTF_8));
    }
}
