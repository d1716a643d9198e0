package dlrepo.auth;

import static dlrepo.auth.AuthSupport.assertAllowed;
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
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ACL files through real requests: access letters against each operation class,
 * glob syntax, intersection and union, negation, regular expressions and {@code $user}.
 */
class AclTest {
    /** Access letters of one line, and the operations they grant ("" = the line is ignored). */
    private static final Map<String, String> LETTERS = Map.ofEntries(
            Map.entry("r", "r"),
            Map.entry("ro", "r"),
            Map.entry("rw", "radu"),
            Map.entry("rwo", "radu"),
            Map.entry("ra", "ra"),
            Map.entry("rd", "rd"),
            Map.entry("ru", "ru"),
            Map.entry("rad", "rad"),
            Map.entry("rdu", "rdu"),
            Map.entry("a", ""),
            Map.entry("d", ""),
            Map.entry("u", ""),
            Map.entry("w", ""),
            Map.entry("adu", ""),
            Map.entry("rx", ""),
            Map.entry("rwz", ""),
            Map.entry("RW", ""));

    static TestAuth setup;
    static TestServer s;
    static Caller admin;

    @BeforeAll
    static void start() throws Exception {
        setup = new TestAuth();
        setup.user("admin", "adminpw", "admin").acl("admin", "rw /**");
        for (String letters : LETTERS.keySet()) {
            String g = "g-" + letters.toLowerCase() + (letters.equals("RW") ? "-upper" : "");
            setup.user("u-" + g, "pw", g).acl(g, letters + " /branches/" + branchOf(letters) + "/**");
        }
        // a line without 'r' is ignored even when another line grants reading
        setup.user("rw-split", "pw", "split").acl("split", "r /**", "w /branches/**");
        // operation classes
        setup.user("v2-add", "pw", "v2add").acl("v2add", "ra /v2/**");
        setup.user("v2-upd", "pw", "v2upd").acl("v2upd", "ru /v2/**", "ru /branches/**");
        setup.user("globs", "pw", "globs").acl("globs",
                "# comments and blank lines are skipped",
                "",
                "r /branches/a?c/",
                "r /branches/x*/",
                "r /branches/y/**",
                "r /branches/v1.0/**",
                "r /branches/p+q/**",
                "r /branches/** /**/t1/",
                "r /branches/n/** !/branches/n/secret/**",
                "   r    /branches/sp/**   ",
                "r ~/branches/rel-[0-9]+/",
                "r ~branches/z/",
                "r ~/z/",
                "r /branches/q/** !~/branches/q/[0-9]",
                "r /branches/i/** /branches/*/k*/**");
        setup.user("alice", "pw", "home").user("bob", "pw", "home").user("Carol", "pw", "home")
                .user("a*", "pw", "home").user("a?c", "pw", "home")
                .acl("home", "rw /~$user/**", "r /branches/** !/branches/$user/**");
        setup.acl("ANONYMOUS", "r /branches/** !/branches/$user/**", "r /~$user/**");
        s = setup.start();
        admin = Caller.basic(s, "admin", "adminpw");
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
        setup.close();
    }

    private static String branchOf(String letters) {
        return "l-" + letters.toLowerCase() + (letters.equals("RW") ? "-upper" : "");
    }

    /** Seeds /branches/b/t/j/f/file (finalized). */
    private static void seed(String b) throws Exception {
        admin.uploadFinalized("/branches/" + b + "/t/j/f/file", "data of " + b);
    }

    private static void expect(boolean allowed, HttpResponse<String> r, int okStatus) {
        if (allowed) {
            assertStatus(okStatus, r);
        } else {
            assertStatus(403, r);
        }
    }

    @Test
    void eachAccessLetterGrantsItsOperations() throws Exception {
        for (var e : LETTERS.entrySet()) {
            String letters = e.getKey();
            String ops = e.getValue();
            String b = branchOf(letters);
            String g = "g-" + letters.toLowerCase() + (letters.equals("RW") ? "-upper" : "");
            seed(b);
            Caller u = Caller.basic(s, "u-" + g, "pw");
            // read: GET and HEAD
            expect(ops.contains("r"), u.get("/branches/" + b + "/"), 200);
            expect(ops.contains("r"), u.send("HEAD", "/branches/" + b + "/t/j/f/file"), 200);
            // add: PUT (upload, job flags) and PATCH (metadata, finalize)
            expect(ops.contains("a"), u.upload("/branches/" + b + "/t/j/g/new", "new"), 201);
            expect(ops.contains("a"), u.send("PATCH", "/branches/" + b + "/t/j/f/"), 200);
            expect(ops.contains("a"), u.json("PATCH", "/branches/" + b + "/t/j/", "{\"job\": {\"k\": \"v\"}}"), 200);
            // update: POST
            expect(ops.contains("u"), u.json("POST", "/branches/" + b + "/t/",
                    "{\"tag\": {\"description\": \"by " + letters + "\"}}"), 200);
            expect(ops.contains("u"), u.json("POST", "/branches/" + b + "/", "{\"branch\": {\"max_daily_tags\": 3}}"),
                    200);
            // delete
            expect(ops.contains("d"), u.send("DELETE", "/branches/" + b + "/t/j/f/"), 200);
            boolean formatGone = !Files.exists(s.root().resolve("branches/" + b + "/t/j/f"));
            assertEquals(ops.contains("d"), formatGone, letters + ": the format was deleted iff 'd' was granted");
            boolean added = Files.exists(s.root().resolve("branches/" + b + "/t/j/g/new"));
            assertEquals(ops.contains("a"), added, letters + ": the upload landed iff 'a' was granted");
            // nothing beyond its glob
            assertStatus(403, u.get("/branches/"));
            assertStatus(403, u.upload("/branches/other-" + b + "/t/j/f/x", "x"));
        }
    }

    @Test
    void lineWithoutReadIsIgnoredEvenIfAnotherLineGrantsRead() throws Exception {
        String b = AuthSupport.unique("split");
        seed(b);
        Caller u = Caller.basic(s, "rw-split", "pw");
        assertStatus(200, u.get("/branches/" + b + "/"));
        assertStatus(403, u.upload("/branches/" + b + "/t/j/g/x", "x"));
        assertStatus(403, u.send("DELETE", "/branches/" + b + "/t/"));
        assertStatus(403, u.json("POST", "/branches/" + b + "/t/", "{\"tag\": {\"locked\": true}}"));
    }

    @Test
    void postUnderV2IsAnAdd() throws Exception {
        Caller add = Caller.basic(s, "v2-add", "pw");
        Caller upd = Caller.basic(s, "v2-upd", "pw");
        // POST /v2/<name>/blobs/uploads/ starts a blob upload: it needs 'a', not 'u'
        assertAllowed(add.send("POST", "/v2/img/blobs/uploads/"));
        assertStatus(403, upd.send("POST", "/v2/img/blobs/uploads/"));
        // elsewhere POST is an update: 'u' grants it, 'a' does not
        String b = AuthSupport.unique("post");
        seed(b);
        assertStatus(200, upd.json("POST", "/branches/" + b + "/t/", "{\"tag\": {\"description\": \"x\"}}"));
        assertStatus(403, upd.upload("/branches/" + b + "/t/j/g/x", "x"));
        assertStatus(403, upd.send("DELETE", "/branches/" + b + "/t/"));
    }

    @Test
    void globSyntax() throws Exception {
        Caller u = Caller.basic(s, "globs", "pw");
        // allowed reads of missing things are 404, denied ones 403
        Map<String, Boolean> cases = new java.util.LinkedHashMap<>();
        // '?': exactly one character but '/'
        cases.put("/branches/abc/", true);
        cases.put("/branches/a-c/", true);
        cases.put("/branches/ac/", false);
        cases.put("/branches/abbc/", false);
        cases.put("/branches/abc/t/", false);
        // '*': any characters but '/', possibly none; the whole path must match
        cases.put("/branches/x/", true);
        cases.put("/branches/xyz/", true);
        cases.put("/branches/xyz/t/", false);
        cases.put("/branches/ax/", false);
        // '**': anything including '/', possibly nothing
        cases.put("/branches/y/", true);
        cases.put("/branches/y/t/j/f/some/file", true);
        cases.put("/branches/yy/", false);
        // everything else is literal
        cases.put("/branches/v1.0/", true);
        cases.put("/branches/v1x0/", false);
        cases.put("/branches/p+q/", true);
        cases.put("/branches/pq/", false);
        cases.put("/branches/ppq/", false);
        // several globs on one line: all must match
        cases.put("/branches/m/t1/", true);
        cases.put("/branches/m/t2/", false);
        cases.put("/branches/m/", false);
        cases.put("/branches/i/k1/", true);
        cases.put("/branches/i/k1/j/", true);
        cases.put("/branches/i/l1/", false);
        // negation
        cases.put("/branches/n/open/", true);
        cases.put("/branches/n/", true);
        cases.put("/branches/n/secret/", false);
        cases.put("/branches/n/secret/j/f/file", false);
        // surrounding blanks
        cases.put("/branches/sp/", true);
        // regular expression, anchored at the start only
        cases.put("/branches/rel-12/", true);
        cases.put("/branches/rel-12/t/j/", true);
        cases.put("/branches/rel-x/", false);
        cases.put("/branches/z/", false);
        cases.put("/branches/q/abc/", true);
        cases.put("/branches/q/1abc/", false);
        for (var c : cases.entrySet()) {
            HttpResponse<String> r = u.get(c.getKey());
            if (c.getValue()) {
                assertStatus(404, r);
            } else {
                assertStatus(403, r);
            }
        }
        // lines are a union: several lines, each granting its own paths
        assertStatus(404, u.get("/branches/abc/"));
        assertStatus(404, u.get("/branches/y/t/"));
    }

    @Test
    void dollarUserIsTheCallersLogin() throws Exception {
        Caller alice = Caller.basic(s, "alice", "pw");
        Caller bob = Caller.basic(s, "bob", "pw");
        String b = AuthSupport.unique("home");
        assertStatus(201, alice.upload("/~alice/branches/" + b + "/t/j/f/x", "x"));
        assertStatus(200, alice.get("/~alice/branches/" + b + "/"));
        assertStatus(200, alice.send("DELETE", "/~alice/branches/" + b + "/t/j/f/"));
        assertStatus(403, bob.upload("/~alice/branches/" + b + "/t/j/f/y", "y"));
        assertStatus(403, bob.get("/~alice/branches/"));
        assertStatus(201, bob.upload("/~bob/branches/" + b + "/t/j/f/y", "y"));
        // a negated $user glob: alice reads every branch but /branches/alice/
        assertStatus(404, alice.get("/branches/bob/"));
        assertStatus(403, alice.get("/branches/alice/"));
        // the login is matched in its canonical (lowercase) form
        Caller carol = Caller.basic(s, "Carol", "pw");
        assertStatus(201, carol.upload("/~carol/branches/" + b + "/t/j/f/x", "x"));
        assertTrue(Files.exists(s.root().resolve("users/carol/branches/" + b + "/t/j/f/x")));
    }

    @Test
    void dollarUserNeverMatchesForAnonymous() throws Exception {
        Caller anon = Caller.anonymous(s);
        Caller alice = Caller.basic(s, "alice", "pw");
        String b = AuthSupport.unique("anon");
        assertStatus(201, alice.upload("/~alice/branches/" + b + "/t/j/f/x", "x"));
        // ANONYMOUS has "r /~$user/**": matches nobody's repository for anonymous
        assertStatus(401, anon.get("/~alice/branches/"));
        assertStatus(401, anon.get("/~alice/branches/" + b + "/"));
        // ... and "r /branches/** !/branches/$user/**": the negated glob does not match either
        assertStatus(404, anon.get("/branches/alice/"));
        assertStatus(404, anon.get("/branches/-/"));
    }

    @Test
    void dollarUserIsLiteralEvenWhenTheLoginHasGlobCharacters() throws Exception {
        String b = AuthSupport.unique("glob-login");
        Caller alice = Caller.basic(s, "alice", "pw");
        assertStatus(201, alice.upload("/~alice/branches/" + b + "/t/j/f/x", "x"));
        assertStatus(201, admin.upload("/~abc/branches/" + b + "/t/j/f/x", "x"));
        for (String login : List.of("a*", "a?c")) {
            Caller c = Caller.basic(s, login, "pw");
            assertStatus(403, c.upload("/~abc/branches/" + b + "/t/j/f/y", "y"));
            assertStatus(403, c.upload("/~alice/branches/" + b + "/t/j/f/y", "y"));
            assertStatus(403, c.get("/~abc/branches/"));
        }
        assertFalse(Files.exists(s.root().resolve("users/abc/branches/" + b + "/t/j/f/y")));
        assertFalse(Files.exists(s.root().resolve("users/alice/branches/" + b + "/t/j/f/y")));
    }
}
