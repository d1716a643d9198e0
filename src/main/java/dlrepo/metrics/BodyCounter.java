package dlrepo.metrics;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import io.undertow.util.Headers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.StreamSourceConduit;

/**
 * The bytes of a request body read by the handlers (Undertow counts only what it sends).
 * Put on requests that announce a body, before anything reads it.
 */
final class BodyCounter {
    private static final AttachmentKey<BodyCounter> KEY = AttachmentKey.create(BodyCounter.class);

    private long bytes;

    static void attach(HttpServerExchange ex) {
        if (ex.getRequestContentLength() <= 0 && !ex.getRequestHeaders().contains(Headers.TRANSFER_ENCODING)) {
            return;
        }
        BodyCounter c = new BodyCounter();
        ex.putAttachment(KEY, c);
        ex.addRequestWrapper((factory, e) -> c.new Source(factory.create()));
    }

    /** The body bytes read from {@code ex} so far. */
    static long of(HttpServerExchange ex) {
        BodyCounter c = ex.getAttachment(KEY);
        return c == null ? 0 : c.bytes;
    }

    private long moved(long n) {
        if (n > 0) {
            bytes += n;
        }
        return n;
    }

    private final class Source extends AbstractStreamSourceConduit<StreamSourceConduit> {
        Source(StreamSourceConduit next) {
            super(next);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return (int) moved(next.read(dst));
        }

        @Override
        public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
            return moved(next.read(dsts, offs, len));
        }

        @Override
        public long transferTo(long position, long count, FileChannel target) throws IOException {
            return moved(next.transferTo(position, count, target));
        }

        @Override
        public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
            return moved(next.transferTo(count, throughBuffer, target));
        }
    }
}
