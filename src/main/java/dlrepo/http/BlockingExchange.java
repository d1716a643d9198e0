package dlrepo.http;

import io.undertow.io.BlockingReceiverImpl;
import io.undertow.io.BlockingSenderImpl;
import io.undertow.io.Receiver;
import io.undertow.io.Sender;
import io.undertow.io.UndertowOutputStream;
import io.undertow.server.BlockingHttpExchange;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.ServerConnection;
import io.undertow.server.protocol.http.HttpContinue;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import org.xnio.IoUtils;
import org.xnio.conduits.StreamSinkConduit;

/**
 * Blocking mode for one exchange that never waits on a worker thread for a request body
 * nobody reads. Undertow's own blocking mode reads the rest of the body to its end when
 * the exchange ends, before the answer is even flushed: a client announcing a large body
 * and sending a byte every few seconds kept a worker thread, 401 or not. Here the answer
 * is finished first, with {@code Connection: close} when the body has not all arrived.
 * Then a small body (at most {@link #LINGER_BYTES} announced) is read to its end and
 * thrown away on the IO thread, for {@link #LINGER_MS} at most, before the connection is
 * closed: closing while a body is still arriving makes the kernel reset the connection,
 * and a client that sends its whole body before it reads (Java's HTTP client does) would
 * lose the answer. A larger body, or one of unknown length, is not read: the connection is
 * closed a moment after the answer.
 */
final class BlockingExchange implements BlockingHttpExchange {
    /** The most of an unread body skipped to keep a connection open (never waiting for it). */
    private static final int SKIP_LIMIT = 64 * 1024;
    private static final long CLOSE_DELAY_MS = 250;
    /** The largest announced body read to its end after a refusal (see the class comment). */
    private static final long LINGER_BYTES = 16 << 20;
    private static final long LINGER_MS = 3000;

    private final HttpServerExchange ex;
    private RequestBody input;
    private UndertowOutputStream output;
    private Sender sender;
    private boolean lingering;

    private BlockingExchange(HttpServerExchange ex) {
        this.ex = ex;
    }

    /** Puts {@code ex} in blocking mode (on its worker thread). */
    static void start(HttpServerExchange ex) {
        BlockingExchange blocking = new BlockingExchange(ex);
        ex.addResponseWrapper((factory, e) -> {
            if (blocking.bodyFinished()) {
                return factory.create();
            }
            // the conduits made now write Connection: close and end the connection's
            // output after the answer
            e.setPersistent(false);
            StreamSinkConduit conduit = factory.create();
            if (blocking.mayLinger()) {
                // persistent again, only so that Undertow leaves the request side open and
                // reads the rest of the body on the IO thread; closed once it is read
                blocking.lingering = true;
                e.setPersistent(true);
                e.addExchangeCompleteListener((done, next) -> {
                    done.setPersistent(false);
                    next.proceed();
                });
            }
            return conduit;
        });
        ex.startBlocking(blocking);
    }

    private boolean mayLinger() {
        long announced = ex.getRequestContentLength();
        return announced >= 0 && announced <= LINGER_BYTES
                && !(HttpContinue.requiresContinueResponse(ex) && !HttpContinue.isContinueResponseSent(ex));
    }

    /** The body; closing it does nothing (the exchange ends it, without waiting for the rest). */
    @Override
    public InputStream getInputStream() {
        return input();
    }

    private RequestBody input() {
        if (input == null) {
            input = new RequestBody(ex);
        }
        return input;
    }

    @Override
    public OutputStream getOutputStream() {
        if (output == null) {
            output = new UndertowOutputStream(ex);
        }
        return output;
    }

    @Override
    public Sender getSender() {
        if (sender == null) {
            sender = new BlockingSenderImpl(ex, getOutputStream());
        }
        return sender;
    }

    @Override
    public Receiver getReceiver() {
        return new BlockingReceiverImpl(ex, input());
    }

    @Override
    public void close() throws IOException {
        try {
            if (output != null || !ex.isResponseComplete()) {
                getOutputStream().close();
            }
        } finally {
            if (lingering) {
                closeAfterLinger();
            } else if (bodyFinished()) {
                if (input != null) {
                    input.end();
                }
            } else {
                ex.setPersistent(false);
                closeSoon();
            }
        }
    }

    /** Closes the connection if the client has not sent the rest of its body in time. */
    private void closeAfterLinger() {
        ServerConnection connection = ex.getConnection();
        try {
            ex.getIoThread().executeAfter(() -> {
                if (!ex.isRequestComplete()) {
                    IoUtils.safeClose(connection);
                }
            }, LINGER_MS, TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            IoUtils.safeClose(connection);
        }
    }

    /**
     * Closes the connection a moment after the answer went out, on its IO thread: closing
     * while the client's body is still arriving makes the kernel reset the connection, and
     * a client that had not yet read the answer (one that reads while it sends) would then
     * lose it.
     */
    private void closeSoon() {
        ServerConnection connection = ex.getConnection();
        try {
            ex.getIoThread().executeAfter(() -> IoUtils.safeClose(connection), CLOSE_DELAY_MS, TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            IoUtils.safeClose(connection);
        }
    }

    /**
     * Whether the request body has been read to its end, reading on only as far as it has
     * already arrived. Never on a request waiting for {@code 100 Continue}: reading would
     * invite the client to send the body (Undertow closes those connections itself).
     */
    private boolean bodyFinished() {
        if (ex.isRequestComplete()) {
            return true;
        }
        if (ex.isInIoThread() || HttpContinue.requiresContinueResponse(ex) && !HttpContinue.isContinueResponseSent(ex)) {
            return false;
        }
        try {
            RequestBody in = input();
            byte[] skip = new byte[8192];
            for (int skipped = 0; ; ) {
                int available = in.available();
                if (available < 0) {
                    return true;
                }
                if (available == 0 || skipped >= SKIP_LIMIT) {
                    return false;
                }
                skipped += in.read(skip, 0, Math.min(Math.min(available, skip.length), SKIP_LIMIT - skipped));
            }
        } catch (IOException e) {
            return false;
        }
    }
}
