package dlrepo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Every setting of the daemon, read once from {@code DLREPO_*} environment variables.
 * A malformed value is a {@link ConfigException} whose message names the variable.
 */
public record Config(
        Path rootDir,
        String listenAddress,
        int listenPort,
        String logLevel,
        String logOutput,
        int chunkSize,
        long orphanBlobLifetime,
        long tagCleanupPeriod,
        long userQuota,
        Optional<Path> postProcessCmd,
        Optional<Pattern> postProcessFilter,
        long postProcessTimeout,
        Optional<Pattern> internalFormatFilter,
        Optional<String> publicUrl,
        Optional<Path> staticDir,
        Optional<String> xSendfileHeader,
        boolean trustedUploads,
        boolean fsync,
        int workerThreads,
        int ioThreads,
        long ioTimeout,
        long headerTimeout,
        long minBodyRate,
        long minBodyRatePeriod,
        long shutdownTimeout,
        long registryIdleTimeout,
        int registryMaxPending,
        long cacheSize,
        String accessLog,
        String metricsAccess,
        long healthMinFree,
        Publish publish,
        boolean readOnly,
        Optional<String> primaryUrl,
        PageSettings pages,
        Auth auth,
        Map<String, String> env) {

    /**
     * Publishing released tags to other servers (publish.md): base URLs without a trailing
     * slash, {@code rawUrls} as written in DLREPO_PUBLISH_URL (the status names it).
     */
    public record Publish(List<String> urls, String rawUrls, Optional<Path> authFile, Optional<Path> filterCmd,
            long timeout, int maxRequests) {
        /** Why releasing is refused with these settings, or empty when it can publish. */
        public Optional<String> whyNotConfigured() {
            if (urls.isEmpty()) {
                return Optional.of("Cannot release: DLREPO_PUBLISH_URL is not set (no server to publish to)");
            }
            if (authFile.isEmpty()) {
                return Optional.of("Cannot release: DLREPO_PUBLISH_AUTH is not set (DLREPO_PUBLISH_URL is)");
            }
            return Optional.empty();
        }
    }

    /** The web pages: template overrides, what the home pages list. */
    public record PageSettings(Optional<Path> templatesDir, boolean latestReleases, boolean latestReleasesUser) {
    }

    /** Authentication and access control (auth.md). */
    public record Auth(
            boolean disabled,
            String realm,
            Path authFile,
            Path aclsDir,
            boolean ignorePasswords,
            Optional<String> loginHeader,
            Optional<String> groupsHeader,
            int cacheSize,
            long cacheTtl,
            Optional<Ldap> ldap,
            int maxFailures,
            long failureWindow) {
    }

    /** LDAP settings, present when DLREPO_LDAP_URL is set. */
    public record Ldap(String url, String baseDn, String userFilter, String groupsFilter, boolean startTls,
            int timeoutSeconds, int maxConnections) {
    }

    public static final String DEFAULT_ROOT = "/var/lib/dlrepo";

    public static final class ConfigException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ConfigException(String variable, String value, String why) {
            super(masked(variable + "=" + value + ": " + why));
        }
    }

    /**
     * Every {@code DLREPO_*} variable something of dlrepo reads: the daemon (including the
     * LDAP and publishing ones read only with others), the launcher bin/dlrepo, dlrepo-cli
     * and the package build. Any other one is a typo or a leftover, warned about.
     */
    public static final SortedSet<String> KNOWN = Collections.unmodifiableSortedSet(new TreeSet<>(List.of(
            "DLREPO_ROOT_DIR", "DLREPO_FSYNC", "DLREPO_CHUNK_SIZE",
            "DLREPO_LISTEN_ADDRESS", "DLREPO_LISTEN_PORT", "DLREPO_PUBLIC_URL", "DLREPO_X_SENDFILE_HEADER",
            "DLREPO_WORKER_THREADS", "DLREPO_IO_THREADS", "DLREPO_IO_TIMEOUT", "DLREPO_HEADER_TIMEOUT",
            "DLREPO_MIN_BODY_RATE", "DLREPO_MIN_BODY_RATE_PERIOD", "DLREPO_SHUTDOWN_TIMEOUT",
            "DLREPO_LOG_LEVEL", "DLREPO_LOG_OUTPUT", "DLREPO_ACCESS_LOG",
            "DLREPO_METRICS_ACCESS", "DLREPO_HEALTH_MIN_FREE",
            "DLREPO_ORPHAN_BLOB_LIFETIME", "DLREPO_TAG_CLEANUP_PERIOD", "DLREPO_USER_QUOTA",
            "DLREPO_REGISTRY_IDLE_TIMEOUT", "DLREPO_REGISTRY_MAX_PENDING",
            "DLREPO_POST_PROCESS_CMD", "DLREPO_POST_PROCESS_FILTER", "DLREPO_POST_PROCESS_TIMEOUT",
            "DLREPO_INTERNAL_FORMAT_FILTER",
            "DLREPO_TEMPLATES_DIR", "DLREPO_STATIC_DIR", "DLREPO_TRUSTED_UPLOADS", "DLREPO_CACHE_SIZE",
            "DLREPO_LATEST_RELEASES", "DLREPO_LATEST_RELEASES_USER",
            "DLREPO_AUTH_DISABLED", "DLREPO_AUTH_REALM", "DLREPO_AUTH_FILE", "DLREPO_ACLS_DIR",
            "DLREPO_IGNORE_PASSWORDS", "DLREPO_AUTH_HTTP_LOGIN_HEADER", "DLREPO_AUTH_HTTP_GROUPS_HEADER",
            "DLREPO_AUTH_CACHE_SIZE", "DLREPO_AUTH_CACHE_TTL", "DLREPO_AUTH_MAX_FAILURES",
            "DLREPO_AUTH_FAILURE_WINDOW",
            "DLREPO_LDAP_URL", "DLREPO_LDAP_BASE_DN", "DLREPO_LDAP_USER_FILTER", "DLREPO_LDAP_GROUPS_FILTER",
            "DLREPO_LDAP_START_TLS", "DLREPO_LDAP_TIMEOUT", "DLREPO_LDAP_MAX_CONNECTIONS",
            "DLREPO_PUBLISH_URL", "DLREPO_PUBLISH_AUTH", "DLREPO_PUBLISH_FILTER_CMD",
            "DLREPO_PUBLISH_TIMEOUT", "DLREPO_PUBLISH_MAX_REQUESTS",
            "DLREPO_READ_ONLY", "DLREPO_PRIMARY_URL",
            // bin/dlrepo, dlrepo-cli, debian/rules
            "DLREPO_JAVA_XMX", "DLREPO_JAVA_OPTS", "DLREPO_JAR", "DLREPO_CDS_DIR",
            "DLREPO_URL", "DLREPO_MVN_OPTS")));

    /**
     * One message per {@code DLREPO_*} variable of {@code env} that nothing reads, naming the
     * closest known one when there is one, in name order.
     */
    public static List<String> unknownVariables(Map<String, String> env) {
        List<String> messages = new ArrayList<>();
        for (String name : new TreeSet<>(env.keySet())) {
            if (!name.startsWith("DLREPO_") || KNOWN.contains(name)) {
                continue;
            }
            String best = null;
            int bestDistance = Integer.MAX_VALUE;
            for (String known : KNOWN) {
                int d = distance(name, known);
                if (d < bestDistance) {
                    best = known;
                    bestDistance = d;
                }
            }
            messages.add(bestDistance <= Math.max(2, name.length() / 5)
                    ? "unknown setting " + name + " (ignored): did you mean " + best + "?"
                    : "unknown setting " + name + " (ignored): dlrepo-config(5) lists the settings");
        }
        return messages;
    }

    /** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    private static final Pattern URL_AUTHORITY = Pattern.compile("://[^\\s,]*@");
    private static final Pattern PASSWORD_OPTION = Pattern.compile("(?i)((?:password|secret|token)[^=\\s]*=)\\S+");

    /**
     * {@code text} without the secrets a setting may hold: the user and password of a URL
     * (up to its last {@code @}) and the value of a {@code ...password=} option. For every
     * message or listing that shows a setting's value (errors, --check-config).
     */
    public static String masked(String text) {
        String t = URL_AUTHORITY.matcher(text).replaceAll("://***@");
        return PASSWORD_OPTION.matcher(t).replaceAll("$1***");
    }

    public static Config fromEnv(Map<String, String> env) {
        Reader r = new Reader(env);
        String level = r.string("DLREPO_LOG_LEVEL", "WARNING").toUpperCase(Locale.ROOT);
        if (!java.util.Set.of("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL").contains(level)) {
            throw new ConfigException("DLREPO_LOG_LEVEL", level, "expected DEBUG, INFO, WARNING, ERROR or CRITICAL");
        }
        String output = r.string("DLREPO_LOG_OUTPUT", System.console() != null ? "console" : "syslog");
        if (!java.util.Set.of("console", "syslog", "json").contains(output)) {
            throw new ConfigException("DLREPO_LOG_OUTPUT", output, "expected console, syslog or json");
        }
        String accessLog = r.string("DLREPO_ACCESS_LOG", "on");
        if (!accessLog.equals("on") && !accessLog.equals("off")) {
            Path p = Path.of(accessLog);
            if (!p.isAbsolute()) {
                throw new ConfigException("DLREPO_ACCESS_LOG", accessLog, "expected on, off or an absolute file path");
            }
            Path dir = p.getParent();
            if (dir == null || !Files.isDirectory(dir) || !Files.isWritable(dir)) {
                throw new ConfigException("DLREPO_ACCESS_LOG", accessLog, "its folder is not a writable folder");
            }
            if (Files.exists(p) && (!Files.isRegularFile(p) || !Files.isWritable(p))) {
                throw new ConfigException("DLREPO_ACCESS_LOG", accessLog, "not a writable file");
            }
        }
        String metricsAccess = r.string("DLREPO_METRICS_ACCESS", "local").toLowerCase(Locale.ROOT);
        if (!java.util.Set.of("local", "acl", "open", "off").contains(metricsAccess)) {
            throw new ConfigException("DLREPO_METRICS_ACCESS", metricsAccess, "expected local, acl, open or off");
        }
        Optional<Path> postProcess = r.optional("DLREPO_POST_PROCESS_CMD").map(Path::of);
        postProcess.ifPresent(p -> {
            if (!p.isAbsolute()) {
                throw new ConfigException("DLREPO_POST_PROCESS_CMD", p.toString(), "must be an absolute path");
            }
            if (!java.nio.file.Files.isExecutable(p)) {
                throw new ConfigException("DLREPO_POST_PROCESS_CMD", p.toString(), "not an executable file");
            }
        });
        Optional<String> publicUrl = r.url("DLREPO_PUBLIC_URL");
        boolean readOnly = r.bool("DLREPO_READ_ONLY", false);
        Optional<String> primaryUrl = r.url("DLREPO_PRIMARY_URL");
        Optional<String> sendfile = r.optional("DLREPO_X_SENDFILE_HEADER");
        sendfile.ifPresent(h -> {
            if (!h.matches("[A-Za-z0-9-]+")) {
                throw new ConfigException("DLREPO_X_SENDFILE_HEADER", h, "not a valid header name");
            }
        });
        String root = r.string("DLREPO_ROOT_DIR", DEFAULT_ROOT);
        String address = r.string("DLREPO_LISTEN_ADDRESS", "127.0.0.1");
        try {
            java.net.InetAddress.getByName(address);
        } catch (java.net.UnknownHostException e) {
            throw new ConfigException("DLREPO_LISTEN_ADDRESS", address, "not an address or a known host name");
        }
        PageSettings pages = new PageSettings(r.optional("DLREPO_TEMPLATES_DIR").map(d -> {
            Path p = Path.of(d).toAbsolutePath().normalize();
            if (!java.nio.file.Files.isDirectory(p) || !java.nio.file.Files.isReadable(p)) {
                throw new ConfigException("DLREPO_TEMPLATES_DIR", d, "not a readable folder");
            }
            return p;
        }), r.bool("DLREPO_LATEST_RELEASES", true), r.bool("DLREPO_LATEST_RELEASES_USER", true));
        return new Config(
                Path.of(root).toAbsolutePath().normalize(),
                address,
                (int) r.number("DLREPO_LISTEN_PORT", 1337, 0, 65535),
                level,
                output,
                (int) r.number("DLREPO_CHUNK_SIZE", 262144, 4096, 64L << 20),
                r.number("DLREPO_ORPHAN_BLOB_LIFETIME", 600, 0, Long.MAX_VALUE),
                r.number("DLREPO_TAG_CLEANUP_PERIOD", 86400, 0, Long.MAX_VALUE),
                r.number("DLREPO_USER_QUOTA", 10737418240L, 0, Long.MAX_VALUE),
                postProcess,
                r.regex("DLREPO_POST_PROCESS_FILTER"),
                r.number("DLREPO_POST_PROCESS_TIMEOUT", 600, 1, Long.MAX_VALUE),
                r.regex("DLREPO_INTERNAL_FORMAT_FILTER"),
                publicUrl,
                r.optional("DLREPO_STATIC_DIR").map(d -> {
                    Path p = Path.of(d).toAbsolutePath().normalize();
                    if (!java.nio.file.Files.isDirectory(p) || !java.nio.file.Files.isReadable(p)) {
                        throw new ConfigException("DLREPO_STATIC_DIR", d, "not a readable folder");
                    }
                    return p;
                }),
                sendfile,
                r.bool("DLREPO_TRUSTED_UPLOADS", false),
                r.bool("DLREPO_FSYNC", true),
                (int) r.number("DLREPO_WORKER_THREADS", 64, 2, 4096),
                (int) r.number("DLREPO_IO_THREADS", Math.max(2, Runtime.getRuntime().availableProcessors()), 1, 256),
                r.number("DLREPO_IO_TIMEOUT", 300, 0, 86400),
                r.number("DLREPO_HEADER_TIMEOUT", 30, 0, 86400),
                r.number("DLREPO_MIN_BODY_RATE", 1024, 0, 1L << 40),
                r.number("DLREPO_MIN_BODY_RATE_PERIOD", 30, 0, 86400),
                r.number("DLREPO_SHUTDOWN_TIMEOUT", 30, 0, 86400),
                r.number("DLREPO_REGISTRY_IDLE_TIMEOUT", 3600, 1, 7 * 86400),
                (int) r.number("DLREPO_REGISTRY_MAX_PENDING", 10_000, 1, 10_000_000),
                r.bytes("DLREPO_CACHE_SIZE", 32L << 20),
                accessLog,
                metricsAccess,
                r.bytes("DLREPO_HEALTH_MIN_FREE", 100L << 20),
                publish(r),
                readOnly,
                primaryUrl,
                pages,
                auth(r),
                Map.copyOf(env));
    }

    private static Publish publish(Reader r) {
        String raw = r.string("DLREPO_PUBLISH_URL", "");
        List<String> urls = new ArrayList<>();
        if (!raw.isEmpty()) {
            for (String item : raw.split(",", -1)) {
                String u = item.strip().replaceAll("/+$", "");
                if (!u.matches("https?://[^/\\s@?#]+(/[^\\s?#]*)?")) {
                    throw new ConfigException("DLREPO_PUBLISH_URL", raw,
                            "expected comma-separated http:// or https:// URLs without user, query or fragment, not \""
                                    + item.strip() + "\"");
                }
                if (urls.contains(u)) {
                    throw new ConfigException("DLREPO_PUBLISH_URL", raw, u + " is given twice");
                }
                urls.add(u);
            }
        }
        Optional<Path> auth = r.optional("DLREPO_PUBLISH_AUTH").map(f -> {
            Path p = Path.of(f).toAbsolutePath().normalize();
            String line;
            try {
                if (!Files.isRegularFile(p)) {
                    throw new ConfigException("DLREPO_PUBLISH_AUTH", f, "not a regular file");
                }
                line = Files.readAllLines(p).stream().findFirst().orElse("").strip();
            } catch (java.io.IOException | java.io.UncheckedIOException e) {
                throw new ConfigException("DLREPO_PUBLISH_AUTH", f, "cannot read it: " + e.getMessage());
            }
            if (line.indexOf(':') < 1) {
                throw new ConfigException("DLREPO_PUBLISH_AUTH", f, "its first line must be login:password");
            }
            return p;
        });
        Optional<Path> filter = r.optional("DLREPO_PUBLISH_FILTER_CMD").map(c -> {
            Path p = Path.of(c);
            if (!p.isAbsolute()) {
                throw new ConfigException("DLREPO_PUBLISH_FILTER_CMD", c, "must be an absolute path");
            }
            if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
                throw new ConfigException("DLREPO_PUBLISH_FILTER_CMD", c, "not an executable file");
            }
            return p;
        });
        return new Publish(List.copyOf(urls), raw, auth, filter, r.number("DLREPO_PUBLISH_TIMEOUT", 300, 1, 7 * 86400),
                (int) r.number("DLREPO_PUBLISH_MAX_REQUESTS", 1, 1, 256));
    }

    private static Auth auth(Reader r) {
        boolean disabled = r.bool("DLREPO_AUTH_DISABLED", false);
        String realm = r.string("DLREPO_AUTH_REALM", "dlrepo");
        if (realm.contains("\"") || realm.chars().anyMatch(c -> c < 0x20)) {
            throw new ConfigException("DLREPO_AUTH_REALM", realm, "must not contain quotes or control characters");
        }
        Path aclsDir = Path.of(r.string("DLREPO_ACLS_DIR", "/etc/dlrepo/acls"));
        if (!disabled && !(java.nio.file.Files.isDirectory(aclsDir) && java.nio.file.Files.isReadable(aclsDir))) {
            throw new ConfigException("DLREPO_ACLS_DIR", aclsDir.toString(), "not a readable folder");
        }
        Optional<String> login = r.optional("DLREPO_AUTH_HTTP_LOGIN_HEADER");
        Optional<String> groups = r.optional("DLREPO_AUTH_HTTP_GROUPS_HEADER");
        for (var h : Map.of("DLREPO_AUTH_HTTP_LOGIN_HEADER", login, "DLREPO_AUTH_HTTP_GROUPS_HEADER", groups)
                .entrySet()) {
            if (h.getValue().isPresent() && !h.getValue().get().matches("[A-Za-z0-9-]+")) {
                throw new ConfigException(h.getKey(), h.getValue().get(), "not a valid header name");
            }
        }
        if (login.isPresent() != groups.isPresent()) {
            String missing = login.isPresent() ? "DLREPO_AUTH_HTTP_GROUPS_HEADER" : "DLREPO_AUTH_HTTP_LOGIN_HEADER";
            throw new ConfigException(missing, "", "both proxy identity headers must be set, or none");
        }
        Optional<Ldap> ldap = r.optional("DLREPO_LDAP_URL").map(url -> {
            if (!url.matches("ldaps?://[^\\s]+")) {
                throw new ConfigException("DLREPO_LDAP_URL", url, "expected ldap://host[:port] or ldaps://host[:port]");
            }
            String base = r.optional("DLREPO_LDAP_BASE_DN").orElseThrow(
                    () -> new ConfigException("DLREPO_LDAP_BASE_DN", "", "required with DLREPO_LDAP_URL"));
            String userFilter = r.string("DLREPO_LDAP_USER_FILTER", "(uid={login})");
            String groupsFilter = r.string("DLREPO_LDAP_GROUPS_FILTER", "(&(objectClass=groupOfNames)(member={dn}))");
            for (var f : Map.of("DLREPO_LDAP_USER_FILTER", userFilter, "DLREPO_LDAP_GROUPS_FILTER", groupsFilter)
                    .entrySet()) {
                try {
                    com.unboundid.ldap.sdk.Filter.create(f.getValue().replace("{login}", "x").replace("{dn}", "x"));
                } catch (com.unboundid.ldap.sdk.LDAPException e) {
                    throw new ConfigException(f.getKey(), f.getValue(), "invalid LDAP filter: " + e.getMessage());
                }
            }
            return new Ldap(url, base, userFilter, groupsFilter, r.bool("DLREPO_LDAP_START_TLS", true),
                    (int) r.number("DLREPO_LDAP_TIMEOUT", 10, 1, 3600),
                    (int) r.number("DLREPO_LDAP_MAX_CONNECTIONS", 4, 1, 1024));
        });
        return new Auth(disabled, realm, Path.of(r.string("DLREPO_AUTH_FILE", "/etc/dlrepo/auth")), aclsDir,
                r.bool("DLREPO_IGNORE_PASSWORDS", false), login, groups,
                (int) r.number("DLREPO_AUTH_CACHE_SIZE", 4096, 0, 10_000_000),
                r.number("DLREPO_AUTH_CACHE_TTL", 600, 0, 86400 * 365), ldap,
                (int) r.number("DLREPO_AUTH_MAX_FAILURES", 10, 0, 1_000_000),
                r.number("DLREPO_AUTH_FAILURE_WINDOW", 300, 1, 86400));
    }

    /** A variable outside the core set, for the parts of the daemon that read their own. */
    public Optional<String> get(String variable) {
        return new Reader(env).optional(variable);
    }

    private record Reader(Map<String, String> env) {
        Optional<String> optional(String name) {
            String v = env.get(name);
            return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.strip());
        }

        /** An http:// or https:// URL, without its trailing slashes. */
        Optional<String> url(String name) {
            Optional<String> u = optional(name).map(v -> v.replaceAll("/+$", ""));
            u.ifPresent(v -> {
                if (!v.matches("https?://[^/\\s]+(/\\S*)?")) {
                    throw new ConfigException(name, v, "expected an http:// or https:// URL");
                }
            });
            return u;
        }

        String string(String name, String def) {
            return optional(name).orElse(def);
        }

        long number(String name, long def, long min, long max) {
            Optional<String> v = optional(name);
            if (v.isEmpty()) {
                return def;
            }
            long n;
            try {
                n = Long.parseLong(v.get());
            } catch (NumberFormatException e) {
                throw new ConfigException(name, v.get(), "not an integer");
            }
            if (n < min || n > max) {
                throw new ConfigException(name, v.get(), "must be between " + min + " and " + max);
            }
            return n;
        }

        /** A size in bytes: a number, or with a K, M or G suffix (powers of 1024). */
        long bytes(String name, long def) {
            Optional<String> v = optional(name);
            if (v.isEmpty()) {
                return def;
            }
            java.util.regex.Matcher m = Pattern.compile("(\\d{1,12})([KkMmGg]?)").matcher(v.get());
            if (!m.matches()) {
                throw new ConfigException(name, v.get(), "expected a number of bytes, optionally with K, M or G");
            }
            int shift = switch (m.group(2).toUpperCase(Locale.ROOT)) {
                case "K" -> 10;
                case "M" -> 20;
                case "G" -> 30;
                default -> 0;
            };
            long n = Long.parseLong(m.group(1));
            if (n > (Long.MAX_VALUE >> shift)) {
                throw new ConfigException(name, v.get(), "too large");
            }
            return n << shift;
        }

        boolean bool(String name, boolean def) {
            Optional<String> v = optional(name);
            if (v.isEmpty()) {
                return def;
            }
            switch (v.get().toLowerCase(Locale.ROOT)) {
                case "1", "true", "yes", "on":
                    return true;
                case "0", "false", "no", "off":
                    return false;
                default:
                    throw new ConfigException(name, v.get(), "expected 0 or 1");
            }
        }

        Optional<Pattern> regex(String name) {
            return optional(name).map(v -> {
                try {
                    return Pattern.compile(v);
                } catch (PatternSyntaxException e) {
                    throw new ConfigException(name, v, "invalid regular expression: " + e.getDescription());
                }
            });
        }
    }
}
