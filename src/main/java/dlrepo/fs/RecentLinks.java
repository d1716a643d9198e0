package dlrepo.fs;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where each blob was last linked into the tree: for a digest, the few most recent files
 * (paths relative to the root, newest first). A bounded, in-memory hint for finding a
 * copy of some content that a caller may read (there is no index from digests to
 * paths): whoever uses an entry checks it on disk first. Forgotten at restart.
 */
public final class RecentLinks {
    /** How many digests are remembered (least recently used ones are dropped first). */
    static final int DIGESTS = 20_000;
    /** How many files are remembered per digest. */
    static final int PER_DIGEST = 4;

    private final Path root;
    // maintenance on the calling thread: a task on the common pool for every upload costs
    // more than the little work it does
    private final Cache<Digest, List<String>> links =
            Caffeine.newBuilder().maximumSize(DIGESTS).executor(Runnable::run).build();

    RecentLinks(Path root) {
        this.root = root;
    }

    /** Remembers that {@code file} (inside the root) holds blob {@code d}. */
    public void record(Digest d, Path file) {
        if (!file.startsWith(root)) {
            return;
        }
        String rel = root.relativize(file).toString();
        links.asMap().compute(d, (k, old) -> {
            List<String> list = new ArrayList<>(PER_DIGEST);
            list.add(rel);
            if (old != null) {
                for (String o : old) {
                    if (list.size() < PER_DIGEST && !o.equals(rel)) {
                        list.add(o);
                    }
                }
            }
            return List.copyOf(list);
        });
    }

    /** The files last recorded for {@code d}, newest first (they may have changed since). */
    public List<Path> of(Digest d) {
        List<String> list = links.getIfPresent(d);
        if (list == null) {
            return List.of();
        }
        List<Path> out = new ArrayList<>(list.size());
        for (String rel : list) {
            out.add(root.resolve(rel));
        }
        return out;
    }
}
