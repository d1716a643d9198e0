package dlrepo.publish;

import static dlrepo.Check.assertError;
import static dlrepo.Check.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Config;
import dlrepo.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The DLREPO_PUBLISH_* settings are checked at start-up (a bad value is one line naming the
 * variable), and releasing without them is refused with a 421 naming what is missing.
 */
class PublishSettingsTest {
    static Path tmp;
    static Path auth;
    static Path script;

    @BeforeAll
    static void setUp() throws Exception {
        tmp = Files.createTempDirectory("dlrepo-publish-config-");
        auth = tmp.resolve("auth");
        Files.writeString(auth, "publisher:pa:ss\n");
        script = tmp.resolve("filter");
        Files.writeString(script, "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        TestServer.deleteTree(tmp);
    }

    private static Config parse(String... kv) {
        Map<String, String> env = new HashMap<>();
        env.put("DLREPO_ROOT_DIR", tmp.resolve("root").toString());
        env.put("DLREPO_AUTH_DISABLED", "1");
        for (int i = 0; i < kv.length; i += 2) {
            env.put(kv[i], kv[i + 1]);
        }
        return Config.fromEnv(env);
    }

    private static void refused(String variable, String value, String... others) {
        String[] kv = new String[others.length + 2];
        kv[0] = variable;
        kv[1] = value;
        System.arraycopy(others, 0, kv, 2, others.length);
        Config.ConfigException e = assertThrows(Config.ConfigException.class, () -> parse(kv),
                variable + "=" + value + " was accepted");
        assertTrue(e.getMessage().startsWith(variable + "="), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    @Test
    void defaults() {
        Config.Publish p = parse().publish();
        assertEquals(List.of(), p.urls());
        assertEquals(Optional.empty(), p.authFile());
        assertEquals(Optional.empty(), p.filterCmd());
        assertEquals(300, p.timeout());
        assertEquals(1, p.maxRequests());
        assertEquals(Optional.of("Cannot release: DLREPO_PUBLISH_URL is not set (no server to publish to)"),
                p.whyNotConfigured());
    }

    @Test
    void goodValues() {
        Config.Publish p = parse("DLREPO_PUBLISH_URL", " https://a.example.com/, http://127.0.0.1:8080/dl/ ",
                "DLREPO_PUBLISH_AUTH", auth.toString(), "DLREPO_PUBLISH_FILTER_CMD", script.toString(),
                "DLREPO_PUBLISH_TIMEOUT", "7", "DLREPO_PUBLISH_MAX_REQUESTS", "256").publish();
        assertEquals(List.of("https://a.example.com", "http://127.0.0.1:8080/dl"), p.urls());
        assertEquals(Optional.of(auth), p.authFile());
        assertEquals(Optional.of(script), p.filterCmd());
        assertEquals(7, p.timeout());
        assertEquals(256, p.maxRequests());
        assertEquals(Optional.empty(), p.whyNotConfigured());
        assertEquals(Optional.of("Cannot release: DLREPO_PUBLISH_AUTH is not set (DLREPO_PUBLISH_URL is)"),
                parse("DLREPO_PUBLISH_URL", "https://a.example.com").publish().whyNotConfigured());
    }

    @Test
    void badUrls() {
        for (String bad : List.of("a.example.com", "ftp://a.example.com", "https://", "https://a,,https://b",
                "https://a,", "https://user:pw@a.example.com", "https://a.example.com/?x=1", "https://a/#frag",
                "https://a b", "https://a,https://a/")) {
            refused("DLREPO_PUBLISH_URL", bad);
        }
    }

    @Test
    void badAuthFiles() throws Exception {
        Path noColon = tmp.resolve("no-colon");
        Files.writeString(noColon, "publisher\n");
        Path noLogin = tmp.resolve("no-login");
        Files.writeString(noLogin, ":password\n");
        Path empty = tmp.resolve("empty");
        Files.writeString(empty, "");
        for (String bad : List.of(tmp.resolve("missing").toString(), tmp.toString(), noColon.toString(),
                noLogin.toString(), empty.toString())) {
            refused("DLREPO_PUBLISH_AUTH", bad, "DLREPO_PUBLISH_URL", "https://a.example.com");
        }
    }

    @Test
    void badFilterCommands() throws Exception {
        Path notExecutable = tmp.resolve("not-executable");
        Files.writeString(notExecutable, "#!/bin/sh\n");
        for (String bad : List.of("filter", "relative/filter", tmp.resolve("missing").toString(), tmp.toString(),
                notExecutable.toString())) {
            refused("DLREPO_PUBLISH_FILTER_CMD", bad);
        }
    }

    @Test
    void badNumbers() {
        for (String bad : List.of("0", "-1", "x", "604801", "1.5")) {
            refused("DLREPO_PUBLISH_TIMEOUT", bad);
        }
        for (String bad : List.of("0", "257", "many", "-3")) {
            refused("DLREPO_PUBLISH_MAX_REQUESTS", bad);
        }
    }

    @Test
    void releaseIsRefusedWithA421NamingWhatIsMissing() throws Exception {
        try (TestServer none = TestServer.start();
                TestServer urlOnly = TestServer.start(Map.of("DLREPO_PUBLISH_URL", "http://127.0.0.1:9"))) {
            for (TestServer s : List.of(none, urlOnly)) {
                String b = unique("r421");
                s.uploadFinalized("/branches/" + b + "/t/j/deb/a", "a");
                String msg = assertError(s.json("POST", "/branches/" + b + "/t/", "{\"tag\": {\"released\": true}}"),
                        421, null);
                assertEquals(s == none ? "Cannot release: DLREPO_PUBLISH_URL is not set (no server to publish to)"
                        : "Cannot release: DLREPO_PUBLISH_AUTH is not set (DLREPO_PUBLISH_URL is)", msg);
                assertFalse(Files.exists(s.root().resolve("branches").resolve(b).resolve("t/.publish-status")));
            }
        }
    }
}
