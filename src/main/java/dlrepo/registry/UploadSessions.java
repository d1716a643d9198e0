package dlrepo.registry;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dlrepo.fs.BlobStore;
import dlrepo.fs.Digest;
import dlrepo.fs.Quota;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Blob uploads in progress ({@code POST} ... {@code PATCH}* ... {@code PUT}): each a file
 * in {@code .uploads} named after the session, its SHA-256 computed as the chunks arrive.
 * The orphan collector leaves a session's file alone while the session lives; a session
 * that receives nothing for the idle timeout (an hour by default) is dropped with its
 * file. A session dropped (cancelled, expired) while a chunk streams in stops that chunk.
 */
final class UploadSessions {
    /**
     * One upload. One request at a time appends to it: a second one is refused at once
     * rather than queued behind a client that may be slow, and status requests read the
     * size without waiting for the append in progress.
     */
    static final class Session {
        final String uuid;
        final Path file;
        /** The image name the upload was started for: the only one that reaches it. */
        final String image;
        /** The bytes counted against the quota of a user's image while the upload lasts. */
        private final Optional<Quota.Stream> quota;
        /** Tells the cache that the session is in use: called as bytes arrive. */
        private final Runnable touch;
        private final ReentrantLock appending = new ReentrantLock();
        /** Under {@code appending}. */
        private final MessageDigest md = Digest.sha256();
        /** Written under {@code appending}, read without it. */
        private volatile long size;
        private volatile boolean closed;

        Session(String uuid, Path file, String image, Optional<Quota.Stream> quota, Runnable touch) {
            this.uuid = uuid;
            this.file = file;
            this.image = image;
            this.quota = quota;
            this.touch = touch;
        }

        /** The bytes received and written so far. */
        long size() {
            return size;
        }

        /** Appends the stream; {@code expectedStart} (from Content-Range) must be the current size. */
        long append(InputStream in, byte[] buf, long expectedStart) throws IOException {
            lockForAppend();
            try {
                return appendLocked(in, buf, expectedStart);
            } finally {
                appending.unlock();
            }
        }

        /**
         * Appends the last chunk, ends the upload (no more chunks) and returns the digest of
         * what was received.
         */
        Digest finish(InputStream in, byte[] buf, long expectedStart) throws IOException {
            lockForAppend();
            try {
                appendLocked(in, buf, expectedStart);
                closed = true;
                return Digest.of(md);
            } finally {
                appending.unlock();
            }
        }

        /**
         * Another request is appending: this chunk cannot continue data whose end is not
         * known yet. The distribution specification's answer to a chunk out of order is 416,
         * and a GET of the upload (answered at once) tells where to resume.
         */
        private void lockForAppend() {
            if (!appending.tryLock()) {
                throw RegistryError.of(416, "BLOB_UPLOAD_INVALID", "Upload " + uuid
                        + " is receiving another chunk: GET the upload for the bytes received, then send what follows");
            }
        }

        private long appendLocked(InputStream in, byte[] buf, long expectedStart) throws IOException {
            requireOpen();
            if (expectedStart >= 0 && expectedStart != size) {
                throw RegistryError.of(416, "BLOB_UPLOAD_INVALID",
                        "Chunk starts at " + expectedStart + " but " + size + " bytes were received");
            }
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                while (true) {
                    // the request stream returns one network buffer (16 KiB) per read: fill the
                    // whole chunk first, so that hashing and writing go a chunk at a time
                    int n = 0;
                    int r;
                    while (n < buf.length && (r = in.read(buf, n, buf.length - n)) != -1) {
                        n += r;
                        touch.run();
                        requireOpen();
                    }
                    if (n == 0) {
                        break;
                    }
                    if (quota.isPresent() && !quota.get().add(n)) {
                        requireOpen();
                    }
                    ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                    while (bb.hasRemaining()) {
                        ch.write(bb);
                    }
                    md.update(buf, 0, n);
                    size += n;
                    if (n < buf.length) {
                        break;
                    }
                }
            }
            return size;
        }

        /** Cancelled or expired meanwhile: the chunk being received stops there. */
        private void requireOpen() {
            if (closed) {
                throw RegistryError.uploadUnknown(uuid);
            }
        }

        /**
         * No more chunks, and its bytes no longer count as streaming: stored, they are held
         * as a pushed blob; dropped, they are gone. A chunk still arriving stops at its next
         * read and counts nothing more ({@link Quota.Stream#add}).
         */
        void close() {
            closed = true;
            quota.ifPresent(Quota.Stream::close);
        }
    }

    private final BlobStore blobs;
    private final Cache<String, Session> sessions;

    UploadSessions(BlobStore blobs, Duration idle) {
        this.blobs = blobs;
        this.sessions = Caffeine.newBuilder().expireAfterAccess(idle)
                .removalListener((String uuid, Session s, RemovalCause cause) -> {
                    // an explicit removal discards in remove(), before the request answers
                    if (s != null && cause.wasEvicted()) {
                        discard(s);
                    }
                }).build();
    }

    /**
     * A new upload for {@code image}, counted against {@code quota} (a user's image) as it
     * streams; {@code inUse} runs as data arrives.
     */
    Session start(ImageName image, Optional<Quota> quota, Runnable inUse) throws IOException {
        String name = blobs.reserveUploadName();
        Path file = blobs.uploadsDir().resolve(name);
        try {
            Files.createDirectories(file.getParent());
            // readable by the daemon only, as every file of .uploads (layout.md)
            Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        } catch (IOException e) {
            blobs.releaseUploadName(name);
            throw e;
        }
        Session s = new Session(name, file, image.name(), quota.map(Quota::stream), () -> {
            sessions.getIfPresent(name);
            inUse.run();
        });
        sessions.put(name, s);
        return s;
    }

    /** The upload {@code uuid} of {@code image}; unknown through any other name. */
    Session get(ImageName image, String uuid) {
        Session s = sessions.getIfPresent(uuid);
        if (s == null || !s.image.equals(image.name())) {
            throw RegistryError.uploadUnknown(uuid);
        }
        return s;
    }

    /**
     * Forgets the session; its file is deleted unless it was moved into the store. Done
     * here rather than by the cache's removal listener, which runs later on another thread:
     * once a cancel has answered, the file is gone.
     */
    void remove(Session s) {
        s.close();
        if (sessions.asMap().remove(s.uuid, s)) {
            discard(s);
        }
    }

    private void discard(Session s) {
        s.close();
        try {
            Files.deleteIfExists(s.file);
        } catch (IOException e) {
            // the orphan collector will get it
        } finally {
            blobs.releaseUploadName(s.uuid);
        }
    }
}
