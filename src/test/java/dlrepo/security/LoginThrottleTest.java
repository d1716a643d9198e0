package dlrepo.security;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import at.favre.lib.crypto.bcrypt.BCrypt;
import dlrepo.Caller;
import dlrepo.Config;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import dlrepo.auth.TestDirectory;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Guessing passwords: an unknown login costs as much as a known one with a hashed password
 * (no timing tells which users exist), and a client that keeps failing with a login, or
 * with all its logins, gets 429 with Retry-After at once (no password checked, no thread
 * held) until its window ends, while credentials it proved right before, its other logins,
 * other clients and anonymous requests are unaffected. Only failures count: requests with
 * right credentials sent at once are not refused.
 */
class LoginThrottleTest {

    private static Caller basic(TestServer s, String login, String password, String... headers) {
        String[] all = Arrays.copyOf(headers, headers.length + 2);
        all[headers.length] = "Authorization";
        all[headers.length + 1] = Caller.basicHeader(login, password);
        return Caller.headers(s, all);
    }

    /** The statuses of GET / sent by all {@code callers} at once: how many of each. */
    private static Map<Integer, Integer> atOnce(TestServer s, List<Caller> callers) throws Exception {
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (Caller c : callers) {
            all.add(s.client().sendAsync(c.request("/").GET().build(), HttpResponse.BodyHandlers.ofString()));
        }
        Map<Integer, Integer> statuses = new TreeMap<>();
        for (var f : all) {
            statuses.merge(f.get().statusCode(), 1, Integer::sum);
        }
        return statuses;
    }

    private static long timed(Caller c) throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<String> r = c.get("/branches/");
        long t = System.nanoTime() - t0;
        assertStatus(401, r);
        return t;
    }

    private static long median(long[] values) {
        long[] v = values.clone();
        Arrays.sort(v);
        return v[v.length / 2];
    }

    @Test
    void unknownLoginsTakeAsLongAsKnownOnes() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            for (String login : List.of("known", "other", "third")) {
                setup.user(login, BCrypt.withDefaults().hashToString(8, (login + "-pw").toCharArray()), "dev");
            }
            setup.acl("dev", "r /**");
            try (TestServer s = setup.start("DLREPO_AUTH_MAX_FAILURES", "0")) {
                for (int i = 0; i < 3; i++) {
                    timed(basic(s, "warm" + i, "x"));
                    timed(basic(s, "known", "warm" + i));
                }
                // interleaved, so that a busy moment of the machine hits both alike; medians
                int n = 15;
                long[] unknown = new long[n];
                long[] known = new long[n];
                for (int i = 0; i < n; i++) {
                    unknown[i] = timed(basic(s, "nobody" + i, "guess" + i));
                    known[i] = timed(basic(s, "known", "guess" + i));
                }
                long mu = median(unknown);
                long mk = median(known);
                String what = "median unknown " + mu / 1000 + " us, known " + mk / 1000 + " us";
                System.out.println("login timing (bcrypt cost 8): " + what);
                assertTrue(mu * 3 >= mk, what);
                assertTrue(mu <= mk * 3, what);
            }
        }
    }

    @Test
    void repeatedFailuresGet429() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.user("alice", "alice-pw", "dev").user("bob", "bob-pw", "dev").user("carol", "carol-pw", "dev")
                    .acl("dev", "r /**").acl("ANONYMOUS", "r /branches/**");
            try (TestServer s = setup.start("DLREPO_AUTH_MAX_FAILURES", "3", "DLREPO_AUTH_FAILURE_WINDOW", "60")) {
                assertStatus(200, basic(s, "alice", "alice-pw").get("/"));
                for (int i = 0; i < 3; i++) {
                    assertStatus(401, basic(s, "alice", "wrong" + i).get("/"));
                }
                HttpResponse<String> r = basic(s, "alice", "wrong").get("/");
                assertStatus(429, r);
                int retry = Integer.parseInt(r.headers().firstValue("Retry-After").orElse("-1"));
                assertTrue(retry >= 1 && retry <= 60, "Retry-After: " + retry);
                assertTrue(r.body().contains("error"), r.body());
                // logins differing in case are one
                assertStatus(429, basic(s, "ALICE", "wrong").get("/"));
                // credentials this client proved right before keep working
                assertStatus(200, basic(s, "alice", "alice-pw").get("/"));
                // anonymous requests are not logins
                assertStatus(200, Caller.anonymous(s).get("/branches/"));
                // behind a proxy on this machine, the client is the last X-Forwarded-For address
                assertStatus(200, basic(s, "bob", "bob-pw", "X-Forwarded-For", "203.0.113.7").get("/"));
                assertStatus(401, basic(s, "alice", "wrong", "X-Forwarded-For", "203.0.113.7").get("/"));
                // ... the last one only: what a client puts before it is not believed
                assertStatus(429, basic(s, "alice", "wrong", "X-Forwarded-For", "203.0.113.8, 127.0.0.1").get("/"));
                // IPv6 clients are counted by /64: a client has a whole one
                for (int i = 0; i < 3; i++) {
                    assertStatus(401, basic(s, "carol", "wrong", "X-Forwarded-For", "2001:db8::" + (i + 1)).get("/"));
                }
                assertStatus(429, basic(s, "carol", "carol-pw", "X-Forwarded-For", "2001:db8::99").get("/"));
                assertStatus(200, basic(s, "carol", "carol-pw", "X-Forwarded-For", "2001:db8:0:1::1").get("/"));
            }
        }
    }

    @Test
    void oneUsersTyposDoNotLockOutColleaguesBehindTheSameAddress() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.acl("dev", "r /**");
            for (String login : List.of("alice", "bob", "carol", "u0", "u1", "u2", "u3", "u4", "u5")) {
                // slow enough a check that the requests sent at once overlap
                setup.user(login, BCrypt.withDefaults().hashToString(10, (login + "-pw").toCharArray()), "dev");
            }
            try (TestServer s = setup.start("DLREPO_AUTH_MAX_FAILURES", "2")) {
                // colleagues behind one NAT logging in at once
                List<Caller> colleagues = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    colleagues.add(basic(s, "u" + i, "u" + i + "-pw"));
                }
                assertEquals(Map.of(200, 6), atOnce(s, colleagues));
                // alice's typos lock out alice, not bob
                assertStatus(401, basic(s, "alice", "typo1").get("/"));
                assertStatus(401, basic(s, "alice", "typo2").get("/"));
                assertStatus(429, basic(s, "alice", "alice-pw").get("/"));
                assertStatus(200, basic(s, "bob", "bob-pw").get("/"));
                // a client's failures over all logins: 5 times the limit (2 of alice, 8 more)
                for (int i = 0; i < 8; i++) {
                    assertStatus(401, basic(s, "guess" + i, "x").get("/"));
                }
                assertStatus(429, basic(s, "guess8", "x").get("/"));
                assertStatus(429, basic(s, "carol", "carol-pw").get("/"));
                // what the client proved right before keeps working
                assertStatus(200, basic(s, "bob", "bob-pw").get("/"));
                assertStatus(200, basic(s, "u3", "u3-pw").get("/"));
            }
        }
    }

    @Test
    void attemptsMadeAtOnceCountToo() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.user("alice", BCrypt.withDefaults().hashToString(8, "alice-pw".toCharArray()), "dev")
                    .acl("dev", "r /**");
            try (TestServer s = setup.start("DLREPO_AUTH_MAX_FAILURES", "3")) {
                List<Caller> guesses = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    guesses.add(basic(s, "alice", "guess" + i));
                }
                // three passwords were checked, no more
                assertEquals(Map.of(401, 3, 429, 13), atOnce(s, guesses));
                // guesses spread over logins: 5 times the limit of one login, no more
                guesses.clear();
                for (int i = 0; i < 40; i++) {
                    guesses.add(basic(s, "nobody" + i, "guess", "X-Forwarded-For", "203.0.113.9"));
                }
                assertEquals(Map.of(401, 15, 429, 25), atOnce(s, guesses));
            }
        }
    }

    @Test
    void rightPasswordsSentAtOnceAreNotRefused() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            // slow enough a check that the requests overlap it
            setup.user("ci", BCrypt.withDefaults().hashToString(10, "ci-pw".toCharArray()), "dev")
                    .acl("dev", "r /**");
            try (TestServer s = setup.start("DLREPO_AUTH_MAX_FAILURES", "3")) {
                // a CI job's parallel requests with its right password
                assertEquals(Map.of(200, 30), atOnce(s, Collections.nCopies(30, basic(s, "ci", "ci-pw"))));
                // ... even when the client has a single failure left
                String[] other = {"X-Forwarded-For", "203.0.113.5"};
                assertStatus(401, basic(s, "ci", "typo1", other).get("/"));
                assertStatus(401, basic(s, "ci", "typo2", other).get("/"));
                assertEquals(Map.of(200, 30), atOnce(s, Collections.nCopies(30, basic(s, "ci", "ci-pw", other))));
                // successes took nothing from the limit: one failure is left, then 429
                assertStatus(401, basic(s, "ci", "typo3", other).get("/"));
                assertStatus(429, basic(s, "ci", "typo4", other).get("/"));
                assertStatus(200, basic(s, "ci", "ci-pw", other).get("/"));
            }
        }
    }

    @Test
    void theBlockEndsWithTheWindow() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.user("alice", "alice-pw", "dev").acl("dev", "r /**");
            try (TestServer s = setup.start("DLREPO_AUTH_MAX_FAILURES", "2", "DLREPO_AUTH_FAILURE_WINDOW", "2")) {
                assertStatus(401, basic(s, "alice", "w1").get("/"));
                assertStatus(401, basic(s, "alice", "w2").get("/"));
                HttpResponse<String> r = basic(s, "alice", "alice-pw").get("/");
                assertStatus(429, r);
                long retry = Long.parseLong(r.headers().firstValue("Retry-After").orElse("-1"));
                assertTrue(retry >= 1 && retry <= 2, "Retry-After: " + retry);
                Thread.sleep(retry * 1000 + 300);
                assertStatus(200, basic(s, "alice", "alice-pw").get("/"));
            }
        }
    }

    @Test
    void ldapFailuresAreCountedToo() throws Exception {
        try (TestAuth setup = new TestAuth(); TestDirectory dir = new TestDirectory()) {
            dir.group("dev", dir.person("alice", "Al1ce-Ldap"), dir.person("bob", "B0b-Ldap"));
            setup.acl("dev", "r /**");
            try (TestServer s = setup.start("DLREPO_LDAP_URL", dir.url(), "DLREPO_LDAP_BASE_DN", TestDirectory.BASE,
                    "DLREPO_LDAP_START_TLS", "0", "DLREPO_LDAP_TIMEOUT", "5", "DLREPO_AUTH_MAX_FAILURES", "2")) {
                assertStatus(401, basic(s, "alice", "wrong1").get("/"));
                assertStatus(401, basic(s, "ALICE", "wrong2").get("/"));
                assertStatus(429, basic(s, "alice", "wrong3").get("/"));
                assertStatus(429, basic(s, "alice", "Al1ce-Ldap").get("/"));
                assertStatus(200, basic(s, "alice", "Al1ce-Ldap", "X-Forwarded-For", "198.51.100.1").get("/"));
                assertStatus(200, basic(s, "bob", "B0b-Ldap").get("/"));
                assertStatus(401, basic(s, "nobody", "wrong").get("/"));
            }
        }
    }

    @Test
    void theLimitsAreValidated() {
        for (String[] bad : List.of(new String[] {"DLREPO_AUTH_MAX_FAILURES", "-1"},
                new String[] {"DLREPO_AUTH_MAX_FAILURES", "ten"},
                new String[] {"DLREPO_AUTH_FAILURE_WINDOW", "0"},
                new String[] {"DLREPO_AUTH_FAILURE_WINDOW", "1h"})) {
            Map<String, String> env = new HashMap<>(Map.of("DLREPO_AUTH_DISABLED", "1", "DLREPO_ROOT_DIR", "/tmp"));
            env.put(bad[0], bad[1]);
            RuntimeException e = assertThrows(Config.ConfigException.class, () -> Config.fromEnv(env));
            assertTrue(e.getMessage().startsWith(bad[0] + "=" + bad[1] + ": "), e.getMessage());
        }
    }
}
