package dlrepo.http;

import dlrepo.auth.LoginThrottle;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import io.undertow.util.Headers;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request on the {@code dlrepo.access} logger at INFO, in the combined log
 * format with the duration in seconds appended:
 * {@code client - user [time] "request line" status bytes "referer" "user agent" seconds}.
 * The user is the login the caller sent, also when it was refused (spaces in it escaped
 * as {@code \x20}). Quotes, backslashes,
 * control characters and bytes outside ASCII in the quoted fields and the user are
 * escaped as Apache does ({@code \"}, {@code \\}, {@code \n}, {@code \xHH}). With
 * {@code DLREPO_LOG_OUTPUT=json} the fields also go as key/values. The URI, Referer,
 * User-Agent and login are cut to {@value #FIELD_MAX} characters followed by {@code ...}.
 */
public final class AccessLog implements RequestObserver {
    /** The login a caller sent (Basic or the proxy's header), attached before it is checked. */
    public static final AttachmentKey<String> LOGIN = AttachmentKey.create(String.class);
    private static final Logger ACCESS = LoggerFactory.getLogger("dlrepo.access");
    private static final DateTimeFormatter TIME = DateTimeFormatter
            .ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH).withZone(ZoneOffset.UTC);

    /** Longest logged URI, Referer, User-Agent or login, in characters; longer ones end in "...". */
    static final int FIELD_MAX = 8192;

    private final boolean on;
    private final boolean keyValues;
    /** The time of the last line, formatted: one formatting a second, not one a line. */
    private volatile Stamp stamp = new Stamp(Long.MIN_VALUE, "");

    private record Stamp(long second, String text) {
    }

    /** {@code on}: DLREPO_ACCESS_LOG is not {@code off}; {@code keyValues}: the json output. */
    public AccessLog(boolean on, boolean keyValues) {
        this.on = on;
        this.keyValues = keyValues;
    }

    @Override
    public void requestDone(HttpServerExchange ex, long startNanos) {
        if (!on || !ACCESS.isInfoEnabled()) {
            return;
        }
        long nanos = System.nanoTime() - startNanos;
        InetAddress address = LoginThrottle.address(ex);
        String client = address == null ? "-" : address.getHostAddress();
        String user = ex.getAttachment(RequestUser.KEY);
        if (user == null) {
            user = ex.getAttachment(LOGIN);
        }
        user = cut(user);
        String method = ex.getRequestMethod().toString();
        String query = ex.getQueryString();
        String uri = cut(query == null || query.isEmpty() ? ex.getRequestURI() : ex.getRequestURI() + "?" + query);
        String protocol = ex.getProtocol().toString();
        int status = ex.getStatusCode();
        long sent = ex.getResponseBytesSent();
        String referer = cut(ex.getRequestHeaders().getFirst(Headers.REFERER));
        String agent = cut(ex.getRequestHeaders().getFirst(Headers.USER_AGENT));
        StringBuilder b = new StringBuilder(160);
        b.append(client).append(" - ");
        if (user == null) {
            b.append('-');
        } else {
            escape(b, user, true);
        }
        b.append(" [");
        time(b, System.currentTimeMillis() - nanos / 1_000_000);
        b.append("] \"");
        escape(b, method, false);
        b.append(' ');
        escape(b, uri, false);
        b.append(' ');
        escape(b, protocol, false);
        b.append("\" ").append(status).append(' ');
        if (sent > 0) {
            b.append(sent);
        } else {
            b.append('-');
        }
        quoted(b.append(' '), referer);
        quoted(b.append(' '), agent);
        seconds(b.append(' '), nanos);
        if (!keyValues) {
            ACCESS.info(b.toString());
            return;
        }
        long declared = ex.getRequestContentLength();
        long received = declared >= 0 ? declared : ex.getRequestHeaders().contains(Headers.TRANSFER_ENCODING) ? -1 : 0;
        ACCESS.atInfo().addKeyValue("client", client).addKeyValue("user", user == null ? "-" : user)
                .addKeyValue("method", method).addKeyValue("uri", uri).addKeyValue("protocol", protocol)
                .addKeyValue("status", status).addKeyValue("bytes_sent", sent)
                .addKeyValue("bytes_received", received)
                .addKeyValue("duration_ms", nanos / 1_000_000).addKeyValue("referer", referer == null ? "-" : referer)
                .addKeyValue("user_agent", agent == null ? "-" : agent).log(b.toString());
    }

    /**
     * A request Undertow refused before any handler (a malformed request line or header):
     * nothing of it is known but the peer, hence {@code "-"} for the request line.
     */
    public void malformed(InetSocketAddress peer, long bytesSent) {
        if (!on || !ACCESS.isInfoEnabled()) {
            return;
        }
        String client = peer == null || peer.getAddress() == null ? "-" : peer.getAddress().getHostAddress();
        StringBuilder b = new StringBuilder(96).append(client).append(" - - [");
        time(b, System.currentTimeMillis());
        b.append("] \"-\" 400 ").append(bytesSent).append(" \"-\" \"-\" 0.000");
        if (!keyValues) {
            ACCESS.info(b.toString());
            return;
        }
        ACCESS.atInfo().addKeyValue("client", client).addKeyValue("user", "-").addKeyValue("method", "-")
                .addKeyValue("uri", "-").addKeyValue("protocol", "-").addKeyValue("status", 400)
                .addKeyValue("bytes_sent", bytesSent).addKeyValue("bytes_received", 0)
                .addKeyValue("duration_ms", 0).addKeyValue("referer", "-").addKeyValue("user_agent", "-")
                .log(b.toString());
    }

    /** {@code 30/Nov/2026:21:24:51 +0000}: the second of {@code epochMillis}, in UTC. */
    private void time(StringBuilder b, long epochMillis) {
        long second = Math.floorDiv(epochMillis, 1000);
        Stamp s = stamp;
        if (s.second() != second) {
            s = new Stamp(second, TIME.format(Instant.ofEpochSecond(second)));
            stamp = s;
        }
        b.append(s.text());
    }

    /**
     * The first {@link #FIELD_MAX} characters of a client-chosen value and "..." (the queue
     * of access lines is bounded in lines: a line must stay small).
     */
    static String cut(String value) {
        if (value == null || value.length() <= FIELD_MAX) {
            return value;
        }
        int end = Character.isHighSurrogate(value.charAt(FIELD_MAX - 1)) ? FIELD_MAX - 1 : FIELD_MAX;
        return value.substring(0, end) + "...";
    }

    private static void quoted(StringBuilder b, String value) {
        b.append('"');
        if (value == null) {
            b.append('-');
        } else {
            escape(b, value, false);
        }
        b.append('"');
    }

    /** {@code 0.012}: seconds with three decimals. */
    private static void seconds(StringBuilder b, long nanos) {
        long millis = Math.max(0, nanos) / 1_000_000;
        long ms = millis % 1000;
        b.append(millis / 1000).append('.');
        if (ms < 100) {
            b.append('0');
        }
        if (ms < 10) {
            b.append('0');
        }
        b.append(ms);
    }

    /**
     * Apache's escaping of logged values. Header values and the request line are Latin-1
     * strings of the bytes received; a login is text, escaped as its UTF-8 bytes, and its
     * spaces too ({@code \x20}: the user field is a single word for log parsers).
     */
    static void escape(StringBuilder b, String s, boolean text) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c > 0x20 && c < 0x7f && c != '"' && c != '\\' || c == ' ' && !text) {
                b.append(c);
            } else if (c < 0x100 && !(text && c >= 0x80)) {
                escapeByte(b, c);
            } else {
                int end = Character.isHighSurrogate(c) && i + 1 < s.length() ? i + 2 : i + 1;
                for (byte x : s.substring(i, end).getBytes(StandardCharsets.UTF_8)) {
                    escapeByte(b, x & 0xff);
                }
                i = end - 1;
            }
        }
    }

    private static void escapeByte(StringBuilder b, int c) {
        switch (c) {
            case '"' -> b.append("\\\"");
            case '\\' -> b.append("\\\\");
            case '\b' -> b.append("\\b");
            case '\n' -> b.append("\\n");
            case '\r' -> b.append("\\r");
            case '\t' -> b.append("\\t");
            case 0x0b -> b.append("\\v");
            default -> {
                b.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
            }
        }
    }
}
