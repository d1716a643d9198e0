package dlrepo.http;

import io.undertow.UndertowMessages;
import io.undertow.UndertowOptions;
import io.undertow.connector.ByteBufferPool;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.concurrent.TimeUnit;
import org.xnio.Options;
import org.xnio.channels.Channels;
import org.xnio.channels.EmptyStreamSourceChannel;
import org.xnio.channels.StreamSourceChannel;

/**
 * The request body of an exchange in blocking mode ({@link BlockingExchange}), read from
 * the request channel with the same blocking and read timeout as Undertow's own stream.
 * As a stream it copies out of one network buffer at a time, like Undertow's; as a
 * {@link ReadableByteChannel} it reads from the socket straight into the caller's buffer
 * (a large direct one: one read per socket buffer full, no copy through the heap).
 */
public final class RequestBody extends InputStream implements ReadableByteChannel {
    private final StreamSourceChannel channel;
    private final ByteBufferPool pool;
    private final long timeoutMillis;
    /** What a stream read took from the channel and has not given out yet. */
    private PooledByteBuffer pooled;
    private boolean finished;
    private boolean closed;

    RequestBody(HttpServerExchange ex) {
        channel = ex.isRequestChannelAvailable() ? ex.getRequestChannel() : new EmptyStreamSourceChannel(ex.getIoThread());
        pool = ex.getConnection().getByteBufferPool();
        timeoutMillis = timeout(channel);
    }

    /** The body of {@code ex} (in blocking mode, as the dispatcher puts every exchange) as a channel. */
    public static ReadableByteChannel of(HttpServerExchange ex) {
        if (ex.getInputStream() instanceof RequestBody body) {
            return body;
        }
        throw new IllegalStateException("the exchange is not in dlrepo's blocking mode");
    }

    /** Undertow's rule: the read timeout, or the idle timeout if shorter, else 10 minutes. */
    private static long timeout(StreamSourceChannel channel) {
        Integer timeout = null;
        try {
            timeout = channel.getOption(Options.READ_TIMEOUT);
            Integer idle = channel.getOption(UndertowOptions.IDLE_TIMEOUT);
            if (timeout == null || timeout <= 0) {
                timeout = idle;
            } else if (idle != null && idle > 0 && idle < timeout) {
                timeout = idle;
            }
        } catch (IOException e) {
            // the default below
        }
        return timeout == null || timeout <= 0 ? 600_000 : timeout;
    }

    /**
     * Reads at least one byte into {@code dst} (blocking), or -1 at the end of the body;
     * 0 only when {@code dst} is full.
     */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        checkReadable();
        if (!dst.hasRemaining()) {
            return 0;
        }
        if (pooled != null) {
            ByteBuffer b = pooled.getBuffer();
            int n = Math.min(b.remaining(), dst.remaining());
            dst.put(dst.position(), b, b.position(), n).position(dst.position() + n);
            b.position(b.position() + n);
            releaseIfEmpty();
            return n;
        }
        return finished ? -1 : readChannel(dst);
    }

    private int readChannel(ByteBuffer dst) throws IOException {
        int n = Channels.readBlocking(channel, dst, timeoutMillis, TimeUnit.MILLISECONDS);
        if (n == -1) {
            finished = true;
        } else if (n == 0) {
            throw UndertowMessages.MESSAGES.readTimedOut(timeoutMillis);
        }
        return n;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        checkReadable();
        if (len == 0) {
            return 0;
        }
        if (pooled == null) {
            if (finished) {
                return -1;
            }
            pooled = pool.allocate();
            try {
                if (readChannel(pooled.getBuffer()) == -1) {
                    release();
                    return -1;
                }
            } catch (IOException | RuntimeException e) {
                release();
                throw e;
            }
            pooled.getBuffer().flip();
        }
        ByteBuffer buf = pooled.getBuffer();
        int n = Math.min(buf.remaining(), len);
        buf.get(b, off, n);
        releaseIfEmpty();
        return n;
    }

    /** What can be read without waiting (reading on as far as it has arrived), -1 at the end. */
    @Override
    public int available() throws IOException {
        checkReadable();
        if (pooled == null && !finished) {
            pooled = pool.allocate();
            int n;
            try {
                n = channel.read(pooled.getBuffer());
            } catch (IOException | RuntimeException e) {
                release();
                throw e;
            }
            pooled.getBuffer().flip();
            if (n == -1) {
                finished = true;
            }
            releaseIfEmpty();
        }
        if (pooled != null) {
            return pooled.getBuffer().remaining();
        }
        return finished ? -1 : 0;
    }

    private void checkReadable() throws IOException {
        if (Thread.currentThread() == channel.getIoThread()) {
            throw UndertowMessages.MESSAGES.blockingIoFromIOThread();
        }
        if (closed) {
            throw UndertowMessages.MESSAGES.streamIsClosed();
        }
    }

    private void releaseIfEmpty() {
        if (pooled != null && !pooled.getBuffer().hasRemaining()) {
            release();
        }
    }

    private void release() {
        if (pooled != null) {
            pooled.close();
            pooled = null;
        }
    }

    @Override
    public boolean isOpen() {
        return !closed;
    }

    /** Nothing: the exchange ends the body when it ends (see {@link #end()}). */
    @Override
    public void close() {
    }

    /** Ends a body that was read to its end: its buffer back to the pool, the reads shut down. */
    void end() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        release();
        channel.shutdownReads();
    }
}
