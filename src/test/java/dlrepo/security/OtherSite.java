package dlrepo.security;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Another web site than the daemon (an attacker's): static HTML pages on a loopback port.
 * Reached as {@code http://localhost:<port>/} while the daemon is {@code http://127.0.0.1:<port>/},
 * the browser sees them as two sites (cross-site), not only two origins.
 */
final class OtherSite implements AutoCloseable {
    private final HttpServer server;
    private final Map<String, String> pages = new ConcurrentHashMap<>();

    OtherSite() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            String page = pages.get(ex.getRequestURI().getPath());
            byte[] body = (page == null ? "not found" : page).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", page == null ? "text/plain" : "text/html; charset=utf-8");
            ex.sendResponseHeaders(page == null ? 404 : 200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
    }

    /** Serves {@code html} at {@code path}; its URL on this other site. */
    String page(String path, String html) {
        pages.put(path, html);
        return "http://localhost:" + server.getAddress().getPort() + path;
    }

    /**
     * The URL of a page as reached through {@code 127.0.0.1}, the daemon's host: another
     * origin (another port) of the same site, like another service of the same domain.
     */
    String sameSiteUrl(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
