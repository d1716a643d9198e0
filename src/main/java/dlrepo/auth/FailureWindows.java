package dlrepo.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;

/**
 * Failed checks by key, in windows that start with a key's first check: a bounded cache
 * (the least recent keys are forgotten first), so that a flood of keys costs a bounded
 * amount of memory.
 */
final class FailureWindows {
    enum Start { STARTED, BLOCKED, BUSY }

    private final int limit;
    private final long windowNanos;
    private final Cache<String, Window> windows;

    FailureWindows(int limit, long windowNanos, int size, Ticker ticker) {
        this.limit = limit;
        this.windowNanos = windowNanos;
        this.windows = Caffeine.newBuilder().maximumSize(size).ticker(ticker)
                .expireAfterWrite(Duration.ofNanos(windowNanos)).build();
    }

    /** The window of {@code key} at {@code now}: a new one if it had none or its window ended. */
    Window of(String key, long now) {
        Window w = windows.get(key, k -> new Window(now + windowNanos, limit));
        if (w.endsAt <= now) {
            // ended a moment before the cache let it expire
            windows.asMap().remove(key, w);
            w = windows.get(key, k -> new Window(now + windowNanos, limit));
        }
        return w;
    }

    /**
     * One key's failures in a window, and its checks under way (which may fail too): a check
     * starts only while both together stay below the limit.
     */
    static final class Window {
        final long endsAt;
        private final int limit;
        private int failures;
        private int running;

        private Window(long endsAt, int limit) {
            this.endsAt = endsAt;
            this.limit = limit;
        }

        synchronized Start start() {
            if (failures >= limit) {
                return Start.BLOCKED;
            }
            if (failures + running >= limit) {
                return Start.BUSY;
            }
            running++;
            return Start.STARTED;
        }

        /** Ends a check that {@link #start} started. */
        synchronized void end(boolean failed) {
            running--;
            if (failed) {
                failures++;
            }
        }
    }
}
