package dlrepo.cleanup;

import dlrepo.fs.BlobStore;
import dlrepo.fs.Digest;
import dlrepo.fs.Disk;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes what nothing references any more: blobs of {@code .blobs} whose link count is 1
 * and stale files of {@code .uploads}, once older than the orphan lifetime. Walks one
 * folder at a time (constant memory), decides for one file at a time, and takes the
 * blob's digest lock only around the final re-check and unlink, so that a blob being
 * linked by an upload is never deleted under it. Uploads in progress are never touched,
 * whatever their age: the lifetime only matters for what a crash left behind.
 */
public final class OrphanCollector {
    private static final Logger LOG = LoggerFactory.getLogger(OrphanCollector.class);
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

    /** What one pass freed. */
    public record Result(long blobs, long bytes, boolean interrupted) {
    }

    private final BlobStore store;
    private final long lifetimeMillis;

    public OrphanCollector(BlobStore store, long lifetimeSeconds) {
        this.store = store;
        this.lifetimeMillis = lifetimeSeconds * 1000;
    }

    /**
     * One pass. A pass that walked all of {@code .blobs} also tells the store how many blobs
     * it kept and their bytes (the metrics).
     */
    public Result collect(BooleanSupplier stopping) throws IOException {
        Counter c = new Counter();
        try (DirectoryStream<Path> fanout = Files.newDirectoryStream(store.blobsDir())) {
            for (Path sub : fanout) {
                if (stopping.getAsBoolean()) {
                    return c.result(true);
                }
                if (Files.isDirectory(sub, LinkOption.NOFOLLOW_LINKS)) {
                    collectBlobs(sub, c, stopping);
                }
            }
        } catch (NoSuchFileException e) {
            // no blob yet
        }
        if (stopping.getAsBoolean()) {
            return c.result(true);
        }
        store.stats().counted(c.keptBlobs, c.keptBytes);
        try (DirectoryStream<Path> uploads = Files.newDirectoryStream(store.uploadsDir())) {
            for (Path p : uploads) {
                if (stopping.getAsBoolean()) {
                    return c.result(true);
                }
                collectUpload(p, c);
            }
        } catch (NoSuchFileException e) {
            // no upload yet
        }
        return c.result(false);
    }

    private void collectBlobs(Path dir, Counter c, BooleanSupplier stopping) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (stopping.getAsBoolean()) {
                    return;
                }
                String name = p.getFileName().toString();
                long size = sizeIfKept(p, lifetimeMillis);
                if (size >= 0) {
                    c.keptBlobs++;
                    c.keptBytes += size;
                    continue;
                }
                if (size == GONE) {
                    continue;
                }
                if (!HEX.matcher(name).matches()) {
                    deleteIfOrphan(p, c);
                    continue;
                }
                Digest d = new Digest(name);
                long blobsBefore = c.blobs;
                store.locks().withLock(d, () -> {
                    // re-checked under the lock: an upload may have linked or touched it
                    if (!store.isRecentlyProbed(d)) {
                        deleteIfOrphan(p, c);
                    }
                    return null;
                });
                if (c.blobs == blobsBefore) {
                    // kept after all
                    try {
                        c.keptBytes += Files.size(p);
                        c.keptBlobs++;
                    } catch (NoSuchFileException e) {
                        // deleted meanwhile
                    }
                }
            }
        }
    }

    private void collectUpload(Path p, Counter c) throws IOException {
        if (store.isActiveUpload(p.getFileName().toString())) {
            return;
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            // a post-processing copy left by a crash
            if (age(Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS)) >= lifetimeMillis) {
                LOG.info("removing abandoned work folder {}", p);
                Disk.deleteTree(p);
            }
            return;
        }
        deleteIfOrphan(p, c);
    }

    private void deleteIfOrphan(Path p, Counter c) throws IOException {
        Map<String, Object> a;
        try {
            a = Files.readAttributes(p, "unix:nlink,size,lastModifiedTime,mode", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        }
        if (!isRegular((Integer) a.get("mode")) || (Integer) a.get("nlink") != 1
                || age((FileTime) a.get("lastModifiedTime")) < lifetimeMillis) {
            return;
        }
        if (Files.deleteIfExists(p)) {
            c.blobs++;
            c.bytes += (Long) a.get("size");
            LOG.debug("deleted orphan {}", p);
        }
    }

    private static final long GONE = -1;
    private static final long ORPHAN = -2;

    /**
     * The cheap first look, without any lock: the size of a regular file that is kept,
     * {@link #ORPHAN} for a candidate, {@link #GONE} for a file gone or not regular.
     */
    private static long sizeIfKept(Path p, long lifetime) throws IOException {
        try {
            Map<String, Object> a = Files.readAttributes(p, "unix:nlink,size,lastModifiedTime,mode",
                    LinkOption.NOFOLLOW_LINKS);
            if (!isRegular((Integer) a.get("mode"))) {
                return GONE;
            }
            boolean orphan = (Integer) a.get("nlink") == 1 && age((FileTime) a.get("lastModifiedTime")) >= lifetime;
            return orphan ? ORPHAN : (Long) a.get("size");
        } catch (NoSuchFileException e) {
            return GONE;
        }
    }

    private static boolean isRegular(int mode) {
        return (mode & 0170000) == 0100000;
    }

    private static long age(FileTime t) {
        return System.currentTimeMillis() - t.toMillis();
    }

    private static final class Counter {
        long blobs;
        long bytes;
        long keptBlobs;
        long keptBytes;

        Result result(boolean interrupted) {
            return new Result(blobs, bytes, interrupted);
        }
    }
}
