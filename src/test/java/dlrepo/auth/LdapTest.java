package dlrepo.auth;

import static dlrepo.auth.AuthSupport.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dlrepo.TestAuth;
import dlrepo.Caller;
import dlrepo.TestServer;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * LDAP against a real (in-memory) directory: one entry must match the login, bind as it,
 * groups from {dn} or {login}; filter characters in logins are escaped; a directory that
 * is down gives 503 while anonymous and cached callers keep working, and it is used again
 * once it is back.
 */
class LdapTest {
    TestDirectory dir;
    TestAuth setup;
    String aliceDn;

    @BeforeEach
    void directory() throws Exception {
        dir = new TestDirectory();
        aliceDn = dir.person("alice", "alice-pw");
        String bob = dir.person("bob", "bob-pw");
        dir.person("carol", "carol-pw");
        String twin1 = dir.person("twin", "twin-pw");
        String twin2 = dir.person("robots", "twin", "twin-pw");
        String star = dir.person("st*r", "star-pw");
        String paren = dir.person("x)(uid=*", "paren-pw");
        String robot = dir.person("robots", "robot", "robot-pw");
        String nopw = dir.personWithoutPassword("nopw");
        String locked = dir.person("locked", "locked-pw");
        dir.group("dev", aliceDn, twin1, twin2, star, paren, nopw, locked);
        dir.group("ci", bob, robot);
        dir.group("ops", aliceDn);
        dir.posixGroup("unix-dev", 1000, "bob", "st*r");
        setup = new TestAuth();
        // the auth file is not used with LDAP: its user must not get in
        setup.user("fileuser", "filepw", "dev")
                .acl("dev", "r /**", "rw /~$user/**")
                .acl("ci", "ra /branches/**")
                .acl("ops", "rw /**")
                .acl("unix-dev", "r /products/**")
                .acl("ANONYMOUS", "r /branches/**");
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (dir != null) {
            dir.close();
        }
        if (setup != null) {
            setup.close();
        }
    }

    private TestServer start(String... extra) throws Exception {
        List<String> env = new java.util.ArrayList<>(List.of("DLREPO_LDAP_URL", dir.url(),
                "DLREPO_LDAP_BASE_DN", TestDirectory.BASE, "DLREPO_LDAP_START_TLS", "0",
                "DLREPO_LDAP_TIMEOUT", "5"));
        env.addAll(List.of(extra));
        return setup.start(env.toArray(String[]::new));
    }

    @Test
    void usersAndGroupsFromTheDirectory() throws Exception {
        try (TestServer s = start()) {
            Caller alice = Caller.basic(s, "alice", "alice-pw");
            assertStatus(200, alice.get("/branches/"));
            // groups dev and ops: ops may delete
            assertStatus(201, alice.upload("/branches/b/t/j/f/x", "x"));
            assertStatus(200, alice.send("DELETE", "/branches/b/t/j/f/"));
            Caller bob = Caller.basic(s, "bob", "bob-pw");
            assertStatus(201, bob.upload("/branches/c/t/j/f/x", "x"));
            assertStatus(403, bob.get("/products/"));
            assertStatus(403, bob.send("DELETE", "/branches/c/t/"));
            // a user in the other organizational unit, found by the same subtree search
            assertStatus(201, Caller.basic(s, "robot", "robot-pw").upload("/branches/c/t/j/f/y", "y"));
            // $user is the login
            assertStatus(201, Caller.basic(s, "st*r", "star-pw").upload("/~st*r/branches/b/t/j/f/x", "x"));
        }
    }

    @Test
    void refusedLogins() throws Exception {
        try (TestServer s = start()) {
            for (String[] c : List.of(
                    new String[] {"nobody", "x"},           // not found
                    new String[] {"twin", "twin-pw"},       // two entries match
                    new String[] {"alice", "wrong"},        // wrong password
                    new String[] {"alice", ""},             // empty password: no unauthenticated bind
                    new String[] {"alice", "ALICE-PW"},
                    new String[] {"carol", "carol-pw"},     // found, right password, no group
                    new String[] {"nopw", "x"},             // an entry without a password
                    new String[] {"locked", "locked-pw"},   // the server refuses the bind (inactivated)
                    new String[] {"fileuser", "filepw"})) { // the auth file is not used
                var r = Caller.basic(s, c[0], c[1]).get("/branches/");
                assertEquals(401, r.statusCode(), () -> c[0] + "/" + c[1] + ": " + r.body());
            }
        }
    }

    @Test
    void filterCharactersInLoginsAreEscaped() throws Exception {
        try (TestServer s = start()) {
            // '*' is not a wildcard: it matches the one user whose uid has a '*', nobody else
            for (String login : List.of("*", "a*", "*e", "ali*", "al*ce", "*)(uid=alice", "alice)(|(uid=*",
                    "*)(objectClass=*", "\\2a", "alice\u0000")) {
                for (String pw : List.of("alice-pw", "star-pw", "paren-pw", "")) {
                    assertEquals(401, Caller.basic(s, login, pw).status("GET", "/branches/"), login + "/" + pw);
                }
            }
            assertStatus(200, Caller.basic(s, "st*r", "star-pw").get("/branches/"));
            assertEquals(401, Caller.basic(s, "st*r", "alice-pw").status("GET", "/branches/"));
            assertEquals(401, Caller.basic(s, "s*", "star-pw").status("GET", "/branches/"));
            assertStatus(200, Caller.basic(s, "x)(uid=*", "paren-pw").get("/branches/"));
            assertEquals(401, Caller.basic(s, "x)(uid=*", "alice-pw").status("GET", "/branches/"));
        }
    }

    @Test
    void groupsByLogin() throws Exception {
        try (TestServer s = start("DLREPO_LDAP_GROUPS_FILTER", "(&(objectClass=posixGroup)(memberUid={login}))")) {
            // bob is in unix-dev by memberUid, not in ci any more (groupOfNames are not searched)
            Caller bob = Caller.basic(s, "bob", "bob-pw");
            assertStatus(200, bob.get("/products/"));
            assertStatus(403, bob.upload("/branches/c/t/j/f/x", "x"));
            // escaped in the groups filter too: 'st*r' is in unix-dev, which a '*' login can't reach
            assertStatus(200, Caller.basic(s, "st*r", "star-pw").get("/products/"));
            // alice has no posixGroup: no group, 401
            assertEquals(401, Caller.basic(s, "alice", "alice-pw").status("GET", "/branches/"));
        }
    }

    @Test
    void directoryDownIs503AndRecovers() throws Exception {
        try (TestServer s = start()) {
            Caller alice = Caller.basic(s, "alice", "alice-pw");
            assertStatus(200, alice.get("/branches/"));
            dir.stop();
            // a caller not in the cache: the directory can't be asked
            assertStatus(503, Caller.basic(s, "bob", "bob-pw").upload("/branches/c/t/j/f/x", "x"));
            assertStatus(503, Caller.basic(s, "bob", "bob-pw").get("/branches/"));
            assertStatus(503, Caller.basic(s, "nobody", "x").get("/branches/"));
            // cached callers and anonymous ones keep working
            assertStatus(200, alice.get("/branches/"));
            assertStatus(201, alice.upload("/branches/down/t/j/f/x", "x"));
            assertStatus(200, Caller.anonymous(s).get("/branches/"));
            assertStatus(401, Caller.anonymous(s).upload("/branches/down/t/j/f/y", "y"));
            // the directory is back: used again, no restart of the daemon needed
            dir.restart();
            assertStatus(201, Caller.basic(s, "bob", "bob-pw").upload("/branches/c/t/j/f/x", "x"));
            assertEquals(401, Caller.basic(s, "bob", "wrong").status("GET", "/branches/"));
            assertStatus(200, Caller.basic(s, "robot", "robot-pw").get("/branches/"));
            assertFalse(Files.exists(s.root().resolve("branches/down/t/j/f/y")));
        }
    }

    @Test
    void successfulLoginsAreCachedUntilReload() throws Exception {
        try (TestServer s = start()) {
            assertStatus(200, Caller.basic(s, "alice", "alice-pw").get("/branches/"));
            dir.setPassword(aliceDn, "new-pw");
            // cached under the old credentials; the new password is checked against the directory
            assertStatus(200, Caller.basic(s, "alice", "alice-pw").get("/branches/"));
            assertStatus(200, Caller.basic(s, "alice", "new-pw").get("/branches/"));
            // the cache is keyed by the credentials: another password is not served from it
            assertEquals(401, Caller.basic(s, "alice", "alice-pw2").status("GET", "/branches/"));
            // SIGHUP (reload) flushes the cache
            s.daemon().reload();
            assertEquals(401, Caller.basic(s, "alice", "alice-pw").status("GET", "/branches/"));
            assertStatus(200, Caller.basic(s, "alice", "new-pw").get("/branches/"));
        }
    }

    @Test
    void noCacheWithSizeZero() throws Exception {
        try (TestServer s = start("DLREPO_AUTH_CACHE_SIZE", "0")) {
            String previous = "alice-pw";
            for (int i = 0; i < 20; i++) {
                assertStatus(200, Caller.basic(s, "alice", previous).get("/branches/"));
                dir.setPassword(aliceDn, "pw-" + i);
                assertEquals(401, Caller.basic(s, "alice", previous).status("GET", "/branches/"), "round " + i);
                previous = "pw-" + i;
            }
        }
    }

    @Test
    void cacheEntriesExpireAfterTheTtl() throws Exception {
        try (TestServer s = start("DLREPO_AUTH_CACHE_TTL", "1")) {
            long t0 = System.nanoTime();
            assertStatus(200, Caller.basic(s, "alice", "alice-pw").get("/branches/"));
            dir.setPassword(aliceDn, "new-pw");
            int st = Caller.basic(s, "alice", "alice-pw").status("GET", "/branches/");
            if (System.nanoTime() - t0 < 700_000_000L) {
                // well within the TTL: still the cached login
                assertEquals(200, st);
            }
            Thread.sleep(2500);
            assertEquals(401, Caller.basic(s, "alice", "alice-pw").status("GET", "/branches/"));
            assertStatus(200, Caller.basic(s, "alice", "new-pw").get("/branches/"));
            // and a cached login of a directory that went down expires too
            dir.stop();
            assertStatus(200, Caller.basic(s, "alice", "new-pw").get("/branches/"));
            Thread.sleep(2500);
            assertStatus(503, Caller.basic(s, "alice", "new-pw").get("/branches/"));
        }
    }
}
