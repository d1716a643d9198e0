package dlrepo.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.undertow.server.HttpServerExchange;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Failed password checks per client: after {@code max} failures within {@code window}
 * (counted from the client's first check), the client is refused at once until the window
 * ends. Only failures count; checks under way are bounded so that they cannot fail past
 * the limit either: a check starts only while the client's failures plus its checks under
 * way stay below {@code max}, else it is refused for a moment. Nothing waits: a refused
 * request is answered without checking anything. The counts live in a bounded cache, so
 * that a flood of addresses costs a bounded amount of memory.
 */
final class LoginThrottle {
    /** How many clients are tracked at most (the least recent ones are forgotten first). */
    static final int MAX_CLIENTS = 100_000;
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("\\[?[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*]?");

    private final int max;
    private final long windowNanos;
    private final Ticker ticker;
    private final Cache<String, Window> windows;

    LoginThrottle(int max, long windowSeconds, Ticker ticker) {
        this.max = max;
        this.windowNanos = Duration.ofSeconds(windowSeconds).toNanos();
        this.ticker = ticker;
        this.windows = Caffeine.newBuilder().maximumSize(MAX_CLIENTS).ticker(ticker)
                .expireAfterWrite(Duration.ofNanos(windowNanos)).build();
    }

    /**
     * A password check {@code client} is about to make: refused ({@link Check#retryAfter}
     * seconds), or under way until {@link Check#end}.
     */
    Check begin(String client) {
        if (max <= 0) {
            return Check.FREE;
        }
        long now = ticker.read();
        Window w = window(client, now);
        return switch (w.start(max)) {
            case STARTED -> new Check(w, 0, false);
            case BLOCKED -> new Check(null, Math.max(1, (w.end - now + 999_999_999L) / 1_000_000_000L), false);
            // the checks under way end within moments
            case BUSY -> new Check(null, 1, true);
        };
    }

    /** The window of {@code client}: a window starts with the first check; an ended one is replaced. */
    private Window window(String client, long now) {
        Window w = windows.get(client, k -> new Window(now + windowNanos));
        if (w.end <= now) {
            // ended a moment before the cache let it expire
            windows.asMap().remove(client, w);
            w = windows.get(client, k -> new Window(now + windowNanos));
        }
        return w;
    }

    private enum Start { STARTED, BLOCKED, BUSY }

    /** One client's failures in a window, and its checks under way (which may fail too). */
    private static final class Window {
        final long end;
        private int failures;
        private int running;

        Window(long end) {
            this.end = end;
        }

        synchronized Start start(int max) {
            if (failures >= max) {
                return Start.BLOCKED;
            }
            if (failures + running >= max) {
                return Start.BUSY;
            }
            running++;
            return Start.STARTED;
        }

        synchronized void end(boolean failed) {
            running--;
            if (failed) {
                failures++;
            }
        }
    }

    /** A password check: refused ({@code retryAfter} seconds > 0), or under way until it ends. */
    static final class Check {
        static final Check FREE = new Check(null, 0, false);
        private final Window window;
        private final long retryAfter;
        private final boolean busy;

        private Check(Window window, long retryAfter, boolean busy) {
            this.window = window;
            this.retryAfter = retryAfter;
            this.busy = busy;
        }

        /** Seconds to wait before trying again; 0 if the check may go on. */
        long retryAfter() {
            return retryAfter;
        }

        /** Refused because of the checks under way, not of failures. */
        boolean busy() {
            return busy;
        }

        /** Call once when the check is over; {@code failed} if it counts as a failure. */
        void end(boolean failed) {
            if (window != null) {
                window.end(failed);
            }
        }
    }

    /**
     * Who is calling, for counting: its address, or behind a reverse proxy on this machine
     * (a loopback peer) the last address of {@code X-Forwarded-For}, which that proxy
     * appends (what a client puts before it is not believed). IPv6 clients count by /64,
     * since a single client commonly has a whole one.
     */
    static String client(HttpServerExchange ex) {
        InetSocketAddress peer = ex.getSourceAddress();
        InetAddress address = peer == null ? null : peer.getAddress();
        if (address == null) {
            return "unknown";
        }
        if (address.isLoopbackAddress()) {
            String forwarded = ex.getRequestHeaders().getLast("X-Forwarded-For");
            if (forwarded != null) {
                InetAddress a = literal(forwarded.substring(forwarded.lastIndexOf(',') + 1).strip());
                if (a != null) {
                    address = a;
                }
            }
        }
        if (address instanceof Inet6Address) {
            byte[] b = address.getAddress();
            return HexFormat.of().formatHex(b, 0, 8) + "::/64";
        }
        return address.getHostAddress();
    }

    /** An IP address written as a literal, never a host name to look up; null if not one. */
    private static InetAddress literal(String s) {
        try {
            if (IPV4.matcher(s).matches()) {
                byte[] b = new byte[4];
                String[] parts = s.split("\\.");
                for (int i = 0; i < 4; i++) {
                    int n = Integer.parseInt(parts[i]);
                    if (n > 255) {
                        return null;
                    }
                    b[i] = (byte) n;
                }
                return InetAddress.getByAddress(b);
            }
            if (IPV6.matcher(s).matches()) {
                // with a ':' it is parsed as an IPv6 literal or refused, never looked up
                return InetAddress.getByName(s);
            }
        } catch (UnknownHostException | IllegalArgumentException e) {
            return null;
        }
        return null;
    }
}
