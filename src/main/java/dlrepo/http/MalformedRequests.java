package dlrepo.http;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.xnio.Buffers;
import org.xnio.StreamConnection;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.Conduits;
import org.xnio.conduits.StreamSinkConduit;

/**
 * A body for the requests Undertow refuses before any handler runs. When it cannot parse a
 * request (a {@code %} not followed by two hexadecimal digits, a raw byte outside ASCII in
 * the target, a bad method or header name, too many parameters, a head too large...) it
 * writes a fixed {@code 400} without a body and closes the connection, and its Host header
 * checks answer a bodiless {@code 400} too; it has no hook for either, whatever its
 * options. So each accepted connection's sink conduit is wrapped: a write of exactly such
 * an answer sends a JSON error instead, counts it and logs it. Everything else, sendfile
 * included, goes straight through.
 */
public final class MalformedRequests {
    /** What Undertow 2.4 writes ({@code HttpReadListener.BAD_REQUEST}). */
    private static final byte[] UNDERTOW_BAD_REQUEST =
            "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] STATUS_400 = "HTTP/1.1 400 ".getBytes(StandardCharsets.US_ASCII);
    static final String MESSAGE = "Malformed request: the request line or a header is not valid HTTP "
            + "(a '%' in a URL must be followed by two hexadecimal digits; characters other than ASCII "
            + "must be percent-encoded)";
    private static final String BAD_HOST = "Bad request: the Host header is not a valid host name or address "
            + "with an optional port";
    /**
     * Undertow's checks of the Host header, also before any handler: a {@code 400} with one
     * of these reasons ({@code HostHeaderHandler.STATUS_*}) and no body.
     */
    private static final Map<String, String> HOST_REFUSALS = Map.of(
            "No Host Header", "Bad request: an HTTP/1.1 request must have a Host header",
            "Only One Host Header Allowed", "Bad request: a request must have only one Host header",
            "Host Header Malformed Port", BAD_HOST,
            "Host Header Malformed IP-Literal", BAD_HOST,
            "Host Header Bad Characters", BAD_HOST,
            "URI Host Header NO MATCH", "Bad request: the host of the absolute URL in the request line differs "
                    + "from the Host header");

    private final AccessLog log;
    private final Runnable count;
    private final byte[] malformed;
    private final Map<String, byte[]> hostAnswers = new HashMap<>();

    /** {@code count} is told of each malformed request. */
    public MalformedRequests(AccessLog log, Runnable count) {
        this.log = log;
        this.count = count;
        malformed = answer(MESSAGE);
        HOST_REFUSALS.forEach((reason, message) -> hostAnswers.put(reason, answer(message)));
    }

    private static byte[] answer(String message) {
        byte[] body = ("{\"error\":\"" + message + "\"}").getBytes(StandardCharsets.UTF_8);
        byte[] head = ("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\n"
                + "Content-Length: " + body.length + "\r\nServer: " + ErrorBodies.SERVER
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] all = Arrays.copyOf(head, head.length + body.length);
        System.arraycopy(body, 0, all, head.length, body.length);
        return all;
    }

    /** Wraps {@code connection}'s sink, before Undertow's open listener sees the connection. */
    public void guard(StreamConnection connection) {
        connection.getSinkChannel().setConduit(new Sink(connection.getSinkChannel().getConduit(),
                connection.getPeerAddress(InetSocketAddress.class)));
    }

    /**
     * Our answer instead of {@code head} when it is one of Undertow's bodiless 400s, else
     * null. Only a {@code 400} status line is looked at further: other answers cost one
     * comparison of a few bytes.
     */
    private byte[] substitute(ByteBuffer head) {
        if (!startsWith(head, STATUS_400)) {
            return null;
        }
        if (head.remaining() == UNDERTOW_BAD_REQUEST.length && startsWith(head, UNDERTOW_BAD_REQUEST)) {
            return malformed;
        }
        if (head.remaining() > 1024) {
            return null;
        }
        byte[] b = new byte[head.remaining()];
        head.duplicate().get(b);
        String text = new String(b, StandardCharsets.ISO_8859_1);
        int eol = text.indexOf("\r\n");
        if (eol < 0 || !text.endsWith("\r\n\r\n") || !text.contains("\r\nContent-Length: 0\r\n")) {
            return null;
        }
        return hostAnswers.get(text.substring(STATUS_400.length, eol));
    }

    private static boolean startsWith(ByteBuffer src, byte[] prefix) {
        if (src.remaining() < prefix.length) {
            return false;
        }
        int p = src.position();
        for (int i = 0; i < prefix.length; i++) {
            if (src.get(p + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private final class Sink extends AbstractStreamSinkConduit<StreamSinkConduit> {
        private final InetSocketAddress peer;
        /** Our answer, while part of it is still to be written. */
        private ByteBuffer replacing;

        Sink(StreamSinkConduit next, InetSocketAddress peer) {
            super(next);
            this.peer = peer;
        }

        private void replaceWith(byte[] answer) {
            replacing = ByteBuffer.wrap(answer);
            count.run();
            log.malformed(peer, answer.length - headLength(answer));
        }

        /** Writes what is left of our answer; true when all of it is out. */
        private boolean writeReplacement() throws IOException {
            next.write(replacing);
            // when false, Undertow writes its bytes again once the socket can take more
            return !replacing.hasRemaining();
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (replacing == null) {
                byte[] answer = substitute(src);
                if (answer == null) {
                    return next.write(src);
                }
                replaceWith(answer);
            }
            if (!writeReplacement()) {
                return 0;
            }
            int n = src.remaining();
            src.position(src.limit());
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            if (replacing == null) {
                byte[] answer = null;
                int first = offset;
                while (first < offset + length - 1 && !srcs[first].hasRemaining()) {
                    first++;
                }
                long total = length == 0 ? 0 : Buffers.remaining(srcs, offset, length);
                if (length > 0 && startsWith(srcs[first], STATUS_400) && total <= 1024) {
                    ByteBuffer joined = ByteBuffer.allocate((int) total);
                    for (int i = offset; i < offset + length; i++) {
                        joined.put(srcs[i].duplicate());
                    }
                    answer = substitute(joined.flip());
                }
                if (answer == null) {
                    return next.write(srcs, offset, length);
                }
                replaceWith(answer);
            }
            if (!writeReplacement()) {
                return 0;
            }
            long n = 0;
            for (int i = offset; i < offset + length; i++) {
                n += srcs[i].remaining();
                srcs[i].position(srcs[i].limit());
            }
            return n;
        }

        @Override
        public int writeFinal(ByteBuffer src) throws IOException {
            return Conduits.writeFinalBasic(this, src);
        }

        @Override
        public long writeFinal(ByteBuffer[] srcs, int offset, int length) throws IOException {
            return Conduits.writeFinalBasic(this, srcs, offset, length);
        }
    }

    private static int headLength(byte[] answer) {
        for (int i = 3; i < answer.length; i++) {
            if (answer[i - 3] == '\r' && answer[i - 2] == '\n' && answer[i - 1] == '\r' && answer[i] == '\n') {
                return i + 1;
            }
        }
        return answer.length;
    }
}
