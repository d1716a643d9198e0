package dlrepo.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * A body being streamed into {@code .uploads/<random>} while its SHA-256 is computed.
 * Either {@link BlobStore#commit committed} into the blob store or {@link #discard()
 * discarded}; never visible in the tree before that.
 */
public final class Upload implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final MessageDigest md = Digest.sha256();
    private final boolean fsync;
    private final Runnable onClose;
    private long size;
    private Digest digest;
    private Quota.Stream quota;

    Upload(Path path, FileChannel channel, boolean fsync, Runnable onClose) {
        this.path = path;
        this.channel = channel;
        this.fsync = fsync;
        this.onClose = onClose;
    }

    public Path path() {
        return path;
    }

    public long size() {
        return size;
    }

    /**
     * Counts the bytes against a user's quota as they arrive (413 past it), but for the
     * {@code replaced} bytes of the file at {@code target} the upload will replace.
     */
    public void countAgainst(Quota q, long replaced, Path target) {
        quota = replaced > 0 ? q.stream(replaced, target) : q.stream();
    }

    public void write(byte[] buf, int off, int len) throws IOException {
        write(ByteBuffer.wrap(buf, off, len));
    }

    /** Hashes and writes what {@code src} has left (its position moves to its limit). */
    public void write(ByteBuffer src) throws IOException {
        int len = src.remaining();
        if (quota != null) {
            quota.add(len);
        }
        md.update(src.duplicate());
        while (src.hasRemaining()) {
            channel.write(src);
        }
        size += len;
    }

    /**
     * Copies the whole body. {@code buf} (a direct buffer of {@code DLREPO_CHUNK_SIZE}) is
     * filled before it is hashed and written: the socket is read straight into it, one
     * read per socket buffer full, and the file written from it without a copy. A body
     * longer than one chunk is hashed a chunk behind, on another core where there is one
     * (the common fork-join pool), while the next chunk is read and written, in a second
     * buffer. A worker waiting for a hash no pool thread has started yet runs it itself.
     */
    public long readFrom(ReadableByteChannel in, ByteBuffer buf) throws IOException {
        boolean more = fill(in, buf);
        if (!more || Runtime.getRuntime().availableProcessors() < 2) {
            while (true) {
                write(buf);
                if (!more) {
                    return size;
                }
                more = fill(in, buf);
            }
        }
        ByteBuffer next = ByteBuffer.allocateDirect(buf.capacity());
        ForkJoinTask<?> hashing = null;
        try {
            while (true) {
                int len = buf.remaining();
                if (quota != null) {
                    quota.add(len);
                }
                if (hashing != null) {
                    hashing.join();
                }
                // the previous chunk is hashed: the digest is free, and so is its buffer
                ByteBuffer chunk = buf.duplicate();
                hashing = ForkJoinPool.commonPool().submit(() -> md.update(chunk));
                while (buf.hasRemaining()) {
                    channel.write(buf);
                }
                size += len;
                if (!more) {
                    break;
                }
                ByteBuffer filled = next;
                next = buf;
                buf = filled;
                more = fill(in, buf);
            }
            hashing.join();
            hashing = null;
            return size;
        } finally {
            if (hashing != null) {
                // nothing touches the digest after this (a failed upload is discarded)
                hashing.cancel(false);
            }
        }
    }

    /** Fills {@code buf} from {@code in}, ready to be read; whether the body goes on. */
    private static boolean fill(ReadableByteChannel in, ByteBuffer buf) throws IOException {
        buf.clear();
        int n = 0;
        while (buf.hasRemaining() && (n = in.read(buf)) >= 0) {
            // until the chunk is full
        }
        buf.flip();
        return n >= 0;
    }

    /**
     * Ends the upload: data forced to disk (if configured), file closed, digest returned.
     * Its bytes no longer count as streaming: committing it counts them in the usage.
     */
    public Digest finish() throws IOException {
        releaseQuota();
        if (digest == null) {
            if (fsync) {
                channel.force(true);
            }
            channel.close();
            digest = Digest.of(md);
        }
        return digest;
    }

    public void discard() {
        releaseQuota();
        try {
            channel.close();
        } catch (IOException e) {
            // nothing more to do with it
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // the orphan collector will get it
        } finally {
            onClose.run();
        }
    }

    private void releaseQuota() {
        if (quota != null) {
            quota.close();
        }
    }

    /** Discards the upload unless it was committed (then its file is gone already). */
    @Override
    public void close() {
        discard();
    }
}
