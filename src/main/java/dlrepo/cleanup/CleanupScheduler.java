package dlrepo.cleanup;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs every cleanup of the daemon, one at a time, on its own thread. A request while a
 * cleanup is queued or running does not start a second one: it sets {@code needCleanup}
 * (and {@code cleanupTags} if it asks for tag cleanup); when the current run ends, exactly
 * one more run is submitted with what was asked meanwhile, and both flags are reset.
 */
public final class CleanupScheduler implements CleanupTrigger, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CleanupScheduler.class);
    private static final int HISTORY = 20;

    /** One cleanup pass; {@code tags} adds the branch policies and quota refresh. */
    public interface Work {
        Report run(boolean tags, BooleanSupplier stopping) throws Exception;
    }

    /** What a pass did. */
    public record Report(int tagsDeleted, long blobsFreed, long bytesFreed) {
    }

    /** A finished run, for {@code GET /cleanup}. Times are epoch seconds. */
    public record Run(String trigger, boolean tags, double start, double end, int tagsDeleted, long blobsFreed,
            long bytesFreed, String error) {
    }

    /** A snapshot of the scheduler. {@code nextTimerRun} is null without a timer. */
    public record Status(boolean running, boolean pending, Double nextTimerRun, List<Run> runs) {
    }

    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "cleanup");
        t.setDaemon(true);
        return t;
    });
    private final Work work;
    private final long periodSeconds;
    private final List<Consumer<Run>> observers = new CopyOnWriteArrayList<>();
    private volatile boolean stopping;

    // guarded by this
    private boolean active;
    private boolean running;
    private boolean needCleanup;
    private boolean cleanupTags;
    private final Set<String> pendingTriggers = new TreeSet<>();
    private final Deque<Run> history = new ArrayDeque<>();
    private ScheduledFuture<?> timer;

    public CleanupScheduler(Work work, long periodSeconds) {
        this.work = work;
        this.periodSeconds = periodSeconds;
    }

    /**
     * A read-only replica's: nothing ever runs (no start-up run, no timer); a request for a
     * cleanup (SIGUSR1) is logged, the read-write server does the cleanups of the root.
     */
    public static CleanupScheduler readOnly() {
        return new CleanupScheduler(null, 0);
    }

    /** {@code observer} is told of every finished run, on the cleanup thread (the metrics). */
    public void addObserver(Consumer<Run> observer) {
        observers.add(observer);
    }

    /** Whether this is a read-only replica's scheduler, which runs nothing. */
    public boolean isReadOnly() {
        return work == null;
    }

    /** The start-up run, then the timer (unless the period is 0). */
    public synchronized void start() {
        if (isReadOnly()) {
            return;
        }
        schedule(true, "startup");
        if (periodSeconds > 0) {
            timer = executor.scheduleAtFixedRate(() -> schedule(true, "timer"), periodSeconds, periodSeconds,
                    TimeUnit.SECONDS);
        }
    }

    @Override
    public void scheduleCleanup(boolean tags) {
        schedule(tags, "delete");
    }

    public synchronized void schedule(boolean tags, String trigger) {
        if (isReadOnly()) {
            LOG.warn("read-only replica: cleanup ({}) not run here, cleanup runs on the read-write server", trigger);
            return;
        }
        if (stopping) {
            return;
        }
        if (active) {
            needCleanup = true;
            cleanupTags |= tags;
            pendingTriggers.add(trigger);
            return;
        }
        active = true;
        submit(tags, trigger);
    }

    private void submit(boolean tags, String trigger) {
        executor.execute(() -> run(tags, trigger));
    }

    private void run(boolean tags, String trigger) {
        synchronized (this) {
            running = true;
        }
        long t0 = System.nanoTime();
        double start = now();
        Report report = new Report(0, 0, 0);
        String error = null;
        try {
            report = work.run(tags, () -> stopping);
        } catch (Throwable e) {
            error = e.toString();
            LOG.error("cleanup ({}) failed", trigger, e);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (error == null) {
            LOG.info("cleanup ({}{}) done in {}s: {} tags deleted, {} orphan files ({} bytes) freed", trigger,
                    tags ? ", tags" : "", String.format("%.3f", seconds), report.tagsDeleted(),
                    report.blobsFreed(), report.bytesFreed());
        }
        Run done = new Run(trigger, tags, start, now(), report.tagsDeleted(), report.blobsFreed(),
                report.bytesFreed(), error);
        for (Consumer<Run> o : observers) {
            try {
                o.accept(done);
            } catch (RuntimeException e) {
                LOG.warn("after cleanup ({}): {}", trigger, e.toString());
            }
        }
        synchronized (this) {
            running = false;
            history.addFirst(done);
            while (history.size() > HISTORY) {
                history.removeLast();
            }
            if (needCleanup && !stopping) {
                boolean nextTags = cleanupTags;
                String nextTrigger = String.join("+", pendingTriggers);
                needCleanup = false;
                cleanupTags = false;
                pendingTriggers.clear();
                submit(nextTags, nextTrigger);
            } else {
                active = false;
            }
            notifyAll();
        }
    }

    public synchronized Status status() {
        Double next = null;
        if (timer != null) {
            next = now() + timer.getDelay(TimeUnit.MILLISECONDS) / 1000.0;
        }
        return new Status(running, needCleanup || (active && !running), next, new ArrayList<>(history));
    }

    /** Waits until no run is queued or running (for tests and shutdown). */
    public synchronized boolean awaitIdle(long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (active) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    /** Stops the timer; a running cleanup stops at the next file it looks at. */
    @Override
    public void close() {
        stopping = true;
        executor.shutdown();
        try {
            if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private static double now() {
        Instant i = Instant.now();
        return i.getEpochSecond() + i.getNano() / 1e9;
    }
}
