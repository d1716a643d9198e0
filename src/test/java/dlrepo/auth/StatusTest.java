package dlrepo.auth;

import static dlrepo.auth.AuthSupport.assertStatus;
import static dlrepo.auth.AuthSupport.assertUnauthorized;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
 * 401 (anonymous, bad credentials, no group) with {@code WWW-Authenticate: Basic
 * realm="<DLREPO_AUTH_REALM>"}, versus 403 (authenticated but not allowed); the open static
 * files; /v2/ for anonymous callers.
 */
class StatusTest {
    static final String REALM = "Build Artifacts";
    static TestAuth setup;
    static TestServer s;
    static Caller admin;

    @BeforeAll
    static void start() throws Exception {
        setup = new TestAuth();
        setup.user("admin", "adminpw", "admin").acl("admin", "rw /**")
                .user("dev", "devpw", "dev").acl("dev", "r /**", "ra /branches/dev/**")
                .line("nogroup:pw:")
                .line("blankgroups:pw:   ")
                .user("ghost", "pw", "nosuchgroup")
                .acl("ANONYMOUS", "r /branches/**");
        s = setup.start("DLREPO_AUTH_REALM", REALM);
        admin = Caller.basic(s, "admin", "adminpw");
        admin.uploadFinalized("/branches/main/t/j/f/file", "content");
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
        setup.close();
    }

    @Test
    void anonymousWritesAre401WithTheRealm() throws Exception {
        Caller anon = Caller.anonymous(s);
        assertUnauthorized(anon.upload("/branches/main/t/j/g/x", "x"), REALM);
        assertUnauthorized(anon.send("PATCH", "/branches/main/t/j/f/"), REALM);
        assertUnauthorized(anon.json("PATCH", "/branches/main/t/j/", "{\"job\": {\"a\": \"b\"}}"), REALM);
        assertUnauthorized(anon.json("POST", "/branches/main/t/", "{\"tag\": {\"locked\": true}}"), REALM);
        assertUnauthorized(anon.send("DELETE", "/branches/main/t/"), REALM);
        assertUnauthorized(anon.send("DELETE", "/branches/main/"), REALM);
        assertFalse(Files.exists(s.root().resolve("branches/main/t/j/g")));
        assertTrue(Files.exists(s.root().resolve("branches/main/t/j/f/file")));
        // the error body says what went wrong
        HttpResponse<String> r = anon.upload("/branches/main/t/j/g/x", "x");
        assertTrue(AuthSupport.JSON.readTree(r.body()).get("error").isTextual(), r.body());
    }

    @Test
    void anonymousReadsFollowTheAnonymousAcl() throws Exception {
        Caller anon = Caller.anonymous(s);
        assertStatus(200, anon.get("/branches/"));
        assertStatus(200, anon.get("/branches/main/t/j/f/file"));
        assertStatus(200, anon.send("HEAD", "/branches/main/t/j/f/file"));
        // not in the ANONYMOUS file: 401 (maybe logging in helps), never 403
        assertUnauthorized(anon.get("/products/"), REALM);
        assertUnauthorized(anon.get("/"), REALM);
        assertUnauthorized(anon.get("/cli"), REALM);
    }

    @Test
    void badCredentialsAre401NeverAnonymous() throws Exception {
        // /branches/ is readable anonymously: bad credentials must still not read it
        for (Caller c : List.of(
                Caller.basic(s, "dev", "wrong"),
                Caller.basic(s, "dev", ""),
                Caller.basic(s, "dev", "devpw "),
                Caller.basic(s, "dev", "DEVPW"),
                Caller.basic(s, "DEV", "devpw"),
                Caller.basic(s, "nobody", "devpw"),
                Caller.basic(s, "", "devpw"),
                Caller.headers(s, "Authorization", "Basic !!!not-base64!!!"),
                Caller.headers(s, "Authorization", "Basic " + java.util.Base64.getEncoder()
                        .encodeToString("devpw-without-colon".getBytes())),
                Caller.headers(s, "Authorization", "Bearer abcdef"),
                Caller.headers(s, "Authorization", "Digest username=\"dev\""))) {
            assertUnauthorized(c.get("/branches/"), REALM);
            assertUnauthorized(c.get("/branches/main/t/j/f/file"), REALM);
            assertUnauthorized(c.upload("/branches/dev/bad/j/f/x", "x"), REALM);
        }
        assertFalse(Files.exists(s.root().resolve("branches/dev/bad")));
    }

    @Test
    void userWithoutGroupIs401() throws Exception {
        for (String login : List.of("nogroup", "blankgroups")) {
            Caller c = Caller.basic(s, login, "pw");
            assertUnauthorized(c.get("/branches/"), REALM);
            assertUnauthorized(c.upload("/branches/dev/t/j/f/x", "x"), REALM);
        }
    }

    @Test
    void authenticatedButNotAllowedIs403() throws Exception {
        Caller dev = Caller.basic(s, "dev", "devpw");
        assertStatus(201, dev.upload("/branches/dev/t/j/f/x", "x"));
        HttpResponse<String> r = dev.upload("/branches/main/t/j/g/x", "x");
        assertStatus(403, r);
        assertTrue(AuthSupport.JSON.readTree(r.body()).get("error").isTextual(), r.body());
        assertStatus(403, dev.send("DELETE", "/branches/dev/t/"));
        assertStatus(403, dev.json("POST", "/branches/dev/t/", "{\"tag\": {\"locked\": true}}"));
        assertFalse(Files.exists(s.root().resolve("branches/main/t/j/g")));
        // a group without an ACL file grants nothing, but the caller is known: 403
        Caller ghost = Caller.basic(s, "ghost", "pw");
        assertStatus(403, ghost.get("/branches/"));
        assertStatus(403, ghost.upload("/branches/dev/t/j/f/y", "y"));
    }

    @Test
    void anonymousRegistryRootIs401() throws Exception {
        Caller anon = Caller.anonymous(s);
        for (String path : List.of("/v2/", "/v2")) {
            HttpResponse<String> r = anon.get(path);
            assertEquals(401, r.statusCode(), () -> path + ": " + r.body());
            assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic realm=\"" + REALM + "\""),
                    () -> path + ": " + r.headers().map());
        }
        // a logged-in user gets past authentication
        int st = Caller.basic(s, "dev", "devpw").status("GET", "/v2/");
        assertNotEquals(401, st);
        assertNotEquals(403, st);
    }

    @Test
    void staticFilesNeedNoAuthentication() throws Exception {
        // ANONYMOUS may read nothing but /branches/**: static files are open anyway
        for (Caller c : List.of(Caller.anonymous(s), Caller.basic(s, "dev", "wrong"),
                Caller.headers(s, "Authorization", "Bearer x"))) {
            for (String path : List.of("/static/x", "/static/does/not/exist.css", "/favicon.ico")) {
                for (String method : List.of("GET", "HEAD")) {
                    int st = c.status(method, path);
                    assertTrue(st == 200 || st == 404, method + " " + path + ": " + st);
                }
            }
        }
        // ... to read, not to write
        assertEquals(401, Caller.anonymous(s).upload("/static/x", "x").statusCode());
        // "static" elsewhere in a path is nothing special
        assertUnauthorized(Caller.anonymous(s).get("/products/static/"), REALM);
    }
}
