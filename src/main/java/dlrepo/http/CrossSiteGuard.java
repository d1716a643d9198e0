package dlrepo.http;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.net.URI;
import java.util.Locale;
import java.util.Optional;

/**
 * Refuses the state-changing requests that a browser marks as sent by a page of another
 * origin (cross-site request forgery): every method but GET, HEAD and OPTIONS, with a
 * {@code Sec-Fetch-Site} other than {@code same-origin} or {@code none}, or with an
 * {@code Origin} that is not the daemon's own. Browsers set both headers themselves and
 * pages cannot change them; other clients (curl, dlrepo-cli, docker, skopeo) send
 * neither and pass unchanged. Runs before authentication: a forged request is refused
 * before it can make the browser ask for a password, and its body is never read.
 *
 * <p>The daemon's own origin is the one its clients reach: the scheme, host and port of
 * {@code DLREPO_PUBLIC_URL}, and the host and port of the request's {@code Host} header
 * (which a reverse proxy terminating TLS passes on, see etc/nginx.conf), for either
 * scheme. {@code Origin: null} (a sandboxed page, such as the uploaded files) is never
 * the daemon's.
 */
public final class CrossSiteGuard implements HttpHandler {
    private static final HttpString ORIGIN = new HttpString("Origin");
    private static final HttpString SEC_FETCH_SITE = new HttpString("Sec-Fetch-Site");

    private final Optional<String> publicOrigin;
    private final HttpHandler next;

    public CrossSiteGuard(Optional<String> publicUrl, HttpHandler next) {
        this.publicOrigin = publicUrl.map(CrossSiteGuard::originOf);
        this.next = next;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        String method = ex.getRequestMethod().toString();
        if (!method.equals("GET") && !method.equals("HEAD") && !method.equals("OPTIONS")) {
            String site = ex.getRequestHeaders().getFirst(SEC_FETCH_SITE);
            if (site != null && !site.equals("same-origin") && !site.equals("none")) {
                throw refused(method, "Sec-Fetch-Site: " + site);
            }
            String origin = ex.getRequestHeaders().getFirst(ORIGIN);
            if (origin != null && !isOurs(origin, ex.getRequestHeaders().getFirst(Headers.HOST))) {
                throw refused(method, "Origin: " + origin);
            }
        }
        next.handleRequest(ex);
    }

    private static HttpError refused(String method, String mark) {
        return new HttpError(403, "Forbidden cross-site request: a " + method + " sent by a page of another origin ("
                + mark + "); send it from the daemon's own pages, or from a client that is not a browser");
    }

    private boolean isOurs(String origin, String host) {
        String o = originOf(origin);
        if (o == null) {
            return false;
        }
        if (publicOrigin.isPresent() && o.equals(publicOrigin.get())) {
            return true;
        }
        if (host == null) {
            return false;
        }
        String scheme = o.substring(0, o.indexOf(':'));
        String authority = host.strip().toLowerCase(Locale.ROOT);
        if (!authority.matches("(\\[[0-9a-f:.]+\\]|[a-z0-9._-]+)(:[0-9]+)?")) {
            return false;
        }
        return o.equals(originOf(scheme + "://" + authority));
    }

    /**
     * {@code scheme://host[:port]} of an http(s) URL in lower case, without the scheme's
     * default port; null for anything else ({@code null}, other schemes, paths, user info).
     */
    static String originOf(String url) {
        URI u;
        try {
            u = new URI(url.strip());
        } catch (java.net.URISyntaxException e) {
            return null;
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || u.getHost() == null || u.getRawUserInfo() != null) {
            return null;
        }
        int port = u.getPort();
        boolean defaultPort = port == -1 || port == 80 && scheme.equals("http") || port == 443 && scheme.equals("https");
        return scheme + "://" + u.getHost().toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port);
    }
}
