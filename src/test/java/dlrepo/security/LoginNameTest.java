package dlrepo.security;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Caller;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import dlrepo.auth.TestDirectory;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A login is a user name ({@code $user} of the ACLs, {@code /~<user>/} of user
 * repositories): one that is not a valid name ('/', '.', '..', a leading '.', control
 * characters, blanks around it) is refused with 401 and a WARN line (without the password),
 * whether it comes from the proxy's header, the auth file or the LDAP directory; two logins
 * of the auth file that differ only in case would share one user repository: both are
 * refused.
 */
class LoginNameTest {
    private static final List<String> BAD = List.of("alice/branches", "alice/", "/alice", "alice/../bob", ".", "..",
            ".alice", "al\tice");

    private static void assertUnauthorized(HttpResponse<String> r) {
        assertStatus(401, r);
        assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic realm="), r.toString());
    }

    @Test
    void proxyLoginsMustBeNames() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.acl("dev", "r /**", "rw /~$user/**");
            try (TestServer s = setup.start("DLREPO_AUTH_HTTP_LOGIN_HEADER", "X-Remote-User",
                    "DLREPO_AUTH_HTTP_GROUPS_HEADER", "X-Remote-Groups");
                    LogCapture log = new LogCapture()) {
                Caller alice = Caller.headers(s, "X-Remote-User", "alice", "X-Remote-Groups", "dev");
                assertStatus(201, alice.upload("/~alice/branches/b/t/j/f/mine", "alice's"));
                // "alice/branches" would have $user match /~alice/branches/** : alice's repository
                for (String login : BAD) {
                    String resp = Caller.anonymous(s).rawFull("PUT", "/~alice/branches/b/t/j/f/z",
                            "X-Remote-User: " + login + "\r\nX-Remote-Groups: dev\r\nDigest: "
                                    + TestServer.digest("z") + "\r\n", "z".getBytes());
                    assertTrue(resp.startsWith("HTTP/1.1 401 "), "[" + login + "]: " + resp);
                    assertTrue(resp.contains("WWW-Authenticate: Basic realm="), resp);
                    resp = Caller.anonymous(s).rawFull("GET", "/~alice/branches/b/t/j/f/mine",
                            "X-Remote-User: " + login + "\r\nX-Remote-Groups: dev\r\n", new byte[0]);
                    assertTrue(resp.startsWith("HTTP/1.1 401 "), "[" + login + "]: " + resp);
                }
                assertFalse(Files.exists(s.root().resolve("users/alice/branches/b/t/j/f/z")));
                assertTrue(log.lines().stream().anyMatch(l -> l.startsWith("WARN") && l.contains("alice/branches")),
                        log.text());
                // a login in another case is the same user: the repository names are lower case
                assertStatus(201, Caller.headers(s, "X-Remote-User", "Alice", "X-Remote-Groups", "dev")
                        .upload("/~alice/branches/b/t/j/f/upper", "x"));
                // and an unusual but valid name is fine
                assertStatus(201, Caller.headers(s, "X-Remote-User", "jean.dupont", "X-Remote-Groups", "dev")
                        .upload("/~jean.dupont/branches/b/t/j/f/x", "x"));
            }
        }
    }

    @Test
    void authFileLoginsMustBeNames() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.user("alice", "alice-pw", "dev")
                    .user("alice/branches", "Mallory-Secret-1", "dev")
                    .user(".alice", "Mallory-Secret-2", "dev")
                    .user("..", "Mallory-Secret-3", "dev")
                    .line("dave :Mallory-Secret-4:dev")
                    // two logins, one user repository: neither may log in
                    .user("Carol", "Carol-Upper-Secret", "dev")
                    .user("carol", "Carol-Lower-Secret", "dev")
                    .acl("dev", "r /**", "rw /~$user/**");
            try (TestServer s = setup.start(); LogCapture log = new LogCapture()) {
                assertStatus(201, Caller.basic(s, "alice", "alice-pw").upload("/~alice/branches/b/t/j/f/mine", "a"));
                assertUnauthorized(Caller.basic(s, "alice/branches", "Mallory-Secret-1")
                        .upload("/~alice/branches/b/t/j/f/z", "z"));
                assertUnauthorized(Caller.basic(s, ".alice", "Mallory-Secret-2").get("/branches/"));
                assertUnauthorized(Caller.basic(s, "..", "Mallory-Secret-3").get("/branches/"));
                assertUnauthorized(Caller.basic(s, "dave ", "Mallory-Secret-4").get("/branches/"));
                assertUnauthorized(Caller.basic(s, "al\u0001ice", "Mallory-Secret-5").get("/branches/"));
                assertUnauthorized(Caller.basic(s, "Carol", "Carol-Upper-Secret").upload("/~carol/branches/b/t/j/f/z",
                        "z"));
                assertUnauthorized(Caller.basic(s, "carol", "Carol-Lower-Secret").get("/~carol/"));
                assertFalse(Files.exists(s.root().resolve("users/alice/branches/b/t/j/f/z")));
                assertFalse(Files.exists(s.root().resolve("users/carol/branches/b/t/j/f/z")));
                String text = log.text();
                assertTrue(log.lines().stream().anyMatch(l -> l.startsWith("WARN") && l.contains("not a valid user")),
                        text);
                for (String secret : List.of("Mallory-Secret", "Carol-Upper-Secret", "Carol-Lower-Secret", "Basic ")) {
                    assertFalse(text.contains(secret), text);
                }
                // the file is checked when read (here on SIGHUP): the log says which lines are ignored
                try (LogCapture reload = new LogCapture()) {
                    s.daemon().reload();
                    String text2 = reload.text();
                    assertTrue(text2.contains("differ only in case"), text2);
                    assertTrue(text2.contains("not a valid user name"), text2);
                    for (String secret : List.of("Mallory-Secret", "Carol-Upper-Secret", "Carol-Lower-Secret")) {
                        assertFalse(text2.contains(secret), text2);
                    }
                }
            }
        }
    }

    @Test
    void ldapLoginsMustBeNames() throws Exception {
        try (TestAuth setup = new TestAuth(); TestDirectory dir = new TestDirectory()) {
            String alice = dir.person("alice", "Al1ce-Ldap-Secret");
            String mallory = dir.person("alice/branches", "Mall0ry-Ldap-Secret");
            dir.group("dev", alice, mallory);
            setup.acl("dev", "r /**", "rw /~$user/**");
            try (TestServer s = setup.start("DLREPO_LDAP_URL", dir.url(), "DLREPO_LDAP_BASE_DN", TestDirectory.BASE,
                    "DLREPO_LDAP_START_TLS", "0", "DLREPO_LDAP_TIMEOUT", "5"); LogCapture log = new LogCapture()) {
                assertStatus(201, Caller.basic(s, "alice", "Al1ce-Ldap-Secret").upload("/~alice/branches/b/t/j/f/x",
                        "x"));
                assertUnauthorized(Caller.basic(s, "alice/branches", "Mall0ry-Ldap-Secret")
                        .upload("/~alice/branches/b/t/j/f/z", "z"));
                assertFalse(Files.exists(s.root().resolve("users/alice/branches/b/t/j/f/z")));
                assertFalse(log.text().contains("Mall0ry-Ldap-Secret"), log.text());
                assertEquals(true, log.lines().stream().anyMatch(l -> l.startsWith("WARN")), log.text());
            }
        }
    }
}
