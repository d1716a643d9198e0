package dlrepo.robustness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Config;
import dlrepo.DaemonProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every {@code DLREPO_*} value is validated at start-up: a bad one is one line naming the
 * variable, and the process exits non-zero before touching anything.
 */
class ConfigValidationTest {
    static Path tmp;

    @BeforeAll
    static void setUp() throws Exception {
        tmp = Files.createTempDirectory("dlrepo-config-");
    }

    @AfterAll
    static void tearDown() throws Exception {
        Robust.deleteTree(tmp);
    }

    private static Config parse(String... kv) {
        Map<String, String> env = new HashMap<>();
        env.put("DLREPO_ROOT_DIR", tmp.resolve("root").toString());
        env.put("DLREPO_AUTH_DISABLED", "1"); // as TestServer: no auth files on this machine
        for (int i = 0; i < kv.length; i += 2) {
            env.put(kv[i], kv[i + 1]);
        }
        return Config.fromEnv(env);
    }

    /** Asserts that {@code variable=value} is refused with a message naming the variable. */
    private static void refused(String variable, String value) {
        Config.ConfigException e = assertThrows(Config.ConfigException.class, () -> parse(variable, value),
                variable + "=" + value + " was accepted");
        assertTrue(e.getMessage().startsWith(variable + "="), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    // ------------------------------------------------------------------ unit level

    @Test
    void defaults() {
        Config c = parse();
        assertEquals("127.0.0.1", c.listenAddress());
        assertEquals(1337, c.listenPort());
        assertEquals("WARNING", c.logLevel());
        assertEquals(262144, c.chunkSize());
        assertEquals(600, c.orphanBlobLifetime());
        assertEquals(86400, c.tagCleanupPeriod());
        assertEquals(10737418240L, c.userQuota());
        assertTrue(c.fsync(), "fsync is on unless disabled");
        assertTrue(c.postProcessCmd().isEmpty());
        assertTrue(c.postProcessFilter().isEmpty());
        assertTrue(c.internalFormatFilter().isEmpty());
        assertTrue(c.shutdownTimeout() > 0);
        assertEquals(3600, c.registryIdleTimeout());
        assertEquals(10_000, c.registryMaxPending());
        assertEquals(tmp.resolve("root"), c.rootDir());
    }

    @Test
    void numbers() {
        for (String var : List.of("DLREPO_LISTEN_PORT", "DLREPO_CHUNK_SIZE", "DLREPO_ORPHAN_BLOB_LIFETIME",
                "DLREPO_TAG_CLEANUP_PERIOD", "DLREPO_USER_QUOTA", "DLREPO_POST_PROCESS_TIMEOUT",
                "DLREPO_WORKER_THREADS", "DLREPO_IO_THREADS", "DLREPO_SHUTDOWN_TIMEOUT",
                "DLREPO_AUTH_CACHE_SIZE", "DLREPO_AUTH_CACHE_TTL", "DLREPO_REGISTRY_IDLE_TIMEOUT",
                "DLREPO_REGISTRY_MAX_PENDING")) {
            refused(var, "abc");
            refused(var, "-1");
            refused(var, "1.5");
            refused(var, "12abc");
            refused(var, "99999999999999999999999");
        }
        refused("DLREPO_LISTEN_PORT", "65536");
        refused("DLREPO_CHUNK_SIZE", "0");
        refused("DLREPO_WORKER_THREADS", "0");
        refused("DLREPO_IO_THREADS", "0");
        refused("DLREPO_REGISTRY_IDLE_TIMEOUT", "0");
        refused("DLREPO_REGISTRY_MAX_PENDING", "0");
        assertEquals(8080, parse("DLREPO_LISTEN_PORT", "8080").listenPort());
        assertEquals(0, parse("DLREPO_LISTEN_PORT", "0").listenPort());
        assertEquals(65536, parse("DLREPO_CHUNK_SIZE", "65536").chunkSize());
        assertEquals(0, parse("DLREPO_TAG_CLEANUP_PERIOD", "0").tagCleanupPeriod());
        assertEquals(5, parse("DLREPO_SHUTDOWN_TIMEOUT", "5").shutdownTimeout());
        assertEquals(7200, parse("DLREPO_REGISTRY_IDLE_TIMEOUT", "7200").registryIdleTimeout());
        assertEquals(1L << 40, parse("DLREPO_USER_QUOTA", Long.toString(1L << 40)).userQuota());
        assertEquals(32L << 20, parse("DLREPO_CACHE_SIZE", "").cacheSize());
        assertEquals(0, parse("DLREPO_CACHE_SIZE", "0").cacheSize());
        assertEquals(1000, parse("DLREPO_CACHE_SIZE", "1000").cacheSize());
        assertEquals(64L << 10, parse("DLREPO_CACHE_SIZE", "64K").cacheSize());
        assertEquals(128L << 20, parse("DLREPO_CACHE_SIZE", "128m").cacheSize());
        assertEquals(2L << 30, parse("DLREPO_CACHE_SIZE", "2G").cacheSize());
        for (String bad : List.of("-1", "10MB", "1.5G", "lots", "99999999999999G")) {
            refused("DLREPO_CACHE_SIZE", bad);
        }
        // surrounding blanks are tolerated, an empty value means "unset"
        assertEquals(8080, parse("DLREPO_LISTEN_PORT", " 8080 ").listenPort());
        assertEquals(1337, parse("DLREPO_LISTEN_PORT", "").listenPort());
    }

    @Test
    void logSettings() {
        refused("DLREPO_LOG_LEVEL", "LOUD");
        refused("DLREPO_LOG_LEVEL", "TRACE1");
        refused("DLREPO_LOG_OUTPUT", "file");
        assertEquals("DEBUG", parse("DLREPO_LOG_LEVEL", "debug").logLevel());
        assertEquals("ERROR", parse("DLREPO_LOG_LEVEL", "ERROR").logLevel());
        assertEquals("syslog", parse("DLREPO_LOG_OUTPUT", "syslog").logOutput());
        assertEquals("console", parse("DLREPO_LOG_OUTPUT", "console").logOutput());
    }

    @Test
    void operationsSettings() throws Exception {
        assertEquals("json", parse("DLREPO_LOG_OUTPUT", "json").logOutput());
        refused("DLREPO_LOG_OUTPUT", "JSON");

        assertEquals("on", parse().accessLog());
        assertEquals("off", parse("DLREPO_ACCESS_LOG", "off").accessLog());
        Path logs = Files.createDirectories(tmp.resolve("logs"));
        assertEquals(logs.resolve("access.log").toString(),
                parse("DLREPO_ACCESS_LOG", logs.resolve("access.log").toString()).accessLog());
        refused("DLREPO_ACCESS_LOG", "access.log");
        refused("DLREPO_ACCESS_LOG", "yes");
        refused("DLREPO_ACCESS_LOG", tmp.resolve("no-such-folder/access.log").toString());
        refused("DLREPO_ACCESS_LOG", "/");
        Path notAFolder = Files.writeString(tmp.resolve("plain-file"), "x");
        refused("DLREPO_ACCESS_LOG", notAFolder.resolve("access.log").toString());
        refused("DLREPO_ACCESS_LOG", logs.toString()); // a folder
        assertEquals(notAFolder.toString(), parse("DLREPO_ACCESS_LOG", notAFolder.toString()).accessLog());

        assertEquals("local", parse().metricsAccess());
        for (String v : List.of("local", "acl", "open", "off")) {
            assertEquals(v, parse("DLREPO_METRICS_ACCESS", v).metricsAccess());
        }
        assertEquals("open", parse("DLREPO_METRICS_ACCESS", "Open").metricsAccess());
        refused("DLREPO_METRICS_ACCESS", "public");
        refused("DLREPO_METRICS_ACCESS", "1");

        assertEquals(100L << 20, parse().healthMinFree());
        assertEquals(0, parse("DLREPO_HEALTH_MIN_FREE", "0").healthMinFree());
        assertEquals(1L << 30, parse("DLREPO_HEALTH_MIN_FREE", "1G").healthMinFree());
        refused("DLREPO_HEALTH_MIN_FREE", "10%");
        refused("DLREPO_HEALTH_MIN_FREE", "-1M");
    }

    @Test
    void booleans() {
        refused("DLREPO_FSYNC", "maybe");
        refused("DLREPO_FSYNC", "2");
        refused("DLREPO_AUTH_DISABLED", "maybe");
        refused("DLREPO_IGNORE_PASSWORDS", "perhaps");
        assertFalse(parse("DLREPO_FSYNC", "0").fsync());
        assertFalse(parse("DLREPO_FSYNC", "false").fsync());
        assertTrue(parse("DLREPO_FSYNC", "1").fsync());
        assertTrue(parse("DLREPO_FSYNC", "true").fsync());
    }

    @Test
    void regexes() {
        refused("DLREPO_POST_PROCESS_FILTER", "(");
        refused("DLREPO_POST_PROCESS_FILTER", "[a-");
        refused("DLREPO_INTERNAL_FORMAT_FILTER", "*x");
        assertTrue(parse("DLREPO_POST_PROCESS_FILTER", ".*\\.deb$").postProcessFilter().get()
                .matcher("a.deb").lookingAt());
        assertTrue(parse("DLREPO_INTERNAL_FORMAT_FILTER", "internal|debug").internalFormatFilter().isPresent());
    }

    @Test
    void paths() throws Exception {
        refused("DLREPO_POST_PROCESS_CMD", "relative/cmd");
        refused("DLREPO_POST_PROCESS_CMD", tmp.resolve("missing").toString());
        Path notExec = Files.writeString(tmp.resolve("not-exec"), "#!/bin/sh\n");
        refused("DLREPO_POST_PROCESS_CMD", notExec.toString());
        Path exec = Files.writeString(tmp.resolve("exec"), "#!/bin/sh\n");
        exec.toFile().setExecutable(true);
        assertEquals(exec, parse("DLREPO_POST_PROCESS_CMD", exec.toString()).postProcessCmd().get());
    }

    @Test
    void urlsAndHeaders() {
        refused("DLREPO_PUBLIC_URL", "ftp://example.org");
        refused("DLREPO_PUBLIC_URL", "example.org");
        refused("DLREPO_X_SENDFILE_HEADER", "X Accel");
        refused("DLREPO_X_SENDFILE_HEADER", "X-Accel:Redirect");
        assertEquals("https://dl.example.org", parse("DLREPO_PUBLIC_URL", "https://dl.example.org/").publicUrl().get());
        assertEquals("X-Accel-Redirect", parse("DLREPO_X_SENDFILE_HEADER", "X-Accel-Redirect").xSendfileHeader().get());
    }

    // ------------------------------------------------------------------ the real process

    /** Starts {@code java dlrepo.Main} with one bad value: exit != 0, one line naming it. */
    private static void processRefuses(String variable, String value) throws Exception {
        Path root = tmp.resolve("root-" + variable);
        try (DaemonProcess d = DaemonProcess.spawn(root, Map.of(variable, value))) {
            int rc = d.waitFor(30);
            String log = d.log();
            assertTrue(rc != 0, variable + "=" + value + ": exit code 0, log: " + log);
            List<String> lines = log.lines().filter(l -> !l.isBlank()).toList();
            assertEquals(1, lines.size(), () -> "one line expected:\n" + log);
            assertTrue(lines.get(0).contains(variable), lines.get(0));
            assertTrue(lines.get(0).contains(value.strip()), lines.get(0));
            assertFalse(Files.exists(root.resolve(".lock")), "the root was touched before validation");
        }
    }

    @Test
    void badValuesStopTheDaemon() throws Exception {
        processRefuses("DLREPO_LISTEN_PORT", "abc");
        processRefuses("DLREPO_CHUNK_SIZE", "-1");
        processRefuses("DLREPO_LOG_LEVEL", "LOUD");
        processRefuses("DLREPO_POST_PROCESS_FILTER", "(");
        processRefuses("DLREPO_FSYNC", "maybe");
        processRefuses("DLREPO_ACCESS_LOG", "relative/access.log");
        processRefuses("DLREPO_METRICS_ACCESS", "public");
        processRefuses("DLREPO_HEALTH_MIN_FREE", "lots");
    }
}
