package dlrepo.http;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * {@code /static/<file>} (and {@code /favicon.ico}): from {@code DLREPO_STATIC_DIR} first,
 * then the files built into the daemon. Open to everyone.
 */
public final class StaticHandler implements HttpHandler {
    private final Optional<Path> dir;

    public StaticHandler(Optional<Path> dir) {
        this.dir = dir;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        if (!Responses.isRead(ex)) {
            throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD");
        }
        String raw = Responses.rawPath(ex);
        String name = raw.equals("/favicon.ico") ? "favicon.svg" : raw.substring("/static/".length());
        List<String> segs = List.of(name.split("/"));
        for (String s : segs) {
            String d = Router.decode(s);
            if (d.isEmpty() || d.startsWith(".") || d.contains("/") || d.contains("\\")) {
                throw HttpError.notFound("Not found");
            }
        }
        String rel = String.join("/", segs.stream().map(Router::decode).toList());
        byte[] data = read(rel);
        if (data == null) {
            throw HttpError.notFound("Not found");
        }
        ex.getResponseHeaders().put(Headers.CACHE_CONTROL, "public, max-age=3600");
        Responses.send(ex, 200, MimeTypes.of(rel), data);
    }

    private byte[] read(String rel) throws IOException {
        if (dir.isPresent()) {
            Path p = dir.get().resolve(rel).normalize();
            if (p.startsWith(dir.get()) && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                return Files.readAllBytes(p);
            }
        }
        try (InputStream in = StaticHandler.class.getResourceAsStream("/static/" + rel)) {
            return in == null ? null : in.readAllBytes();
        }
    }
}
