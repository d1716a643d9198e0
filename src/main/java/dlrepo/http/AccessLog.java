package dlrepo.http;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.HttpString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One line per request on the {@code dlrepo.access} logger. */
public final class AccessLog implements RequestObserver {
    private static final Logger ACCESS = LoggerFactory.getLogger("dlrepo.access");
    private static final HttpString USER_AGENT = new HttpString("User-Agent");

    @Override
    public void requestDone(HttpServerExchange e, long startNanos) {
        if (ACCESS.isDebugEnabled()) {
            ACCESS.debug("{}@{} - {} {} {} \"{}\"", RequestUser.of(e), e.getSourceAddress().getAddress()
                    .getHostAddress(), e.getStatusCode(), e.getRequestMethod(), e.getRequestURI(),
                    e.getRequestHeaders().getFirst(USER_AGENT));
        }
    }
}
