package dlrepo.http;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.xnio.StreamConnection;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.StreamSinkConduit;

/**
 * A body for the requests Undertow refuses before any handler runs. When it cannot parse a
 * request (a {@code %} not followed by two hexadecimal digits, a raw byte outside ASCII in
 * the target, a bad method or header name, too many parameters, a head too large...) it
 * writes a fixed {@code 400} without a body and closes the connection; it has no hook for
 * it, whatever its options. So each accepted connection's sink conduit is wrapped: a write
 * of exactly those bytes sends a JSON error instead, counts it and logs it. Everything
 * else, sendfile included, goes straight through.
 */
public final class MalformedRequests {
    /** What Undertow 2.4 writes ({@code HttpReadListener.BAD_REQUEST}). */
    private static final byte[] UNDERTOW_BAD_REQUEST =
            "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII);
    static final String MESSAGE = "Malformed request: the request line or a header is not valid HTTP "
            + "(a '%' in a URL must be followed by two hexadecimal digits; characters other than ASCII "
            + "must be percent-encoded)";

    private final byte[] answer;
    private final int bodyLength;
    private final AccessLog log;
    private final Runnable count;

    /** {@code count} is told of each malformed request. */
    public MalformedRequests(AccessLog log, Runnable count) {
        this.log = log;
        this.count = count;
        byte[] body = ("{\"error\":\"" + MESSAGE + "\"}").getBytes(StandardCharsets.UTF_8);
        byte[] head = ("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\n"
                + "Content-Length: " + body.length + "\r\nServer: " + ErrorBodies.SERVER
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        bodyLength = body.length;
        answer = new byte[head.length + body.length];
        System.arraycopy(head, 0, answer, 0, head.length);
        System.arraycopy(body, 0, answer, head.length, body.length);
    }

    /** Wraps {@code connection}'s sink, before Undertow's open listener sees the connection. */
    public void guard(StreamConnection connection) {
        connection.getSinkChannel().setConduit(new Sink(connection.getSinkChannel().getConduit(),
                connection.getPeerAddress(InetSocketAddress.class)));
    }

    private final class Sink extends AbstractStreamSinkConduit<StreamSinkConduit> {
        private final InetSocketAddress peer;
        /** Our answer, while part of it is still to be written. */
        private ByteBuffer replacing;

        Sink(StreamSinkConduit next, InetSocketAddress peer) {
            super(next);
            this.peer = peer;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (replacing == null) {
                if (!isUndertowBadRequest(src)) {
                    return next.write(src);
                }
                replacing = ByteBuffer.wrap(answer);
                count.run();
                log.malformed(peer, bodyLength);
            }
            next.write(replacing);
            if (replacing.hasRemaining()) {
                // Undertow writes its bytes again when the socket can take more
                return 0;
            }
            int n = src.remaining();
            src.position(src.limit());
            return n;
        }

        @Override
        public int writeFinal(ByteBuffer src) throws IOException {
            if (replacing == null && !isUndertowBadRequest(src)) {
                return next.writeFinal(src);
            }
            int n = write(src);
            if (!src.hasRemaining()) {
                next.terminateWrites();
            }
            return n;
        }
    }

    private static boolean isUndertowBadRequest(ByteBuffer src) {
        if (src.remaining() != UNDERTOW_BAD_REQUEST.length) {
            return false;
        }
        int p = src.position();
        for (int i = 0; i < UNDERTOW_BAD_REQUEST.length; i++) {
            if (src.get(p + i) != UNDERTOW_BAD_REQUEST[i]) {
                return false;
            }
        }
        return true;
    }
}
