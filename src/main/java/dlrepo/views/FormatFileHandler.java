package dlrepo.views;

import dlrepo.http.ContentDisposition;
import dlrepo.http.HttpError;
import dlrepo.http.Responses;
import dlrepo.http.Target;

import dlrepo.fs.ArtifactFormat;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code .../<j>/<f>} without the slash: a shortcut to the format's only file (302 with
 * {@code Content-Disposition: attachment}), else to the folder. 404 while dirty.
 */
public final class FormatFileHandler implements HttpHandler {
    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        ArtifactFormat f = Target.of(ex).format();
        FormatHandler.requireExists(f);
        if (f.isDirty()) {
            throw HttpError.notFound("Format " + f.name() + " is not finalized");
        }
        List<String> files = f.files();
        String base = Responses.rawPath(ex);
        if (files.size() == 1 && !files.get(0).equals("index.html")) {
            String file = files.get(0);
            String name = Path.of(file).getFileName().toString();
            ex.getResponseHeaders().put(Headers.CONTENT_DISPOSITION, ContentDisposition.attachment(name));
            Responses.redirect(ex, base + Responses.path(List.of(file.split("/"))));
        } else {
            Responses.redirect(ex, base + "/");
        }
    }
}
