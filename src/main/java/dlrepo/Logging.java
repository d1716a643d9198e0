package dlrepo;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.encoder.Encoder;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.LoggerFactory;

/**
 * Log set-up from {@code DLREPO_LOG_LEVEL}, {@code DLREPO_LOG_OUTPUT} and
 * {@code DLREPO_ACCESS_LOG}. Every output goes to stderr: {@code console} with a
 * timestamp, {@code syslog} with the {@code <N>} priority prefix that journald and syslog
 * daemons reading a service's stderr understand (they add the timestamp themselves),
 * {@code json} one JSON object per line. The access log ({@code dlrepo.access}) has its own
 * appender: stderr in the same output format, or a file of plain lines reopened on SIGHUP.
 */
public final class Logging {
    /** The logger of the access log lines (written by http/AccessLog). */
    public static final String ACCESS = "dlrepo.access";
    private static final String ACCESS_ASYNC = "access-async";
    private static final String ACCESS_FILE = "access-file";
    private static final String ACCESS_WRITER = "access-writer";

    private Logging() {
    }

    static void configure(String level, String output, String accessLog) {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ctx.reset();
        Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(stderr(ctx, "stderr", output.equals("json") ? json(ctx)
                : pattern(ctx, output.equals("syslog")
                        ? "<%syslogPriority>%logger{0}: %msg%n%ex{full}"
                        : "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level %logger{0}: %msg%n%ex{full}")));
        root.setLevel(Level.WARN);
        ctx.getLogger("dlrepo").setLevel(toLevel(level));
        for (String noisy : new String[] {"io.undertow", "org.xnio", "org.jboss"}) {
            ctx.getLogger(noisy).setLevel(Level.WARN);
        }

        Logger access = ctx.getLogger(ACCESS);
        access.setAdditive(false);
        if (accessLog.equals("off")) {
            access.setLevel(Level.OFF);
            return;
        }
        access.setLevel(Level.INFO);
        Appender<ILoggingEvent> target;
        if (accessLog.equals("on")) {
            target = stderr(ctx, "access-stderr", switch (output) {
                case "json" -> json(ctx);
                case "syslog" -> pattern(ctx, "<6>%msg%n");
                default -> pattern(ctx, "%msg%n");
            });
        } else {
            FileAppender<ILoggingEvent> file = new FileAppender<>();
            file.setContext(ctx);
            file.setName(ACCESS_FILE);
            file.setFile(accessLog);
            file.setAppend(true);
            file.setEncoder(pattern(ctx, "%msg%n"));
            file.start();
            target = file;
        }
        // the access line is written on IO threads too: a slow reader of stderr or a slow
        // disk must not hold them, hence a queue in front of the writer, and lines dropped
        // (counted) when it is full rather than a request thread waiting for room
        DroppingQueue async = new DroppingQueue();
        async.setContext(ctx);
        async.setName(ACCESS_ASYNC);
        async.setQueueSize(8192);
        async.setDiscardingThreshold(0);
        async.setNeverBlock(true);
        async.addAppender(async.writer(ctx, target));
        async.start();
        access.addAppender(async);
    }

    /**
     * The access log's queue: a line that finds it full is dropped and counted. The count is
     * reported by one WARN on the {@code dlrepo} logger at most every minute, from the
     * queue's own writer thread once it writes again (never from a request thread, whose
     * standard error may be the output that is stuck).
     */
    private static final class DroppingQueue extends AsyncAppender {
        private final AtomicLong dropped = new AtomicLong();

        @Override
        protected void append(ILoggingEvent event) {
            if (getRemainingCapacity() == 0) {
                dropped.incrementAndGet();
                return;
            }
            super.append(event);
        }

        /** {@code target} writing the queued lines, followed by the report of the dropped ones. */
        Appender<ILoggingEvent> writer(LoggerContext ctx, Appender<ILoggingEvent> target) {
            Writer w = new Writer(target, dropped);
            w.setContext(ctx);
            w.setName(ACCESS_WRITER);
            w.start();
            return w;
        }
    }

    /** Runs on the queue's thread (an AsyncAppender takes a single appender, hence this one). */
    private static final class Writer extends UnsynchronizedAppenderBase<ILoggingEvent> {
        private static final long REPORT_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
        private final Appender<ILoggingEvent> target;
        private final AtomicLong dropped;
        private long lastReport = System.nanoTime() - REPORT_EVERY_NANOS;

        Writer(Appender<ILoggingEvent> target, AtomicLong dropped) {
            this.target = target;
            this.dropped = dropped;
        }

        @Override
        protected void append(ILoggingEvent event) {
            target.doAppend(event);
            long now = System.nanoTime();
            if (dropped.get() == 0 || now - lastReport < REPORT_EVERY_NANOS) {
                return;
            }
            lastReport = now;
            LoggerFactory.getLogger(Logging.class).warn(
                    "access log: {} lines dropped (the log output is not keeping up)", dropped.getAndSet(0));
        }

        @Override
        public void stop() {
            super.stop();
            target.stop();
        }
    }

    /**
     * SIGHUP: reopen the access log file (after logrotate moved it away), if there is one.
     * Lines in flight go to the old file or the new one.
     */
    public static void reopen() {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        if (ctx.getLogger(ACCESS).getAppender(ACCESS_ASYNC) instanceof AsyncAppender async
                && async.getAppender(ACCESS_WRITER) instanceof Writer writer
                && writer.target instanceof FileAppender<ILoggingEvent> file) {
            try {
                file.openFile(file.getFile());
            } catch (IOException e) {
                LoggerFactory.getLogger(Logging.class).error("DLREPO_ACCESS_LOG={}: cannot reopen it: {}",
                        file.getFile(), e.toString());
            }
        }
    }

    /** Writes out the queued lines and closes the outputs (at exit). */
    public static void flush() {
        ((LoggerContext) LoggerFactory.getILoggerFactory()).stop();
    }

    private static Appender<ILoggingEvent> stderr(LoggerContext ctx, String name, Encoder<ILoggingEvent> encoder) {
        ConsoleAppender<ILoggingEvent> app = new ConsoleAppender<>();
        app.setContext(ctx);
        app.setName(name);
        app.setTarget("System.err");
        app.setEncoder(encoder);
        app.start();
        return app;
    }

    private static Encoder<ILoggingEvent> pattern(LoggerContext ctx, String pattern) {
        @SuppressWarnings("unchecked")
        java.util.Map<String, String> rules = (java.util.Map<String, String>) ctx.getObject(
                ch.qos.logback.core.CoreConstants.PATTERN_RULE_REGISTRY);
        if (rules == null) {
            rules = new java.util.HashMap<>();
            ctx.putObject(ch.qos.logback.core.CoreConstants.PATTERN_RULE_REGISTRY, rules);
        }
        rules.put("syslogPriority", SyslogPriority.class.getName());
        PatternLayoutEncoder enc = new PatternLayoutEncoder();
        enc.setContext(ctx);
        enc.setPattern(pattern);
        enc.start();
        return enc;
    }

    /**
     * One object per line: timestamp (epoch milliseconds), level, loggerName, kvpList (the
     * access log's fields, values as strings), formattedMessage, throwable.
     */
    private static Encoder<ILoggingEvent> json(LoggerContext ctx) {
        JsonEncoder enc = new JsonEncoder();
        enc.setContext(ctx);
        enc.setWithSequenceNumber(false);
        enc.setWithNanoseconds(false);
        enc.setWithContext(false);
        enc.setWithThreadName(false);
        enc.setWithMDC(false);
        enc.setWithMarkers(false);
        enc.setWithMessage(false);
        enc.setWithArguments(false);
        enc.setWithFormattedMessage(true);
        enc.setWithKVPList(true);
        enc.setWithThrowable(true);
        enc.start();
        return enc;
    }

    static Level toLevel(String level) {
        return switch (level) {
            case "DEBUG" -> Level.DEBUG;
            case "INFO" -> Level.INFO;
            case "ERROR", "CRITICAL" -> Level.ERROR;
            default -> Level.WARN;
        };
    }

    /** {@code %syslogPriority}: 3 error, 4 warning, 6 info, 7 debug. */
    public static final class SyslogPriority extends ch.qos.logback.classic.pattern.ClassicConverter {
        @Override
        public String convert(ILoggingEvent event) {
            return switch (event.getLevel().toInt()) {
                case Level.ERROR_INT -> "3";
                case Level.WARN_INT -> "4";
                case Level.INFO_INT -> "6";
                default -> "7";
            };
        }
    }
}
