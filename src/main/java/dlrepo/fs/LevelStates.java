package dlrepo.fs;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.ToIntFunction;

/**
 * What listings are computed from, kept per level folder while that folder's version
 * ({@link TreeVersions}) and modification time hold: a branch's tags, a tag's jobs. Each
 * caller's listing is then filtered from memory (the rights differ, the states do not),
 * and a change in one branch leaves the other branches' states in memory for
 * {@code /branches/}. Bounded by an estimate of their weight in bytes.
 */
final class LevelStates {
    /** Bound on how long a change made behind the daemon's back stays unseen without SIGHUP. */
    private static final Duration LIFETIME = Duration.ofSeconds(60);

    interface Reader<T> {
        T read() throws IOException;
    }

    /** {@code kind}: what is read of the folder (a folder may be read in more than one way). */
    private record Key(Path folder, String kind) {
    }

    private record Snapshot(FolderStamp stamp, Object value, int weight) {
    }

    private final TreeVersions versions;
    private final Cache<Key, Snapshot> snapshots;

    /** States of at most about {@code maxBytes} (0: none kept, every call reads the disk). */
    LevelStates(TreeVersions versions, long maxBytes) {
        this.versions = versions;
        this.snapshots = maxBytes <= 0 ? null
                : Caffeine.newBuilder().maximumWeight(maxBytes).expireAfterWrite(LIFETIME)
                        .weigher((Key k, Snapshot s) -> s.weight).build();
    }

    /**
     * The state of {@code folder} of type {@code kind}: the one in memory if nothing changed
     * since it was read, else {@code read}'s (kept unless null). {@code weight} estimates
     * its size in bytes.
     */
    @SuppressWarnings("unchecked")
    <T> T get(Path folder, String kind, Reader<T> read, ToIntFunction<T> weight) throws IOException {
        if (snapshots == null) {
            return read.read();
        }
        Key key = new Key(folder, kind);
        Snapshot s = snapshots.getIfPresent(key);
        if (s != null && s.stamp.isCurrent(versions)) {
            return (T) s.value;
        }
        FolderStamp stamp = FolderStamp.of(versions, folder);
        T value = read.read();
        if (value != null) {
            snapshots.put(key, new Snapshot(stamp, value, 64 + weight.applyAsInt(value)));
        }
        return value;
    }
}
