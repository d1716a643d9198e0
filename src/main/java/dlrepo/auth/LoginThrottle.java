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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * Failed logins per client: after {@code max} failures within {@code window} (counted from
 * the client's first attempt), the client is refused at once until the window ends.
 * Nothing waits: a refused request is answered without checking anything. The counts live
 * in a bounded cache, so that a flood of addresses costs a bounded amount of memory.
 */
final class LoginThrottle {
    /** How many clients are tracked at most (the least recent ones are forgotten first). */
    static final int MAX_CLIENTS = 100_000;
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("\\[?[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*]?");

    private record Window(long start, AtomicInteger failures) {
    }

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
     * Counts a login attempt of {@code client} before its credentials are checked, so that
     * attempts made at once cannot exceed the limit either. Empty if it may go on (call
     * {@link Attempt#succeeded} if it does, else it stays counted as a failure); else the
     * seconds until the client may try again.
     */
    Attempt begin(String client) {
        if (max <= 0) {
            return Attempt.FREE;
        }
        long now = ticker.read();
        // a window starts with the first attempt; an expired one is replaced
        Window w = windows.get(client, k -> new Window(now, new AtomicInteger()));
        long left = w.start() + windowNanos - now;
        if (w.failures().incrementAndGet() > max && left > 0) {
            w.failures().decrementAndGet();
            return new Attempt(null, Math.max(1, (left + 999_999_999L) / 1_000_000_000L));
        }
        return new Attempt(w.failures(), 0);
    }

    /** A login attempt: refused ({@code retryAfter} seconds > 0), or counted until it succeeds. */
    static final class Attempt {
        static final Attempt FREE = new Attempt(null, 0);
        private final AtomicInteger counted;
        private final long retryAfter;

        private Attempt(AtomicInteger counted, long retryAfter) {
            this.counted = counted;
            this.retryAfter = retryAfter;
        }

        /** Seconds to wait before trying again; 0 if the attempt may go on. */
        long retryAfter() {
            return retryAfter;
        }

        /** A successful login is not a failure. */
        void succeeded() {
            if (counted != null) {
                counted.decrementAndGet();
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
