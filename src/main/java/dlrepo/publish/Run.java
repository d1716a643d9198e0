package dlrepo.publish;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One piece of work on a tag (a release in the background, or an unrelease in a request's
 * thread) while it keeps the tag busy. It can be stopped: a run not started yet never
 * starts, a running one is interrupted and sees {@link #stopped()}.
 */
final class Run {
    /** What to do when stopped before it started: write the reason as the tag's status. */
    interface Work {
        void run(Run run);

        void neverStarted(String reason);
    }

    private final Work work;
    private final Runnable finished;
    private final CountDownLatch done = new CountDownLatch(1);
    private boolean begun;
    private Thread thread;
    private volatile boolean stopped;
    private volatile String reason;

    /** {@code finished} is called once, when the work ended (or was stopped before starting). */
    Run(Work work, Runnable finished) {
        this.work = work;
        this.finished = finished;
    }

    /** A run already going on in the calling thread (an unrelease); {@link #end()} when done. */
    static Run current(Runnable finished) {
        Run r = new Run(null, finished);
        r.begun = true;
        r.thread = Thread.currentThread();
        return r;
    }

    /** Runs the work in the calling thread (a pool's), unless stopped before. */
    void execute() {
        synchronized (this) {
            if (begun) {
                return;
            }
            begun = true;
            thread = Thread.currentThread();
        }
        try {
            work.run(this);
        } finally {
            end();
        }
    }

    /** Ends a run started with {@link #current}. */
    void end() {
        synchronized (this) {
            thread = null;
        }
        Thread.interrupted();
        finished.run();
        done.countDown();
    }

    /** Stops the run; {@code why} (null: say nothing) becomes its tag's status after {@code error: }. */
    void stop(String why) {
        boolean never;
        synchronized (this) {
            reason = why;
            stopped = true;
            never = !begun;
            begun = true;
            if (thread != null) {
                thread.interrupt();
            }
        }
        if (never) {
            try {
                if (why != null && work != null) {
                    work.neverStarted(why);
                }
            } finally {
                finished.run();
                done.countDown();
            }
        }
    }

    boolean stopped() {
        return stopped;
    }

    /** Why it was stopped, null if by an unrelease (which writes its own status). */
    String reason() {
        return reason;
    }

    boolean await(long millis) throws InterruptedException {
        return done.await(millis, TimeUnit.MILLISECONDS);
    }

    void await() throws InterruptedException {
        done.await();
    }
}
