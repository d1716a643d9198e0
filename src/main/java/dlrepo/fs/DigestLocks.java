package dlrepo.fs;

import java.io.IOException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Striped locks, one stripe per digest prefix, shared by every path that links or
 * re-uses an existing blob and by the orphan collector. Under the lock each side
 * re-checks what the other could have changed, so the collector can never unlink a
 * blob between "it exists" and "it is linked".
 */
public final class DigestLocks {
    private static final int STRIPES = 1024;
    private final ReentrantLock[] locks = new ReentrantLock[STRIPES];

    public DigestLocks() {
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new ReentrantLock();
        }
    }

    public interface Body<T> {
        T run() throws IOException;
    }

    public <T> T withLock(Digest digest, Body<T> body) throws IOException {
        ReentrantLock lock = locks[Integer.parseInt(digest.hex().substring(0, 3), 16) % STRIPES];
        lock.lock();
        try {
            return body.run();
        } finally {
            lock.unlock();
        }
    }
}
