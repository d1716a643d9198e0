package dlrepo.auth;

import static dlrepo.auth.AuthSupport.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestAuth;
import dlrepo.Caller;
import dlrepo.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Proxy-header mode: the login and the comma-separated groups come from headers set by an
 * authenticating reverse proxy; no login header is 401; Basic credentials play no part.
 */
class ProxyHeadersTest {
    static final String LOGIN = "X-Remote-User";
    static final String GROUPS = "X-Remote-Groups";
    static TestAuth setup;
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        setup = new TestAuth();
        // the auth file is not used in this mode: its user must not get in
        setup.user("admin", "adminpw", "admin").acl("admin", "rw /**")
                .acl("ci", "ra /branches/**")
                .acl("dev", "r /**", "rw /~$user/**")
                .acl("ANONYMOUS", "r /**");
        s = setup.start("DLREPO_AUTH_HTTP_LOGIN_HEADER", LOGIN, "DLREPO_AUTH_HTTP_GROUPS_HEADER", GROUPS,
                "DLREPO_AUTH_REALM", "proxied");
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
        setup.close();
    }

    private static Caller as(String login, String groups) {
        return Caller.headers(s, LOGIN, login, GROUPS, groups);
    }

    @Test
    void missingLoginHeaderIs401() throws Exception {
        // ANONYMOUS could read everything, but behind the proxy there is no anonymous caller
        for (Caller c : List.of(Caller.anonymous(s), Caller.headers(s, GROUPS, "dev"),
                Caller.headers(s, LOGIN, "", GROUPS, "dev"), Caller.headers(s, LOGIN, "   ", GROUPS, "dev"),
                Caller.basic(s, "admin", "adminpw"))) {
            HttpResponse<String> r = c.get("/branches/");
            assertStatus(401, r);
            assertEquals("Basic realm=\"proxied\"", r.headers().firstValue("WWW-Authenticate").orElse(""));
            assertStatus(401, c.upload("/branches/x/t/j/f/file", "x"));
        }
        assertFalse(Files.exists(s.root().resolve("branches/x")));
        // static files stay open
        int st = Caller.anonymous(s).status("GET", "/static/nothing.css");
        assertTrue(st == 200 || st == 404, "static: " + st);
    }

    @Test
    void groupsAreCommaSeparatedAndAddUp() throws Exception {
        String b = AuthSupport.unique("proxy");
        Caller ci = as("robot", "ci");
        assertStatus(201, ci.upload("/branches/" + b + "/t/j/f/file", "x"));
        assertStatus(403, ci.get("/products/"));
        assertStatus(403, ci.send("DELETE", "/branches/" + b + "/t/"));
        Caller both = as("robot", "ci,dev");
        assertStatus(200, both.get("/products/"));
        assertStatus(201, both.upload("/branches/" + b + "/t/j/f/other", "y"));
        for (String groups : List.of(" ci , dev ", ",,dev,", "nosuch, dev")) {
            assertStatus(200, as("robot", groups).get("/products/"));
        }
        // a group list with spaces only (no commas) is one group name, which has no ACL
        assertStatus(403, as("robot", "ci dev").get("/products/"));
        // no group at all: known login, nothing allowed
        assertStatus(403, Caller.headers(s, LOGIN, "robot").get("/products/"));
        assertStatus(403, as("robot", "").get("/products/"));
        // header names are case-insensitive
        assertStatus(200, Caller.headers(s, "x-remote-user", "robot", "X-REMOTE-GROUPS", "dev").get("/products/"));
    }

    @Test
    void dollarUserIsTheHeaderLogin() throws Exception {
        String b = AuthSupport.unique("home");
        assertStatus(201, as("alice", "dev").upload("/~alice/branches/" + b + "/t/j/f/x", "x"));
        assertStatus(201, as("Alice", "dev").upload("/~alice/branches/" + b + "/t/j/f/y", "y"));
        assertStatus(403, as("bob", "dev").upload("/~alice/branches/" + b + "/t/j/f/z", "z"));
        for (String login : List.of("*", "a*", "ali?e", "**")) {
            assertStatus(403, as(login, "dev").upload("/~alice/branches/" + b + "/t/j/f/z", "z"));
        }
        // not even a user name (see security/LoginNameTest)
        assertStatus(401, as(".*", "dev").upload("/~alice/branches/" + b + "/t/j/f/z", "z"));
        assertFalse(Files.exists(s.root().resolve("users/alice/branches/" + b + "/t/j/f/z")));
    }
}
