package dlrepo;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import org.slf4j.LoggerFactory;

/**
 * Log set-up from {@code DLREPO_LOG_LEVEL} and {@code DLREPO_LOG_OUTPUT}. Both outputs go
 * to stderr: {@code console} with a timestamp, {@code syslog} with the {@code <N>}
 * priority prefix that journald and syslog daemons reading a service's stderr understand
 * (they add the timestamp themselves).
 */
final class Logging {
    private Logging() {
    }

    static void configure(String level, String output) {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ctx.reset();
        PatternLayoutEncoder enc = new PatternLayoutEncoder();
        enc.setContext(ctx);
        enc.setPattern(output.equals("syslog")
                ? "<%syslogPriority>%logger{0}: %msg%n%ex{full}"
                : "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level %logger{0}: %msg%n%ex{full}");
        @SuppressWarnings("unchecked")
        java.util.Map<String, String> rules = (java.util.Map<String, String>) ctx.getObject(
                ch.qos.logback.core.CoreConstants.PATTERN_RULE_REGISTRY);
        if (rules == null) {
            rules = new java.util.HashMap<>();
            ctx.putObject(ch.qos.logback.core.CoreConstants.PATTERN_RULE_REGISTRY, rules);
        }
        rules.put("syslogPriority", SyslogPriority.class.getName());
        enc.start();
        ConsoleAppender<ILoggingEvent> app = new ConsoleAppender<>();
        app.setContext(ctx);
        app.setTarget("System.err");
        app.setEncoder(enc);
        app.start();
        Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(app);
        root.setLevel(Level.WARN);
        ctx.getLogger("dlrepo").setLevel(toLevel(level));
        for (String noisy : new String[] {"io.undertow", "org.xnio", "org.jboss"}) {
            ctx.getLogger(noisy).setLevel(Level.WARN);
        }
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
