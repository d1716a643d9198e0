package dlrepo.fs;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The content-addressed store: {@code .blobs/sha256/<xx>/<hex>} and the {@code .uploads}
 * staging folder. A blob is never overwritten. Every operation that relies on a blob
 * existing (probe, link, commit) runs under the blob's {@link DigestLocks digest lock},
 * the same lock the orphan collector takes before unlinking.
 */
public final class BlobStore {
    private static final Logger LOG = LoggerFactory.getLogger(BlobStore.class);
    private static final int MAX_LINK_RETRIES = 2;

    /**
     * How long a blob stays protected from the collector after a client was told it
     * exists, whatever the orphan lifetime: its X-Dlrepo-Link PUT is expected next.
     */
    static final Duration PROBE_GRACE = Duration.ofMinutes(2);

    private final Path blobs;
    private final Path uploads;
    private final Set<String> active = ConcurrentHashMap.newKeySet();
    private final Cache<String, Boolean> probed =
            Caffeine.newBuilder().expireAfterWrite(PROBE_GRACE).maximumSize(100_000).build();
    private final DigestLocks locks;
    private final Disk disk;
    private final RecentLinks recent;
    private final Stats stats = new Stats();

    public BlobStore(Path root, DigestLocks locks, Disk disk) {
        this.blobs = root.resolve(".blobs").resolve("sha256");
        this.uploads = root.resolve(".uploads");
        this.locks = locks;
        this.disk = disk;
        this.recent = new RecentLinks(root);
    }

    /** Where blobs were recently linked (every {@link #link} and {@link #commit} records its target). */
    public RecentLinks recent() {
        return recent;
    }

    /** What was stored and linked, and how many blobs there are (for the metrics). */
    public Stats stats() {
        return stats;
    }

    public Path blobsDir() {
        return blobs;
    }

    public Path uploadsDir() {
        return uploads;
    }

    public DigestLocks locks() {
        return locks;
    }

    public Path path(Digest d) {
        return blobs.resolve(d.hex().substring(0, 2)).resolve(d.hex());
    }

    /** Creates (or gives their modes back to) {@code .blobs/sha256} and {@code .uploads}. */
    public void init() throws IOException {
        disk.checkWritable();
        Disk.ensureDirectory(blobs.getParent(), Disk.DIR_MODE);
        Disk.ensureDirectory(blobs, Disk.DIR_MODE);
        Disk.ensureDirectory(uploads, Disk.PRIVATE_DIR_MODE);
        Object a = Files.getAttribute(blobs, "unix:dev");
        Object b = Files.getAttribute(uploads, "unix:dev");
        if (!a.equals(b)) {
            throw new IOException(blobs + " and " + uploads + " must be on the same file system");
        }
    }

    /**
     * Empties {@code .uploads} (uploads and post-processing folders a stop cut short), for
     * start-up only: with the root's lock held, none can be in progress. Returns the number
     * of entries removed and their bytes.
     */
    public long[] purgeUploads() throws IOException {
        disk.checkWritable();
        List<String> names = Disk.listAll(uploads);
        long bytes = 0;
        for (String name : names) {
            Path p = uploads.resolve(name);
            bytes += Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? Quota.sizeOf(p) : Files.size(p);
            Disk.deleteTree(p);
        }
        return new long[] {names.size(), bytes};
    }

    /** A new, empty upload file in {@code .uploads}, readable by the daemon only. */
    public Upload startUpload() throws IOException {
        disk.checkWritable();
        if (!Files.isDirectory(uploads, LinkOption.NOFOLLOW_LINKS)) {
            Disk.ensureDirectory(uploads, Disk.PRIVATE_DIR_MODE);
        }
        String name = reserveUploadName();
        Path p = uploads.resolve(name);
        try {
            FileChannel ch = FileChannel.open(p, Set0600.OPTIONS, Set0600.ATTR);
            return new Upload(p, ch, disk.fsync(), () -> active.remove(name));
        } catch (IOException | RuntimeException e) {
            active.remove(name);
            throw e;
        }
    }

    /**
     * A fresh name in {@code .uploads}, marked in use until {@link #releaseUploadName}: the
     * collector never touches an upload in progress, whatever its age. Marked before the
     * file exists, so the collector cannot see the file unmarked.
     */
    public String reserveUploadName() {
        disk.checkWritable();
        String name = Disk.randomName();
        active.add(name);
        return name;
    }

    public void releaseUploadName(String name) {
        active.remove(name);
    }

    /** Whether {@code name} in {@code .uploads} belongs to an upload in progress. */
    public boolean isActiveUpload(String name) {
        return active.contains(name);
    }

    /**
     * The dedup probe: the blob's size if it exists, its mtime refreshed so that the
     * collector leaves it alone for a full lifetime (a link by digest is expected next).
     * On a read-only replica, the size only: a read never touches the root (the writer's
     * collector cannot be held off from here; a link after it answers 404 and the client
     * sends the body).
     */
    public OptionalLong probe(Digest d) throws IOException {
        if (disk.readOnly()) {
            return size(d);
        }
        return locks.withLock(d, () -> {
            Long size = touch(path(d));
            if (size == null) {
                return OptionalLong.empty();
            }
            probed.put(d.hex(), Boolean.TRUE);
            return OptionalLong.of(size);
        });
    }

    /** Whether a probe reported {@code d} existing less than {@link #PROBE_GRACE} ago. */
    public boolean isRecentlyProbed(Digest d) {
        return probed.getIfPresent(d.hex()) != null;
    }

    /** The size of blob {@code d}, if it exists (its mtime is left alone). */
    public OptionalLong size(Digest d) throws IOException {
        try {
            return OptionalLong.of(Files.size(path(d)));
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        }
    }

    /** Hard-links the existing blob {@code d} at {@code target}; 404-kind if it is gone. */
    public long link(Digest d, Path target) throws IOException {
        disk.checkWritable();
        return locks.withLock(d, () -> {
            Long size = touch(path(d));
            if (size == null) {
                throw RepoException.notFound("Blob " + d + " not found");
            }
            linkBlob(d, target);
            return size;
        });
    }

    /**
     * Counts a file a client placed without sending its body ({@code X-Dlrepo-Link}, a
     * registry mount): {@code size} bytes it did not have to send.
     */
    public void linkedByClient(long size) {
        stats.linked.increment();
        stats.linkedBytes.add(size);
    }

    /**
     * Stores the finished upload {@code tmp} (whose digest is {@code d}) as a blob, unless
     * that blob exists already, then hard-links the blob at {@code target}.
     */
    public void commit(Path tmp, Digest d, Path target) throws IOException {
        disk.checkWritable();
        locks.withLock(d, () -> {
            moveIn(tmp, d);
            linkBlob(d, target);
            return null;
        });
    }

    /**
     * Stores the finished upload {@code tmp} as blob {@code d} without linking it anywhere
     * yet (a registry layer waiting for its manifest). It is protected from the collector
     * like a probed blob: the link is expected next.
     */
    public void store(Path tmp, Digest d) throws IOException {
        disk.checkWritable();
        if (disk.fsync()) {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
        }
        locks.withLock(d, () -> {
            moveIn(tmp, d);
            probed.put(d.hex(), Boolean.TRUE);
            return null;
        });
    }

    /** Moves {@code tmp} into the store as {@code d}, or drops it if the blob exists; under the lock. */
    private void moveIn(Path tmp, Digest d) throws IOException {
        Path blob = path(d);
        long size = Files.size(tmp);
        if (touch(blob) != null) {
            Files.deleteIfExists(tmp);
            stats.duplicate.increment();
            stats.duplicateBytes.add(size);
        } else {
            Disk.chmod(tmp, Disk.FILE_MODE);
            disk.createDirectories(blob.getParent());
            Files.move(tmp, blob, StandardCopyOption.ATOMIC_MOVE);
            disk.syncDir(blob.getParent());
            stats.stored.increment();
            stats.storedBytes.add(size);
            stats.added(1, size);
        }
    }

    /** Refreshes the mtime; returns the size, or null if there is no such file. */
    private static Long touch(Path blob) throws IOException {
        try {
            Files.setLastModifiedTime(blob, FileTime.fromMillis(System.currentTimeMillis()));
            return Files.size(blob);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private void linkBlob(Digest d, Path target) throws IOException {
        Path blob = path(d);
        try {
            for (int attempt = 0;; attempt++) {
                try {
                    linkReplacing(blob, target);
                    break;
                } catch (FileSystemException e) {
                    if (!tooManyLinks(e) || attempt >= MAX_LINK_RETRIES) {
                        throw e;
                    }
                    newGeneration(d);
                }
            }
        } finally {
            disk.changed(target);
        }
        disk.syncDir(target.getParent());
        recent.record(d, target);
    }

    /** Hard-links {@code blob} at {@code target}, atomically replacing what was there. */
    private static void linkReplacing(Path blob, Path target) throws IOException {
        try {
            Files.createLink(target, blob);
            return;
        } catch (FileAlreadyExistsException e) {
            // replace below
        }
        Path tmp = TreePaths.temporarySibling(target);
        try {
            Files.createLink(tmp, blob);
            // a rename onto another link of the same inode does nothing: tmp is deleted below
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static boolean tooManyLinks(FileSystemException e) {
        return e.getReason() != null && e.getReason().contains("Too many links");
    }

    /**
     * The blob reached the file system's link limit: store a fresh copy under the same
     * name. The old inode stays linked from the tree; new links go to the copy.
     */
    private void newGeneration(Digest d) throws IOException {
        Path blob = path(d);
        Path copy = uploads.resolve(Disk.randomName());
        try {
            Files.copy(blob, copy);
            if (disk.fsync()) {
                try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            }
            Disk.chmod(copy, Disk.FILE_MODE);
            Files.move(copy, blob, StandardCopyOption.ATOMIC_MOVE);
            disk.syncDir(blob.getParent());
            LOG.info("blob {} reached the link limit, stored a new generation", d);
        } finally {
            Files.deleteIfExists(copy);
        }
    }

    /**
     * Counts for the metrics. Stored and duplicate: a body was received, for a new blob or
     * one that existed (it was dropped). The number of blobs and their bytes are counted by
     * the orphan collector's walk ({@link #counted}), then moved by each blob stored and
     * each one the collector deletes, until its next walk.
     */
    public static final class Stats {
        private final LongAdder stored = new LongAdder();
        private final LongAdder storedBytes = new LongAdder();
        private final LongAdder duplicate = new LongAdder();
        private final LongAdder duplicateBytes = new LongAdder();
        private final LongAdder linked = new LongAdder();
        private final LongAdder linkedBytes = new LongAdder();
        // guarded by this
        private long blobs;
        private long bytes;
        private double countedAt;

        /** Uploads by result ({@code stored}, {@code duplicate}, {@code linked}): count and bytes. */
        public long[] uploads(String result) {
            return switch (result) {
                case "stored" -> new long[] {stored.sum(), storedBytes.sum()};
                case "duplicate" -> new long[] {duplicate.sum(), duplicateBytes.sum()};
                case "linked" -> new long[] {linked.sum(), linkedBytes.sum()};
                default -> throw new IllegalArgumentException(result);
            };
        }

        /** The walk of the collector found {@code blobs} blobs of {@code bytes} bytes. */
        public synchronized void counted(long blobs, long bytes) {
            this.blobs = blobs;
            this.bytes = bytes;
            java.time.Instant now = java.time.Instant.now();
            this.countedAt = now.getEpochSecond() + now.getNano() / 1e9;
        }

        /** {@code n} blobs of {@code size} bytes in all were stored (or deleted, negative). */
        public synchronized void added(long n, long size) {
            blobs += n;
            bytes += size;
        }

        /** Blobs, their bytes and when they were counted (epoch seconds), or null before the first walk. */
        public synchronized double[] blobs() {
            return countedAt == 0 ? null : new double[] {blobs, bytes, countedAt};
        }
    }

    private static final class Set0600 {
        static final Set<StandardOpenOption> OPTIONS =
                java.util.EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        static final java.nio.file.attribute.FileAttribute<?> ATTR =
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    }
}
