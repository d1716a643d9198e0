package dlrepo.http;

import io.undertow.server.HttpServerExchange;
import java.util.List;

/** Told about every request once it is complete (access log, metrics). */
public interface RequestObserver {
    /** Called when the exchange is complete; {@code startNanos} is when it arrived. Must not block. */
    void requestDone(HttpServerExchange ex, long startNanos);

    static RequestObserver all(RequestObserver... observers) {
        List<RequestObserver> list = List.of(observers);
        return (ex, start) -> {
            for (RequestObserver o : list) {
                o.requestDone(ex, start);
            }
        };
    }
}
