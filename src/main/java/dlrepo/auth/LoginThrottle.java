package dlrepo.auth;

import com.github.benmanes.caffeine.cache.Ticker;
import dlrepo.fs.Names;
import io.undertow.server.HttpServerExchange;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Failed password checks per client and login: after {@code max} failures of one login
 * from one client, or {@link #PER_CLIENT} times as many of all its logins, within
 * {@code window} (counted from the first check), that client is refused at once for that
 * login, or for all, until the window ends. Only failures count; so that checks made at
 * once cannot fail past the limits either, a check starts only while the failures plus
 * the checks under way stay below both, else it is refused for a moment. Nothing waits:
 * a refused request is answered without checking anything.
 */
public final class LoginThrottle {
    /** How many clients, and (client, login) pairs, are tracked at most. */
    static final int MAX_CLIENTS = 100_000;
    /**
     * A client's limit over all logins, in limits of one login: one user's typos behind a
     * NAT or proxy leave the others their tries, while a guesser spreading guesses over
     * logins still gets a bounded number.
     */
    static final int PER_CLIENT = 5;
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("\\[?[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*]?");

    private final boolean off;
    private final Ticker ticker;
    private final FailureWindows clients;
    private final FailureWindows logins;

    LoginThrottle(int max, long windowSeconds, Ticker ticker) {
        long windowNanos = Duration.ofSeconds(windowSeconds).toNanos();
        this.off = max <= 0;
        this.ticker = ticker;
        this.clients = new FailureWindows(max * PER_CLIENT, windowNanos, MAX_CLIENTS, ticker);
        this.logins = new FailureWindows(max, windowNanos, MAX_CLIENTS, ticker);
    }

    /**
     * A password check of {@code login} that {@code client} is about to make: refused
     * ({@link Check#retryAfter} seconds), or under way until {@link Check#end}.
     */
    Check begin(String client, String login) {
        if (off) {
            return Check.FREE;
        }
        long now = ticker.read();
        // the client's window first: a refused client adds no (client, login) entries
        FailureWindows.Window all = clients.of(client, now);
        FailureWindows.Start s = all.start();
        if (s != FailureWindows.Start.STARTED) {
            return Check.refused(s, all, now);
        }
        FailureWindows.Window one = logins.of(client + " " + loginKey(login), now);
        s = one.start();
        if (s != FailureWindows.Start.STARTED) {
            all.end(false);
            return Check.refused(s, one, now);
        }
        return new Check(all, one, 0, false);
    }

    /**
     * A login as counted: logins differing in case are one user (and may be one entry of a
     * directory); hashed, so that a long one costs no more memory than a short one.
     */
    private static String loginKey(String login) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(Names.canonical(login).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A password check: refused ({@code retryAfter} seconds > 0), or under way until it ends. */
    static final class Check {
        static final Check FREE = new Check(null, null, 0, false);
        private final FailureWindows.Window all;
        private final FailureWindows.Window one;
        private final long retryAfter;
        private final boolean busy;

        private Check(FailureWindows.Window all, FailureWindows.Window one, long retryAfter, boolean busy) {
            this.all = all;
            this.one = one;
            this.retryAfter = retryAfter;
            this.busy = busy;
        }

        private static Check refused(FailureWindows.Start why, FailureWindows.Window w, long now) {
            if (why == FailureWindows.Start.BUSY) {
                // the checks under way end within moments
                return new Check(null, null, 1, true);
            }
            return new Check(null, null, Math.max(1, (w.endsAt - now + 999_999_999L) / 1_000_000_000L), false);
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
            if (all != null) {
                all.end(failed);
                one.end(failed);
            }
        }
    }

    /**
     * Who is calling, for counting: its {@link #address}, IPv6 clients by /64, since a
     * single client commonly has a whole one.
     */
    static String client(HttpServerExchange ex) {
        InetAddress address = address(ex);
        if (address == null) {
            return "unknown";
        }
        if (address instanceof Inet6Address) {
            byte[] b = address.getAddress();
            return HexFormat.of().formatHex(b, 0, 8) + "::/64";
        }
        return address.getHostAddress();
    }

    /**
     * Who is calling: its address, or behind a reverse proxy on this machine (a loopback
     * peer) the last address of {@code X-Forwarded-For}, which that proxy appends (what a
     * client puts before it is not believed); null if unknown. Also the access log's client.
     */
    public static InetAddress address(HttpServerExchange ex) {
        InetSocketAddress peer = ex.getSourceAddress();
        InetAddress address = peer == null ? null : peer.getAddress();
        if (address != null && address.isLoopbackAddress()) {
            String forwarded = ex.getRequestHeaders().getLast("X-Forwarded-For");
            if (forwarded != null) {
                InetAddress a = literal(forwarded.substring(forwarded.lastIndexOf(',') + 1).strip());
                if (a != null) {
                    address = a;
                }
            }
        }
        return address;
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
