package dlrepo.http;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code /cli}: the dlrepo-cli script, with its default server URL replaced by
 * {@code DLREPO_PUBLIC_URL}, so that {@code curl -o dlrepo-cli <server>/cli} gives a client
 * that talks to this server. The script is looked for next to the jar, in the package's
 * share folder, then on PATH; the copy built into the jar is the last resort.
 */
public final class CliHandler implements HttpHandler {
    static final String DEFAULT_URL = "http://127.0.0.1:1337";
    private static final String NAME = "dlrepo-cli";

    private final Optional<String> publicUrl;
    private final List<Path> candidates;

    public CliHandler(Optional<String> publicUrl, List<Path> candidates) {
        this.publicUrl = publicUrl;
        this.candidates = candidates;
    }

    /** Where the script may be installed, in search order. */
    public static List<Path> defaultLocations(String pathEnv) {
        List<Path> list = new ArrayList<>();
        try {
            Path jar = Path.of(CliHandler.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            list.add(jar.resolveSibling(NAME));
        } catch (Exception e) {
            // not run from a jar file
        }
        list.add(Path.of("/usr/share/dlrepo", NAME));
        if (pathEnv != null) {
            for (String dir : pathEnv.split(":")) {
                if (!dir.isEmpty()) {
                    list.add(Path.of(dir, NAME));
                }
            }
        }
        return list;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        if (!Responses.isRead(ex)) {
            throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD");
        }
        String script = load();
        if (publicUrl.isPresent()) {
            script = script.replace(DEFAULT_URL, publicUrl.get());
        }
        ex.getResponseHeaders().put(io.undertow.util.Headers.CONTENT_DISPOSITION, "inline; filename=\"" + NAME + "\"");
        Responses.send(ex, 200, "text/plain; charset=utf-8", script.getBytes(StandardCharsets.UTF_8));
    }

    private String load() throws IOException {
        for (Path p : candidates) {
            if (Files.isRegularFile(p) && Files.isReadable(p)) {
                return Files.readString(p, StandardCharsets.UTF_8);
            }
        }
        try (InputStream in = CliHandler.class.getResourceAsStream("/" + NAME)) {
            if (in == null) {
                throw HttpError.notFound("dlrepo-cli is not installed on this server");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
