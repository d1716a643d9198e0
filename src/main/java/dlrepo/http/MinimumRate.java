package dlrepo.http;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.TimeUnit;
import org.xnio.IoUtils;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.channels.StreamSourceChannel;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.StreamSinkConduit;
import org.xnio.conduits.StreamSourceConduit;

/**
 * The slowest a client may send a request body or take a response body while a worker
 * thread waits for it ({@code DLREPO_MIN_BODY_RATE}, {@code DLREPO_MIN_BODY_RATE_PERIOD}).
 * Each time the thread has spent {@code periodSeconds} in all waiting on one body, at least
 * {@code bytesPerSecond} for each second of that wait must have moved since the previous
 * check; otherwise the connection is closed and the handler gets a
 * {@link SlowClientException}. Only the time spent waiting for the client counts: a thread
 * busy with the disk or a lock holds nothing against it. A thread that has waited
 * {@code idleSeconds} ({@code DLREPO_IO_TIMEOUT}) without a byte moving is cut too.
 */
public record MinimumRate(long bytesPerSecond, long periodSeconds, long idleSeconds) {
    /** The longest single wait, so that a cut is noticed soon after it is due. */
    private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    private static final long MIN_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    /** Whether there is no minimum rate (an idle limit may still apply to blocking waits). */
    public boolean off() {
        return bytesPerSecond <= 0 || periodSeconds <= 0;
    }

    private static final AttachmentKey<MinimumRate> KEY = AttachmentKey.create(MinimumRate.class);

    /** The minimum rate of {@code ex}'s bodies (none when nothing set it). */
    static MinimumRate of(HttpServerExchange ex) {
        MinimumRate r = ex.getAttachment(KEY);
        return r != null ? r : new MinimumRate(0, 0, 0);
    }

    /** Measures both bodies of {@code ex} (before anything reads or writes them). */
    void guard(HttpServerExchange ex) {
        ex.putAttachment(KEY, this);
        if (off() && idleSeconds <= 0) {
            return;
        }
        ex.addRequestWrapper((factory, e) -> new Source(factory.create(), new Meter(e, "sending its request body")));
        ex.addResponseWrapper((factory, e) -> new Sink(factory.create(), new Meter(e, "reading the response")));
    }

    /** One body's progress, used by the one thread that moves it at a time. */
    private final class Meter {
        private final HttpServerExchange ex;
        private final String doing;
        private long waited;
        private long moved;
        /** Time spent waiting since the last byte moved. */
        private long idle;
        private boolean cut;

        Meter(HttpServerExchange ex, String doing) {
            this.ex = ex;
            this.doing = doing;
        }

        long moved(long n) {
            if (n > 0) {
                moved += n;
                idle = 0;
            }
            return n;
        }

        void check() throws SlowClientException {
            if (cut) {
                throw new SlowClientException("connection closed: the client was too slow " + doing);
            }
        }

        /**
         * At most {@link #SLICE_NANOS}, and at least a millisecond: the conduits below count
         * in milliseconds, and a wait of 0 ms is a wait without end (a blocking read with a
         * deadline asks for what is left of it, at times less than a millisecond: a stalled
         * upload then held its worker until the client went away).
         */
        long slice(long time, TimeUnit unit) {
            return Math.max(MIN_SLICE_NANOS, Math.min(unit.toNanos(time), SLICE_NANOS));
        }

        void waited(long since) throws SlowClientException {
            long w = System.nanoTime() - since;
            waited += w;
            idle += w;
            // The I/O timeout of the connection cannot see this: each read that finds
            // nothing after a slice of waiting pushes Undertow's read deadline on.
            if (idleSeconds > 0 && idle >= TimeUnit.SECONDS.toNanos(idleSeconds)) {
                cut = true;
                IoUtils.safeClose(ex.getConnection());
                throw new SlowClientException(String.format("client stalled %s: nothing moved for %.0f s "
                        + "(DLREPO_IO_TIMEOUT=%d)", doing, idle / 1e9, idleSeconds));
            }
            if (off() || waited < TimeUnit.SECONDS.toNanos(periodSeconds)) {
                return;
            }
            long due = (long) (bytesPerSecond * (waited / 1e9));
            if (moved < due) {
                cut = true;
                IoUtils.safeClose(ex.getConnection());
                throw new SlowClientException(String.format("too slow %s: %d bytes in %.0f s of waiting, "
                        + "below DLREPO_MIN_BODY_RATE=%d bytes/s", doing, moved, waited / 1e9, bytesPerSecond));
            }
            waited = 0;
            moved = 0;
        }
    }

    private final class Source extends AbstractStreamSourceConduit<StreamSourceConduit> {
        private final Meter meter;

        Source(StreamSourceConduit next, Meter meter) {
            super(next);
            this.meter = meter;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            meter.check();
            return (int) meter.moved(next.read(dst));
        }

        @Override
        public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
            meter.check();
            return meter.moved(next.read(dsts, offs, len));
        }

        @Override
        public long transferTo(long position, long count, FileChannel target) throws IOException {
            meter.check();
            return meter.moved(next.transferTo(position, count, target));
        }

        @Override
        public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
            meter.check();
            return meter.moved(next.transferTo(count, throughBuffer, target));
        }

        @Override
        public void awaitReadable() throws IOException {
            awaitReadable(SLICE_NANOS, TimeUnit.NANOSECONDS);
        }

        @Override
        public void awaitReadable(long time, TimeUnit unit) throws IOException {
            meter.check();
            long since = System.nanoTime();
            next.awaitReadable(meter.slice(time, unit), TimeUnit.NANOSECONDS);
            meter.waited(since);
        }
    }

    private final class Sink extends AbstractStreamSinkConduit<StreamSinkConduit> {
        private final Meter meter;

        Sink(StreamSinkConduit next, Meter meter) {
            super(next);
            this.meter = meter;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            meter.check();
            return (int) meter.moved(next.write(src));
        }

        @Override
        public long write(ByteBuffer[] srcs, int offs, int len) throws IOException {
            meter.check();
            return meter.moved(next.write(srcs, offs, len));
        }

        @Override
        public int writeFinal(ByteBuffer src) throws IOException {
            meter.check();
            return (int) meter.moved(next.writeFinal(src));
        }

        @Override
        public long writeFinal(ByteBuffer[] srcs, int offs, int len) throws IOException {
            meter.check();
            return meter.moved(next.writeFinal(srcs, offs, len));
        }

        @Override
        public long transferFrom(FileChannel src, long position, long count) throws IOException {
            meter.check();
            return meter.moved(next.transferFrom(src, position, count));
        }

        @Override
        public long transferFrom(StreamSourceChannel source, long count, ByteBuffer throughBuffer) throws IOException {
            meter.check();
            return meter.moved(next.transferFrom(source, count, throughBuffer));
        }

        @Override
        public void awaitWritable() throws IOException {
            awaitWritable(SLICE_NANOS, TimeUnit.NANOSECONDS);
        }

        @Override
        public void awaitWritable(long time, TimeUnit unit) throws IOException {
            meter.check();
            long since = System.nanoTime();
            next.awaitWritable(meter.slice(time, unit), TimeUnit.NANOSECONDS);
            meter.waited(since);
        }
    }
}
