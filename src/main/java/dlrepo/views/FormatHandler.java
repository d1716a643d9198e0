package dlrepo.views;

import dlrepo.http.Access;
import dlrepo.http.FileSender;
import dlrepo.http.HttpError;
import dlrepo.http.Responses;
import dlrepo.http.Target;

import dlrepo.cleanup.CleanupTrigger;
import dlrepo.fs.ArtifactFormat;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.Map;

/**
 * {@code .../<j>/<f>/}: the file list (GET; a browser gets the format's page, see
 * {@link FormatPage}), completion probe (HEAD: 404 while dirty), finalization (PATCH),
 * deletion.
 */
public final class FormatHandler implements HttpHandler {
    private final CleanupTrigger cleanup;
    private final Access access;
    private final FileSender sender;

    public FormatHandler(CleanupTrigger cleanup, Access access, FileSender sender) {
        this.cleanup = cleanup;
        this.access = access;
        this.sender = sender;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        ArtifactFormat f = Target.of(ex).format();
        switch (ex.getRequestMethod().toString()) {
            case "GET" -> {
                requireExists(f);
                if (Responses.wantsHtml(ex)) {
                    FormatPage.serve(ex, f, "", Map.of("artifact_format", Views.format(f)), sender);
                } else {
                    Responses.json(ex, Map.of("artifact_format", Views.format(f)));
                }
            }
            case "HEAD" -> {
                requireExists(f);
                if (f.isDirty()) {
                    throw HttpError.notFound("Format " + f.name() + " is not finalized");
                }
                Responses.json(ex, Map.of("artifact_format", Views.format(f)));
            }
            case "PATCH" -> {
                f.finalizeFormat(access.products(ex));
                Responses.ok(ex);
            }
            case "DELETE" -> {
                f.delete();
                cleanup.scheduleCleanup(false);
                Responses.ok(ex);
            }
            default -> throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD, PATCH, DELETE");
        }
    }

    static void requireExists(ArtifactFormat f) {
        if (!f.exists()) {
            throw HttpError.notFound("Format " + f.name() + " not found");
        }
    }
}
