package dlrepo.fs;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Read/write locks on the levels of the tree (branch, tag, job, format). Locking a level
 * read-locks every level above it, top down, so a tag deletion (write lock on the tag)
 * waits for the uploads committing into it (read lock on the tag, write lock on their
 * format) and the other way round. Only the short commit steps take these locks;
 * streaming a body into {@code .uploads} takes none.
 *
 * <p>Locks are kept in a weak-valued map: a lock exists while someone holds it, so the
 * map does not grow with the number of tags ever touched.
 */
public final class TreeLocks {
    private final Cache<Path, ReentrantReadWriteLock> locks = Caffeine.newBuilder().weakValues().build();

    /** A set of held locks, released by {@link #close()} in reverse order. */
    public static final class Lease implements AutoCloseable {
        private final Deque<Lock> held = new ArrayDeque<>();
        // The read/write lock views do not reference their ReentrantReadWriteLock: keep
        // the owners reachable so that the weak map cannot drop a lock that is held.
        private final Deque<ReentrantReadWriteLock> owners = new ArrayDeque<>();

        @Override
        public void close() {
            while (!held.isEmpty()) {
                held.pop().unlock();
            }
            owners.clear();
        }
    }

    /**
     * Locks {@code target} (exclusively or shared) and read-locks each of its ancestors
     * below {@code top} (a {@code branches} folder).
     */
    public Lease lock(Path top, Path target, boolean exclusive) {
        Lease lease = new Lease();
        Path rel = top.relativize(target);
        Path current = top;
        try {
            for (int i = 0; i < rel.getNameCount(); i++) {
                current = current.resolve(rel.getName(i));
                ReentrantReadWriteLock rw = locks.get(current, k -> new ReentrantReadWriteLock());
                boolean last = i == rel.getNameCount() - 1;
                Lock l = last && exclusive ? rw.writeLock() : rw.readLock();
                lease.owners.push(rw);
                l.lock();
                lease.held.push(l);
            }
        } catch (RuntimeException | Error e) {
            lease.close();
            throw e;
        }
        return lease;
    }
}
