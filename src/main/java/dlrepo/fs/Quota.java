package dlrepo.fs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.NoSuchFileException;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The disk usage of a user repository against its quota, kept in {@code .disk_usage}.
 * Every change of the user's files happens under {@link #lock()}, so concurrent uploads
 * cannot together overshoot the quota and a recount sees a stable tree. One instance per
 * user ({@link Storage}); while it counts bytes that are not in the usage yet (uploads
 * streaming, pushed blobs waiting for a manifest), it is kept in {@code busy} so that the
 * instance, and what it counts, outlives the requests.
 */
public final class Quota {
    private final String user;
    private final Path repoDir;
    private final long limit;
    private final Disk disk;
    /** The most pushed blobs waiting for a manifest a user may have at once. */
    static final int MAX_UNLINKED = 10_000;

    private final ReentrantLock lock = new ReentrantLock();
    private long used = -1;
    /** Bytes of this user's uploads still streaming into {@code .uploads}; under the lock. */
    private long streaming;
    /**
     * Blobs this user pushed through the registry that no manifest of hers links yet, by
     * blob file, with their sizes; under the lock. They count against the quota until a
     * manifest links them (then the usage counts them) or the collector removes them.
     */
    private final Map<Path, Long> unlinked = new HashMap<>();
    private long unlinkedBytes;
    /** Files whose size an upload streaming to replace them was credited; under the lock. */
    private final Set<Path> credited = new HashSet<>();
    private final Set<Quota> busy;

    Quota(String user, Path repoDir, long limit, Disk disk, Set<Quota> busy) {
        this.user = user;
        this.repoDir = repoDir;
        this.limit = limit;
        this.disk = disk;
        this.busy = busy;
    }

    /** Keeps this instance while it counts anything beyond the usage; under the lock. */
    private void updateBusy() {
        if (streaming > 0 || !unlinked.isEmpty() || !credited.isEmpty()) {
            busy.add(this);
        } else {
            busy.remove(this);
        }
    }

    public ReentrantLock lock() {
        return lock;
    }

    public long limit() {
        return limit;
    }

    /**
     * Bytes used, read from {@code .disk_usage} (recounted if missing). Kept in memory,
     * except on a read-only replica, where the writer changes the file: read every time.
     */
    public long used() throws IOException {
        lock.lock();
        try {
            if (used < 0 || disk.readOnly()) {
                used = Disk.readText(file()).map(String::strip).filter(s -> s.matches("\\d+")).map(Long::parseLong)
                        .orElse(-1L);
                if (used < 0) {
                    used = sizeOf(repoDir.resolve("branches"));
                }
            }
            return used;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Refuses a change of {@code delta} bytes that would exceed the quota, counting the
     * uploads still streaming and the pushed blobs waiting for a manifest.
     */
    public void check(long delta) throws IOException {
        if (delta <= 0) {
            return;
        }
        lock.lock();
        try {
            if (used() + streaming + unlinkedBytes + delta > limit) {
                pruneUnlinked();
                long u = used() + streaming + unlinkedBytes;
                if (u + delta > limit) {
                    throw new RepoException(RepoException.Kind.QUOTA_EXCEEDED,
                            "User " + user + " quota exceeded (" + (u + delta) + "/" + limit + ")");
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Refuses a registry push when the user has {@link #MAX_UNLINKED} pushed blobs that no
     * manifest uses yet: checked before the push stores anything.
     */
    public void checkCanHold() throws IOException {
        lock.lock();
        try {
            if (unlinked.size() >= MAX_UNLINKED) {
                pruneUnlinked();
                if (unlinked.size() >= MAX_UNLINKED) {
                    throw new RepoException(RepoException.Kind.QUOTA_EXCEEDED, "User " + user + " has "
                            + MAX_UNLINKED + " pushed blobs that no manifest uses yet: push a manifest first");
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Counts {@code blob}, just pushed through the registry for this user (its bytes were
     * counted while they streamed), until a manifest links it or it is collected.
     */
    public void holdUnlinked(Path blob, long size) {
        lock.lock();
        try {
            Long before = unlinked.put(blob, size);
            unlinkedBytes += size - (before == null ? 0 : before);
            updateBusy();
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code blobs} are about to be linked by a manifest: the usage will count them.
     * Returns what was released, to be held again if the manifest is not stored after all.
     */
    public Map<Path, Long> releaseUnlinked(Collection<Path> blobs) {
        lock.lock();
        try {
            Map<Path, Long> released = new HashMap<>();
            for (Path b : blobs) {
                Long size = unlinked.remove(b);
                if (size != null) {
                    unlinkedBytes -= size;
                    released.put(b, size);
                }
            }
            updateBusy();
            return released;
        } finally {
            lock.unlock();
        }
    }

    /** Forgets the pushed blobs that were collected or are linked somewhere by now. */
    private void pruneUnlinked() throws IOException {
        for (var it = unlinked.entrySet().iterator(); it.hasNext();) {
            var e = it.next();
            int links;
            try {
                links = (Integer) Files.getAttribute(e.getKey(), "unix:nlink", LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException ex) {
                links = 0;
            }
            if (links != 1) {
                unlinkedBytes -= e.getValue();
                it.remove();
            }
        }
        updateBusy();
    }

    /** A new upload whose bytes count against the quota as they arrive. */
    public Stream stream() {
        return new Stream(0, null);
    }

    /**
     * A new upload to {@code target}, whose bytes count against the quota as they arrive
     * past the first {@code credit} bytes: the size of the file it replaces, given back
     * when it is stored. Only one upload at a time gets the credit of a file.
     */
    public Stream stream(long credit, Path target) {
        lock.lock();
        try {
            boolean credit1 = credit > 0 && credited.add(target);
            updateBusy();
            return new Stream(credit1 ? credit : 0, credit1 ? target : null);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The bytes of one upload in progress: they count against the quota while they stream,
     * so that no upload (nor several at once) puts more than the quota on the disk before
     * the final check. Closed when the upload is committed (then counted by the usage) or
     * dropped.
     */
    public final class Stream implements AutoCloseable {
        private long credit;
        private final Path credited;
        /** Under the lock. */
        private long bytes;
        private boolean closed;

        private Stream(long credit, Path credited) {
            this.credit = credit;
            this.credited = credited;
        }

        /**
         * Counts {@code n} more bytes; quota-exceeded (413) when they do not fit. False,
         * counting nothing, once the stream is closed: an upload dropped by another request
         * while it was still receiving (its bytes were released then) must count no more.
         */
        public boolean add(long n) throws IOException {
            long free = Math.min(credit, n);
            credit -= free;
            n -= free;
            lock.lock();
            try {
                if (closed) {
                    return false;
                }
                if (n > 0) {
                    check(n);
                    streaming += n;
                    bytes += n;
                    updateBusy();
                }
                return true;
            } finally {
                lock.unlock();
            }
        }

        /** Releases what the upload counted; it counts nothing more. */
        @Override
        public void close() {
            lock.lock();
            try {
                closed = true;
                streaming -= bytes;
                bytes = 0;
                if (credited != null) {
                    Quota.this.credited.remove(credited);
                }
                updateBusy();
            } finally {
                lock.unlock();
            }
        }
    }

    /** Records a change of {@code delta} bytes; the caller holds the lock. */
    public void add(long delta) throws IOException {
        if (delta != 0) {
            save(Math.max(0, used() + delta));
        }
    }

    /** Recounts the usage from the files on disk. */
    public long recount() throws IOException {
        lock.lock();
        try {
            long n = sizeOf(repoDir.resolve("branches"));
            save(n);
            return n;
        } finally {
            lock.unlock();
        }
    }

    private void save(long value) throws IOException {
        used = value;
        if (Files.isDirectory(repoDir, LinkOption.NOFOLLOW_LINKS)) {
            disk.writeAtomically(file(), (value + "\n").getBytes(StandardCharsets.US_ASCII));
        } else {
            disk.changed(file()); // the usage shown changed all the same
        }
    }

    private Path file() {
        return repoDir.resolve(".disk_usage");
    }

    /**
     * The size of the artifact files below {@code tree}: regular files whose name does not
     * start with a dot (symlinks, {@code tree} itself included, are not followed).
     */
    public static long sizeOf(Path tree) throws IOException {
        long[] total = {0};
        if (!Files.isDirectory(tree, LinkOption.NOFOLLOW_LINKS)) {
            return 0; // nothing, or a link: never followed
        }
        Files.walkFileTree(tree, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                return !d.equals(tree) && d.getFileName().toString().startsWith(".")
                        ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
                if (attrs.isRegularFile() && !f.getFileName().toString().startsWith(".")) {
                    total[0] += attrs.size();
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path f, IOException e) {
                return FileVisitResult.CONTINUE;
            }
        });
        return total[0];
    }
}
