package dlrepo.security;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Caller;
import dlrepo.TestServer;
import dlrepo.cleanup.CleanupScheduler;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * /health and /metrics are answered before authentication: they must give an anonymous
 * caller nothing the ACLs would not, and their probes must not be turned against the root.
 */
class OpsEndpointsTest {
    /** Fails before the fix: a cleanup error's text (with a path of the tree) was in /health. */
    @Test
    void healthNamesNoPathOfACleanupError(@TempDir Path tmp) throws Exception {
        String secret = "/branches/secret-project/rc1/build/deb/x.deb";
        try (TestServer s = TestServer.start(tmp.resolve("root"), Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"),
                work -> (tags, stopping) -> {
                    throw new java.nio.file.AccessDeniedException(secret);
                })) {
            s.daemon().cleanup().schedule(true, "test");
            assertTrue(s.daemon().cleanup().awaitIdle(10_000));
            HttpResponse<String> h = s.anonymous().get("/health");
            assertStatus(200, h);
            assertFalse(h.body().contains("secret-project"), h.body());
            assertTrue(h.body().contains("\"last_run_failed\":true"), h.body());
        }
    }

    /**
     * Fails before the fix: the probe file had a predictable name and was opened following
     * links, so a link planted there had its target truncated.
     */
    @Test
    void healthProbeNeverFollowsALink(@TempDir Path tmp) throws Exception {
        try (TestServer s = TestServer.start(tmp.resolve("root"), Map.of())) {
            Path victim = tmp.resolve("victim");
            Files.writeString(victim, "precious");
            long pid = ProcessHandle.current().pid();
            for (Path dir : new Path[] {s.root().resolve(".uploads"), s.root()}) {
                for (String name : new String[] {".health-" + pid, ".dlrepo-start-" + pid}) {
                    Files.createSymbolicLink(dir.resolve(name), victim);
                }
            }
            assertStatus(200, s.anonymous().get("/health"));
            assertEquals("precious", Files.readString(victim, StandardCharsets.UTF_8));
        }
    }

    /**
     * Fails before the fix: a proxy on the same machine that says whom it forwards with
     * other headers than X-Forwarded-For (Via, X-Forwarded-Host, X-Forwarded-Proto) made a
     * remote client local.
     */
    @Test
    void localMetricsRefuseEveryProxiedRequest() throws Exception {
        try (TestServer s = TestServer.start()) {
            for (String h : new String[] {"Via", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port",
                    "X-Forwarded-Server", "X-Original-Forwarded-For", "CF-Connecting-IP", "True-Client-IP"}) {
                HttpResponse<String> r = Caller.headers(s, h, "1.1 proxy.example.com").get("/metrics");
                assertStatus(403, r);
                assertFalse(r.body().contains("dlrepo_"), h);
            }
            assertStatus(200, s.anonymous().get("/metrics"));
        }
    }
}
