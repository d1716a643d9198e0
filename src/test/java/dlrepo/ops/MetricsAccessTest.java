package dlrepo.ops;

import static dlrepo.Check.assertError;
import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Caller;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Who may read /metrics (DLREPO_METRICS_ACCESS): local (the default) serves loopback
 * clients that no proxy forwards, open everyone, off nobody, acl whom the ACLs grant
 * /metrics. No other spelling of the path gets around the mode.
 */
class MetricsAccessTest {
    private static final String LOCAL_ONLY = "Metrics are served to local clients only (DLREPO_METRICS_ACCESS=local)";

    @Test
    void localServesLoopbackClientsThatNoProxyForwards() throws Exception {
        try (TestServer s = TestServer.start()) {
            assertStatus(200, s.anonymous().get("/metrics"));
            for (String h : new String[] {"X-Forwarded-For", "Forwarded", "X-Real-IP"}) {
                Caller proxied = Caller.headers(s, h, h.equals("Forwarded") ? "for=192.0.2.1" : "192.0.2.1");
                assertError(proxied.get("/metrics"), 403, LOCAL_ONLY);
                assertError(proxied.head("/metrics"), 403, "");
                // other spellings of the path reach the router, which does not serve them
                for (String path : new String[] {"/%6detrics", "/metrics/", "/metrics/x", "/%6Detrics/"}) {
                    String resp = proxied.rawFull("GET", path, "", new byte[0]);
                    assertFalse(resp.startsWith("HTTP/1.1 200"), path + ": " + resp);
                    assertFalse(resp.contains("dlrepo_build_info"), path);
                }
            }
            assertStatus(405, s.anonymous().send("PUT", "/metrics"));
            assertStatus(404, s.anonymous().get("/metrics/"));
        }
    }

    @Test
    void openServesEveryone() throws Exception {
        try (TestServer s = TestServer.start(Map.of("DLREPO_METRICS_ACCESS", "open"))) {
            Caller proxied = Caller.headers(s, "X-Forwarded-For", "192.0.2.1");
            assertStatus(200, proxied.get("/metrics"));
            assertTrue(proxied.get("/metrics").body().contains("dlrepo_build_info"));
        }
    }

    @Test
    void offServesNobody() throws Exception {
        try (TestServer s = TestServer.start(Map.of("DLREPO_METRICS_ACCESS", "off"))) {
            assertError(s.anonymous().get("/metrics"), 404, "Not found");
            assertEquals(404, s.anonymous().raw("GET", "/%6detrics"));
            assertEquals(404, s.anonymous().raw("GET", "/metrics/"));
        }
    }

    @Test
    void aclServesWhomTheAclsGrantMetrics() throws Exception {
        try (TestAuth auth = new TestAuth()) {
            auth.user("alice", "alicepw", "ops").acl("ops", "r /metrics");
            auth.user("bob", "bobpw", "dev").acl("dev", "rw /branches/**");
            try (TestServer s = auth.start("DLREPO_METRICS_ACCESS", "acl")) {
                assertStatus(401, s.anonymous().get("/metrics"));
                assertStatus(403, s.as("bob", "bobpw").get("/metrics"));
                var r = s.as("alice", "alicepw").get("/metrics");
                assertStatus(200, r);
                assertTrue(r.body().contains("dlrepo_http_requests_total"));
                // through a proxy too: the ACLs decide
                var proxied = Caller.headers(s, "Authorization", Caller.basicHeader("alice", "alicepw"),
                        "X-Forwarded-For", "192.0.2.1");
                assertStatus(200, proxied.get("/metrics"));
                // the ACLs grant /metrics, not what is below it
                assertStatus(403, s.as("alice", "alicepw").get("/metrics/x"));
                // /health stays open with authentication on
                assertStatus(200, s.anonymous().get("/health"));
            }
            try (TestServer s = auth.start()) {
                // local (the default): the ACLs play no part, nor do credentials
                assertStatus(200, s.anonymous().get("/metrics"));
                assertError(Caller.headers(s, "Authorization", Caller.basicHeader("alice", "alicepw"),
                        "X-Forwarded-For", "192.0.2.1").get("/metrics"), 403, LOCAL_ONLY);
            }
        }
    }
}
