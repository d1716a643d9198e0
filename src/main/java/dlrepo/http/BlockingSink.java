package dlrepo.http;

import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.xnio.channels.StreamSinkChannel;

/**
 * Blocking writes to the response channel, on a worker thread. File regions go through
 * {@code transferFrom}, which the socket conduit turns into {@code sendfile}: file
 * contents never pass through the heap.
 */
final class BlockingSink {
    private final StreamSinkChannel channel;

    BlockingSink(HttpServerExchange ex) {
        this.channel = ex.getResponseChannel();
    }

    void write(ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            if (channel.write(buf) == 0) {
                channel.awaitWritable();
            }
        }
    }

    /** Sends {@code count} bytes of {@code file} from {@code position}. */
    void transfer(FileChannel file, long position, long count) throws IOException {
        long pos = position;
        long end = position + count;
        if (end < file.size()) {
            // Until the headers are out, Undertow's response conduit copies a whole buffer
            // from the file, whatever the count: bytes past a range would reach the client
            // as the start of the next answer on the connection. Send the headers first.
            while (!channel.flush()) {
                channel.awaitWritable();
            }
        }
        while (pos < end) {
            // some of Undertow's conduits (before the headers are flushed) copy from the
            // channel's current position and ignore the position argument: set both
            file.position(pos);
            long n = channel.transferFrom(file, pos, end - pos);
            if (n > 0) {
                pos += n;
            } else if (pos >= file.size()) {
                throw new IOException("file shrank while being sent");
            } else {
                channel.awaitWritable();
            }
        }
    }

    void finish() throws IOException {
        channel.shutdownWrites();
        while (!channel.flush()) {
            channel.awaitWritable();
        }
    }
}
