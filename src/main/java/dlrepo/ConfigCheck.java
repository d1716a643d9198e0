package dlrepo;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dlrepo.auth.Acls;
import dlrepo.auth.AuthFile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.LoggerFactory;

/**
 * {@code dlrepo --check-config}: reads the settings, the users file and the ACLs as the
 * daemon would, checks the root folder without writing to it, prints the settings
 * (secrets hidden) and every problem found. Exit status 0 when there is none, else 2.
 */
final class ConfigCheck {
    private static final Pattern HIDDEN = Pattern.compile("PASSWORD|SECRET|TOKEN");

    private ConfigCheck() {
    }

    static int run(Map<String, String> env, PrintStream out, PrintStream err) {
        Config config;
        try {
            config = Config.fromEnv(env);
        } catch (Config.ConfigException e) {
            err.println("dlrepo: configuration error: " + e.getMessage());
            return 2;
        }
        List<String> problems = new ArrayList<>(Config.unknownVariables(env));
        StartupCheck.check(config).ifPresent(problems::add);
        out.println("dlrepo " + Version.get());
        for (String name : Config.KNOWN) {
            String value = env.get(name);
            out.println(value == null || value.isBlank() ? name + "=  # default" : name + "=" + shown(name, value));
        }
        if (config.auth().disabled()) {
            out.println("users: none (DLREPO_AUTH_DISABLED=1)");
        } else {
            problems.addAll(auth(config, out));
        }
        out.println("root: " + config.rootDir() + free(config.rootDir()));
        if (problems.isEmpty()) {
            out.println("configuration OK");
            return 0;
        }
        for (String p : problems) {
            err.println("dlrepo: " + p);
        }
        out.println("configuration has " + problems.size() + (problems.size() == 1 ? " problem" : " problems"));
        return 2;
    }

    /** Loads the users file (unless LDAP checks passwords) and the ACLs: the lines they ignore are problems. */
    private static List<String> auth(Config config, PrintStream out) {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ctx.reset();
        ctx.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.OFF);
        Capture warnings = new Capture();
        warnings.setContext(ctx);
        warnings.start();
        Logger authLog = ctx.getLogger("dlrepo.auth");
        authLog.setLevel(Level.WARN);
        authLog.setAdditive(false);
        authLog.addAppender(warnings);
        List<String> problems = new ArrayList<>();
        if (config.auth().ldap().isPresent()) {
            out.println("users: from " + shown("DLREPO_LDAP_URL", config.auth().ldap().get().url())
                    + " (not contacted)");
        } else {
            try {
                out.println("users: " + AuthFile.load(config.auth().authFile()).size());
            } catch (IOException e) {
                problems.add("DLREPO_AUTH_FILE=" + config.auth().authFile() + ": cannot read it: " + e);
            }
        }
        Path acls = config.auth().aclsDir();
        try {
            Acls.load(acls);
            long groups;
            try (var files = Files.list(acls)) {
                groups = files.filter(f -> !f.getFileName().toString().startsWith(".") && Files.isRegularFile(f))
                        .count();
            }
            out.println("ACL groups: " + groups);
        } catch (IOException e) {
            problems.add("DLREPO_ACLS_DIR=" + acls + ": " + e.getMessage());
        }
        problems.addAll(warnings.messages);
        return problems;
    }

    static String shown(String name, String value) {
        if (HIDDEN.matcher(name).find() && !name.equals("DLREPO_IGNORE_PASSWORDS")) {
            return "(hidden)";
        }
        return Config.masked(value);
    }

    private static String free(Path root) {
        Path p = root;
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        try {
            long bytes = p == null ? 0 : Files.getFileStore(p).getUsableSpace();
            return String.format(java.util.Locale.ROOT, " (%.1f GiB free)", bytes / (double) (1L << 30));
        } catch (IOException e) {
            return "";
        }
    }

    /** The WARN lines of the auth files' readers. */
    private static final class Capture extends AppenderBase<ILoggingEvent> {
        final List<String> messages = new ArrayList<>();

        @Override
        protected void append(ILoggingEvent event) {
            if (event.getLevel().isGreaterOrEqual(Level.WARN)) {
                messages.add(event.getFormattedMessage());
            }
        }
    }
}
