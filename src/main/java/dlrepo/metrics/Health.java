package dlrepo.metrics;

import dlrepo.Config;
import dlrepo.Version;
import dlrepo.cleanup.CleanupScheduler;
import dlrepo.fs.Storage;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Whether the daemon can do its work, for {@code GET /health} and {@code dlrepo_health_ok}:
 * the root is a folder, can be written (a byte written to {@code .uploads} and deleted; a
 * read-only replica only lists the root) and has at least DLREPO_HEALTH_MIN_FREE bytes free.
 * Checked at most once a second; the answer names no path (the endpoint is open to all).
 */
public final class Health {
    private static final long CACHE_NANOS = 1_000_000_000L;

    /** One check: {@code reason} is null when healthy. */
    public record Result(boolean ok, String reason, boolean writable, long freeBytes, long checkedAt) {
    }

    private final Config config;
    private final Storage storage;
    private final CleanupScheduler scheduler;
    private final long startNanos = System.nanoTime();
    private final java.security.SecureRandom random = new java.security.SecureRandom();
    private volatile Result last;

    public Health(Config config, Storage storage, CleanupScheduler scheduler) {
        this.config = config;
        this.storage = storage;
        this.scheduler = scheduler;
    }

    /** The state of the root, checked again if the last check is more than a second old. */
    public Result check() {
        Result r = last;
        long now = System.nanoTime();
        if (r != null && now - r.checkedAt() < CACHE_NANOS) {
            return r;
        }
        synchronized (this) {
            r = last;
            if (r == null || now - r.checkedAt() >= CACHE_NANOS) {
                r = checkNow(System.nanoTime());
                last = r;
            }
            return r;
        }
    }

    private Result checkNow(long now) {
        Path root = storage.root();
        if (!Files.isDirectory(root)) {
            return new Result(false, "the root folder is missing", false, -1, now);
        }
        FileStore fs;
        long free;
        try {
            fs = Files.getFileStore(root);
            free = fs.getUsableSpace();
        } catch (IOException e) {
            return new Result(false, "the root folder cannot be read: " + reason(e), false, -1, now);
        }
        if (config.readOnly()) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
                ds.iterator().hasNext();
            } catch (IOException | RuntimeException e) {
                return new Result(false, "the root folder cannot be read: " + reason(e), false, free, now);
            }
            return new Result(true, null, false, free, now);
        }
        if (fs.isReadOnly()) {
            return new Result(false, "the root folder is on a read-only file system", false, free, now);
        }
        if (free < config.healthMinFree()) {
            return new Result(false, "no space left on the root folder's file system: " + size(free)
                    + " free, DLREPO_HEALTH_MIN_FREE is " + size(config.healthMinFree()), false, free, now);
        }
        String notWritable = probe(root);
        if (notWritable != null) {
            return new Result(false, notWritable, false, free, now);
        }
        return new Result(true, null, true, free, now);
    }

    /** Writes a byte in {@code .uploads} and deletes it: null, or why it failed. */
    private String probe(Path root) {
        Path dir = root.resolve(".uploads");
        // a new file of an unguessable name, never through a link planted there
        Path p = (Files.isDirectory(dir) ? dir : root).resolve(".health-" + Long.toHexString(random.nextLong()));
        try {
            Files.write(p, new byte[] {'\n'}, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS);
            // the orphan collector may have taken it already (a file of .uploads nobody uses)
            Files.deleteIfExists(p);
            return null;
        } catch (IOException e) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // the reason below says enough
            }
            String why = reason(e);
            if (why.contains("Read-only file system")) {
                return "the root folder is on a read-only file system";
            }
            if (why.contains("No space left")) {
                return "no space left on the root folder's file system";
            }
            if (e instanceof NoSuchFileException) {
                return "the root folder is missing";
            }
            return "the root folder cannot be written: " + why;
        }
    }

    /** The cause without the path (the answer is public). */
    private static String reason(Exception e) {
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "Permission denied";
        }
        return e.getClass().getSimpleName();
    }

    /** The body of /health. */
    public Map<String, Object> json(Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", r.ok() ? "ok" : "unavailable");
        m.put("ready", r.ok());
        if (!r.ok()) {
            m.put("reason", r.reason());
            m.put("error", r.reason());
        }
        m.put("version", Version.get());
        m.put("uptime_seconds", (System.nanoTime() - startNanos) / 1_000_000_000L);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("writable", r.writable());
        if (config.readOnly()) {
            root.put("read_only_replica", true);
        }
        root.put("free_bytes", r.freeBytes() < 0 ? null : r.freeBytes());
        root.put("min_free_bytes", config.healthMinFree());
        m.put("root", root);
        CleanupScheduler.Status s = scheduler.status();
        Map<String, Object> cleanup = new LinkedHashMap<>();
        cleanup.put("running", s.running());
        // whether, not why: the error may name paths of the tree, and /health is open to anyone
        cleanup.put("last_run_failed", !s.runs().isEmpty() && s.runs().get(0).error() != null);
        m.put("cleanup", cleanup);
        return m;
    }

    /** {@code 512 KiB}, {@code 1 MiB}, {@code 1.5 GiB}. */
    static String size(long bytes) {
        String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        String n = String.format(Locale.ROOT, "%.1f", v);
        if (n.endsWith(".0")) {
            n = n.substring(0, n.length() - 2);
        }
        return n + " " + units[u];
    }
}
