package dlrepo.http;

import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoUtils;
import org.xnio.XnioExecutor;
import org.xnio.channels.StreamSinkChannel;

/**
 * A response body (a file, a range of it, an archive) sent without a worker thread waiting
 * for the client: what the socket takes at once is written by the worker, the rest by the
 * connection's IO thread each time the client has read more, so a slow reader holds a
 * connection, never a thread. File regions go through {@code transferFrom}, which the
 * socket conduit turns into {@code sendfile}. A reader slower than
 * {@code DLREPO_MIN_BODY_RATE} over each {@code DLREPO_MIN_BODY_RATE_PERIOD} is cut (one
 * WARN line); without a minimum rate, {@code DLREPO_IO_TIMEOUT} still cuts a stalled one.
 */
public final class ResponseBody {
    private static final Logger LOG = LoggerFactory.getLogger(ResponseBody.class);

    /** A piece of the body. */
    sealed interface Part permits Bytes, FileRegion {
    }

    record Bytes(ByteBuffer buf) implements Part {
    }

    /**
     * {@code count} bytes of {@code file} from {@code position}; {@code size} is the file's
     * size when the headers were made (a file that changed since then fails the answer).
     * {@code channel}: the file opened already (the body closes it), or null to open it by
     * path when the region is reached.
     */
    record FileRegion(Path file, long position, long count, long size, FileChannel channel) implements Part {
        FileRegion(Path file, long position, long count, long size) {
            this(file, position, count, size, null);
        }
    }

    /** Closes the files opened ahead in {@code parts} (a body that will not be sent). */
    static void closeFiles(Iterable<Part> parts) {
        for (Part p : parts) {
            if (p instanceof FileRegion r && r.channel() != null) {
                IoUtils.safeClose(r.channel());
            }
        }
    }

    private final HttpServerExchange ex;
    private final StreamSinkChannel channel;
    private final Deque<Part> parts;
    private final MinimumRate rate;
    private Part part;
    private volatile FileChannel file;
    private long position;
    private long end;
    /** The headers must go out before the current region (see {@link #next}). */
    private boolean flushFirst;
    private long moved;
    private long lastMove = System.nanoTime();
    private long movedAtCheck;
    private XnioExecutor.Key check;
    private boolean done;

    private ResponseBody(HttpServerExchange ex, List<Part> parts) {
        this.ex = ex;
        this.channel = ex.getResponseChannel();
        this.parts = new ArrayDeque<>(parts);
        this.rate = MinimumRate.of(ex);
    }

    /**
     * Sends {@code parts} as the body (its length already set), then ends the exchange.
     * Called on the worker thread that handles the request; returns as soon as the client
     * would have to read for the body to go on.
     */
    public static void send(HttpServerExchange ex, List<Part> parts) {
        ResponseBody body = new ResponseBody(ex, parts);
        // a client that goes away while the body waits for it fires no write event, but
        // Undertow ends the exchange of a connection that closes
        ex.addExchangeCompleteListener((done, next) -> {
            body.ended();
            next.proceed();
        });
        body.run();
    }

    private void run() {
        try {
            while (true) {
                if (part == null && !next()) {
                    finish();
                    return;
                }
                if (!(part instanceof Bytes b ? write(b.buf()) : transfer())) {
                    waitForTheClient(this::run);
                    return;
                }
                part = null;
                closeFile();
            }
        } catch (IOException | RuntimeException e) {
            fail(e);
        }
    }

    private boolean next() throws IOException {
        synchronized (parts) {
            part = parts.poll();
        }
        if (part instanceof FileRegion r) {
            file = r.channel() != null ? r.channel()
                    : FileChannel.open(r.file(), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
            if (file.size() != r.size()) {
                throw new IOException(r.file() + " changed while being sent");
            }
            position = r.position();
            end = r.position() + r.count();
            // Until the headers are out, Undertow's response conduit copies a whole buffer
            // from the file, whatever the count: bytes past a range would reach the client
            // as the start of the next answer on the connection. Send the headers first.
            flushFirst = end < r.size();
        }
        return part != null;
    }

    /** Writes what the socket takes; whether the whole buffer went. */
    private boolean write(ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            int n = channel.write(buf);
            if (n == 0) {
                return false;
            }
            moved += n;
            lastMove = System.nanoTime();
        }
        return true;
    }

    /** Sends what the socket takes of the current file region; whether it all went. */
    private boolean transfer() throws IOException {
        if (flushFirst) {
            if (!channel.flush()) {
                return false;
            }
            flushFirst = false;
        }
        while (position < end) {
            // some of Undertow's conduits (before the headers are flushed) copy from the
            // channel's current position and ignore the position argument: set both
            file.position(position);
            long n = channel.transferFrom(file, position, end - position);
            if (n == 0) {
                if (position >= file.size()) {
                    throw new IOException("file shrank while being sent");
                }
                return false;
            }
            position += n;
            moved += n;
            lastMove = System.nanoTime();
        }
        return true;
    }

    private void finish() throws IOException {
        channel.shutdownWrites();
        flushThenEnd();
    }

    private void flushThenEnd() {
        try {
            if (channel.flush()) {
                end();
            } else {
                waitForTheClient(this::flushThenEnd);
            }
        } catch (IOException e) {
            fail(e);
        }
    }

    private void end() {
        done = true;
        cancelCheck();
        ex.endExchange();
    }

    /** Goes on when the socket takes more, on the IO thread; the worker is free meanwhile. */
    private void waitForTheClient(Runnable then) {
        channel.getWriteSetter().set(c -> {
            c.suspendWrites();
            then.run();
        });
        if (check == null && !rate.off()) {
            scheduleCheck();
        }
        channel.resumeWrites();
    }

    private void scheduleCheck() {
        check = ex.getIoThread().executeAfter(this::checkRate, rate.periodSeconds(), TimeUnit.SECONDS);
    }

    /** Every period: at least the minimum rate moved since the last check, or the client is cut. */
    private void checkRate() {
        if (done) {
            return;
        }
        long due = rate.bytesPerSecond() * rate.periodSeconds();
        if (moved - movedAtCheck < due) {
            LOG.warn("{} {} from {}: client stalled or too slow, connection closed (too slow reading the response: "
                    + "{} bytes in {} s, below DLREPO_MIN_BODY_RATE={} bytes/s)", ex.getRequestMethod(),
                    ex.getRequestURI(), ex.getSourceAddress().getAddress().getHostAddress(), moved - movedAtCheck,
                    rate.periodSeconds(), rate.bytesPerSecond());
            done = true;
            closeFile();
            IoUtils.safeClose(ex.getConnection());
            return;
        }
        movedAtCheck = moved;
        scheduleCheck();
    }

    private void cancelCheck() {
        if (check != null) {
            check.remove();
        }
    }

    private void fail(Throwable e) {
        if (!done) {
            done = true;
            cancelCheck();
            LOG.debug("{} {}: answer cut: {}", ex.getRequestMethod(), ex.getRequestURI(), e.toString());
        }
        closeFile();
        closeRemaining();
        IoUtils.safeClose(ex.getConnection());
    }

    /**
     * The exchange ended: normally, or because the connection closed before the body went
     * (the client left, or DLREPO_IO_TIMEOUT cut a client that stopped reading).
     */
    private void ended() {
        if (!done) {
            done = true;
            cancelCheck();
            long idle = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastMove);
            Integer timeout = writeTimeout();
            if (timeout != null && timeout > 0 && idle >= timeout - 100) {
                LOG.warn("{} {} from {}: client stalled or too slow, connection closed (nothing read for {} s, "
                        + "DLREPO_IO_TIMEOUT)", ex.getRequestMethod(), ex.getRequestURI(),
                        ex.getSourceAddress().getAddress().getHostAddress(), idle / 1000);
            } else {
                LOG.debug("{} {}: client went away after {} bytes", ex.getRequestMethod(), ex.getRequestURI(), moved);
            }
        }
        closeFile();
        closeRemaining();
    }

    /** Closes the files opened ahead that the body did not reach. */
    private void closeRemaining() {
        synchronized (parts) {
            closeFiles(parts);
            parts.clear();
        }
    }

    private Integer writeTimeout() {
        try {
            return ex.getConnection().getOption(org.xnio.Options.WRITE_TIMEOUT);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private void closeFile() {
        IoUtils.safeClose(file);
        file = null;
    }
}
