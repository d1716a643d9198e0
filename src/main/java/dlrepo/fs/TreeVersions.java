package dlrepo.fs;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A version number for every folder of the root, raised by each change at or below it:
 * whatever was computed from a folder while its version stayed the same is still true.
 * The daemon is the only writer of its root, and every write goes through {@link Disk},
 * which calls {@link #changed} once the change is made (before the request that made it
 * answers). Changes by anybody else are only seen after {@link #changedAll()}.
 *
 * <p>Versions are kept in a fixed array of counters indexed by the folder's hash: two
 * folders sharing a counter only make a cached view be recomputed more often, never
 * served stale, and memory does not grow with the size of the tree.
 */
public final class TreeVersions {
    private static final int STRIPES = 1 << 13;

    private final Path root;
    private final AtomicLongArray stripes = new AtomicLongArray(STRIPES);
    private final AtomicLong everything = new AtomicLong();

    public TreeVersions(Path root) {
        this.root = root;
    }

    /** The version of {@code dir}: it changes whenever anything at or below it changes. */
    public long of(Path dir) {
        return stripes.get(index(dir)) + everything.get();
    }

    /** {@code p} (a file or folder of the root) changed: raises it and every folder above it. */
    public void changed(Path p) {
        for (Path d = p; d != null && d.startsWith(root); d = d.getParent()) {
            stripes.incrementAndGet(index(d));
        }
    }

    /** Everything may have changed (the root was changed by hand). */
    public void changedAll() {
        everything.incrementAndGet();
    }

    private static int index(Path p) {
        int h = p.hashCode();
        return (h ^ (h >>> 16)) & (STRIPES - 1);
    }
}
