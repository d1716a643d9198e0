package dlrepo;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * Log set-up from {@code DLREPO_LOG_LEVEL}, {@code DLREPO_LOG_OUTPUT} and
 * {@code DLREPO_ACCESS_LOG}. Every output goes to stderr: {@code console} with a
 * timestamp, {@code syslog} with the {@code <N>} priority prefix that journald and syslog
 * daemons reading a service's stderr understand (they add the timestamp themselves),
 * {@code json} one JSON object per line. The access log ({@code dlrepo.access}) has its own
 * appender ({@link AccessLogWriter}): stderr in the same output format, or a file of plain
 * lines reopened on SIGHUP.
 */
public final class Logging {
    /** The logger of the access log lines (written by http/AccessLog). */
    public static final String ACCESS = "dlrepo.access";
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
        boolean toStderr = accessLog.equals("on");
        Encoder<ILoggingEvent> lines = !toStderr ? pattern(ctx, "%msg%n") : switch (output) {
            case "json" -> json(ctx);
            case "syslog" -> pattern(ctx, "<6>%msg%n");
            default -> pattern(ctx, "%msg%n");
        };
        AccessLogWriter writer = new AccessLogWriter(lines, toStderr ? null : Path.of(accessLog));
        writer.setContext(ctx);
        writer.setName(ACCESS_WRITER);
        writer.start();
        access.addAppender(writer);
    }

    /**
     * SIGHUP: reopen the access log file (after logrotate moved it away), if there is one.
     * Lines in flight go to the old file or the new one.
     */
    public static void reopen() {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        if (ctx.getLogger(ACCESS).getAppender(ACCESS_WRITER) instanceof AccessLogWriter writer) {
            writer.reopen();
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
