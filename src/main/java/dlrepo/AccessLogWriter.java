package dlrepo;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.encoder.Encoder;
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.LoggerFactory;

/**
 * The access log's appender. Lines are queued (at most {@value #QUEUE}) and written by a
 * thread of its own in batches: one {@code write(2)} per batch, made as soon as the queue is
 * empty, so that a busy server writes few times and an idle server's line appears at once.
 * The access line is logged on IO threads too: a slow reader of stderr or a slow disk must
 * not hold them, hence a line that finds the queue full is dropped and counted. The count
 * is reported by one WARN on the {@code dlrepo} logger at most every minute, from the writer
 * thread once it writes again (never from a request thread, whose standard error may be the
 * output that is stuck).
 */
final class AccessLogWriter extends UnsynchronizedAppenderBase<ILoggingEvent> implements Runnable {
    static final int QUEUE = 8192;
    /** A batch is written out when it reaches this size, whether or not the queue is empty. */
    private static final int BATCH_BYTES = 64 * 1024;
    /**
     * After a batch, the writer waits this long before looking again, without asking to be
     * woken: under load the next lines are there by then, and a request thread never pays
     * for waking it. Only when the queue is still empty does it sleep until the next line.
     */
    private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long REPORT_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final long STOP_MILLIS = 2000;

    private final ArrayBlockingQueue<ILoggingEvent> queue = new ArrayBlockingQueue<>(QUEUE);
    private final AtomicLong dropped = new AtomicLong();
    /** The writer is parked until a line comes: the first line after that unparks it. */
    private final AtomicBoolean sleeping = new AtomicBoolean();
    private final Encoder<ILoggingEvent> encoder;
    /** The file, or null for standard error. */
    private final Path file;
    private final Thread thread = new Thread(this, "access-log");
    private volatile boolean reopen;
    private volatile boolean closing;

    // the writer thread's own (out is opened by start(), before the thread starts)
    private final ByteArrayOutputStream batch = new ByteArrayOutputStream(BATCH_BYTES + 16 * 1024);
    private int batchLines;
    private OutputStream out;
    private String failure;
    private long lastReport = System.nanoTime() - REPORT_EVERY_NANOS;

    /** Lines encoded by {@code encoder}, appended to {@code file}, or to standard error if null. */
    AccessLogWriter(Encoder<ILoggingEvent> encoder, Path file) {
        this.encoder = encoder;
        this.file = file;
        thread.setDaemon(true);
    }

    @Override
    public void start() {
        try {
            out = file == null ? System.err : new FileOutputStream(file.toFile(), true);
        } catch (IOException e) {
            LoggerFactory.getLogger(Logging.class).error("DLREPO_ACCESS_LOG={}: cannot open it: {}", file, e.toString());
            return;
        }
        super.start();
        thread.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
        event.prepareForDeferredProcessing();
        if (!queue.offer(event)) {
            dropped.incrementAndGet();
            return;
        }
        // offer, then read the flag; the writer sets the flag, then looks at the queue:
        // one of the two sees the other's write, so no line waits for a sleeping writer
        if (sleeping.get() && sleeping.compareAndSet(true, false)) {
            LockSupport.unpark(thread);
        }
    }

    /** SIGHUP: the writer reopens the file by its name (logrotate moved it away). */
    void reopen() {
        if (file != null && isStarted()) {
            reopen = true;
            LockSupport.unpark(thread);
        }
    }

    /** Writes out the queued lines (for at most a few seconds: the output may be stuck). */
    @Override
    public void stop() {
        if (!isStarted()) {
            return;
        }
        super.stop();
        closing = true;
        LockSupport.unpark(thread);
        try {
            thread.join(STOP_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void run() {
        List<ILoggingEvent> lines = new ArrayList<>(QUEUE);
        while (true) {
            if (reopen) {
                reopen = false;
                writeOut();
                reopenFile();
            }
            if (queue.drainTo(lines) > 0) {
                for (ILoggingEvent line : lines) {
                    byte[] bytes;
                    try {
                        bytes = encoder.encode(line);
                    } catch (RuntimeException e) {
                        dropped.incrementAndGet(); // one line lost, not the thread and the lines after it
                        continue;
                    }
                    batch.write(bytes, 0, bytes.length);
                    batchLines++;
                    if (batch.size() >= BATCH_BYTES) {
                        writeOut();
                    }
                }
                lines.clear();
                continue; // lines that came meanwhile go in the same batch
            }
            writeOut();
            if (closing) {
                break;
            }
            LockSupport.parkNanos(LINGER_NANOS);
            if (!queue.isEmpty()) {
                continue;
            }
            sleeping.set(true);
            if (queue.isEmpty() && !closing && !reopen) {
                LockSupport.park(this);
            }
            sleeping.set(false);
        }
        if (file != null) {
            close(out);
        }
    }

    private void writeOut() {
        if (batchLines == 0) {
            return;
        }
        try {
            batch.writeTo(out);
            out.flush();
        } catch (IOException e) {
            dropped.addAndGet(batchLines);
            failure = e.toString();
        } finally {
            batch.reset();
            batchLines = 0;
        }
        long now = System.nanoTime();
        if (dropped.get() == 0 || now - lastReport < REPORT_EVERY_NANOS) {
            return;
        }
        lastReport = now;
        LoggerFactory.getLogger(Logging.class).warn("access log: {} lines dropped ({})", dropped.getAndSet(0),
                failure == null ? "the log output is not keeping up" : "cannot write: " + failure);
        failure = null;
    }

    /** Lines in flight went to the old file; if the file cannot be opened, the old one stays. */
    private void reopenFile() {
        try {
            OutputStream next = new FileOutputStream(file.toFile(), true);
            close(out);
            out = next;
        } catch (IOException e) {
            LoggerFactory.getLogger(Logging.class).error("DLREPO_ACCESS_LOG={}: cannot reopen it: {}",
                    file, e.toString());
        }
    }

    private static void close(OutputStream stream) {
        try {
            stream.close();
        } catch (IOException e) {
            // the lines were written (and flushed) before: nothing left to lose
        }
    }
}
