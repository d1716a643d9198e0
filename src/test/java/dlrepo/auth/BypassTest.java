package dlrepo.auth;

import static dlrepo.auth.AuthSupport.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestAuth;
import dlrepo.Caller;
import dlrepo.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Spelling a path differently never gets around an ACL: every request is either refused
 * (400) or checked on the same decoded, lowercased, alias-resolved path the handlers act
 * on. Requests are sent byte for byte.
 */
class BypassTest {
    static TestAuth setup;
    static TestServer s;
    static Caller admin;
    static Caller dev;
    static Caller viewer;
    static Caller anon;
    private static final String EMPTY_DIGEST = TestServer.digest(new byte[0]);

    @BeforeAll
    static void start() throws Exception {
        setup = new TestAuth();
        String viewerAcl = "r /** !/branches/rel/t2/** !/branches/*/*/*/secret/** !/branches/hidden/**";
        setup.user("admin", "adminpw", "admin").acl("admin", "rw /**")
                .user("dev", "devpw", "dev").acl("dev", "r /**", "rw /branches/** !/branches/foo/**", "rw /~$user/**")
                .user("viewer", "pw", "viewer").acl("viewer", viewerAcl)
                .acl("ANONYMOUS", viewerAcl);
        s = setup.start();
        admin = Caller.basic(s, "admin", "adminpw");
        dev = Caller.basic(s, "dev", "devpw");
        viewer = Caller.basic(s, "viewer", "pw");
        anon = Caller.anonymous(s);
        admin.uploadFinalized("/branches/foo/t/j/f/file", "foo");
        admin.uploadFinalized("/branches/rel/t1/j/f/file", "t1");
        admin.uploadFinalized("/branches/rel/t2/j/f/file", "t2");
        // t2 is the newest tag: "latest" resolves to it
        Files.setLastModifiedTime(s.root().resolve("branches/rel/t1/.stamp"),
                FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
        admin.uploadFinalized("/branches/pub/t/j/secret/only-file", "secret");
        admin.uploadFinalized("/branches/pub/t/j/open/file", "open");
        admin.uploadFinalized("/branches/hidden/t/j/f/file", "hidden");
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
        setup.close();
    }

    /** A raw PUT of an empty file (with its digest) by {@code c}; the status. */
    private static int rawPut(Caller c, String rawPath) throws Exception {
        String resp = c.rawFull("PUT", rawPath, "Digest: " + EMPTY_DIGEST + "\r\n", new byte[0]);
        return Integer.parseInt(resp.substring(9, 12));
    }

    private static void assertNothingNewUnder(Path dir, List<String> before) throws Exception {
        assertEquals(before, tree(dir), "nothing was written under " + dir);
    }

    private static List<String> tree(Path dir) throws Exception {
        try (var st = Files.walk(dir)) {
            return st.map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    @Test
    void caseAndPercentEncodingAreCheckedOnTheCanonicalName() throws Exception {
        Path foo = s.root().resolve("branches/foo");
        List<String> before = tree(foo);
        for (String p : List.of(
                "/branches/foo/t/j/f/x",
                "/branches/FOO/t/j/f/x",
                "/branches/Foo/t/j/f/x",
                "/branches/%66oo/t/j/f/x",
                "/branches/%46%4F%4f/t/j/f/x",
                "/branches/foo/T/J/F/x",
                "/%62ranches/foo/t/j/f/x",
                "http://x/branches/foo/t/j/f/x",
                "http://x/branches/FOO/t/j/f/x")) {
            assertEquals(403, rawPut(dev, p), p);
        }
        for (String method : List.of("DELETE", "PATCH", "POST")) {
            assertEquals(403, dev.raw(method, "/branches/FOO/t/"), method);
            assertEquals(403, dev.raw(method, "/branches/%46oo/t/j/f/"), method);
        }
        assertNothingNewUnder(foo, before);
        assertFalse(Files.exists(s.root().resolve("branches/FOO")));
        // the same spellings are fine where the ACL allows them, and land on the canonical name
        assertEquals(201, rawPut(dev, "/branches/%42AR/t/j/f/x"));
        assertTrue(Files.exists(s.root().resolve("branches/bar/t/j/f/x")));
    }

    @Test
    void dotSegmentsEmptySegmentsAndEncodedSlashesAreRefused() throws Exception {
        Path foo = s.root().resolve("branches/foo");
        List<String> before = tree(foo);
        for (String p : List.of(
                "/branches//foo/t/j/f/x",
                "//branches/foo/t/j/f/x",
                "/branches/./foo/t/j/f/x",
                "/branches/x/../foo/t/j/f/x",
                "/branches/bar/../foo/t/j/f/x",
                "/branches/bar/%2e%2e/foo/t/j/f/x",
                "/branches/bar/%2E%2E/foo/t/j/f/x",
                "/branches/bar/.%2e/foo/t/j/f/x",
                "/branches/%2e/foo/t/j/f/x",
                "/branches/bar%2f..%2ffoo/t/j/f/x",
                "/branches/bar%2F..%2Ffoo/t/j/f/x",
                "/branches/foo%2ft/j/f/x",
                "/branches/bar/t/j/f/..%2f..%2f..%2f..%2ffoo/t/j/f/x",
                "/branches/bar/t/j/f/../../../../foo/t/j/f/x",
                "/branches/bar/t/j/f/a//x",
                "/branches/bar/t/j/f/./x",
                "/branches/bar/t/j/f/%2e/x")) {
            int st = rawPut(dev, p);
            assertTrue(st == 400 || st == 403 || st == 404, p + ": " + st);
        }
        assertNothingNewUnder(foo, before);
        for (String p : List.of("/branches/rel/t1/../t2/j/f/file", "/branches/rel/t1/%2e%2e/t2/j/f/file",
                "/branches/rel//t2/j/f/file", "/branches/rel/./t2/j/f/file", "/branches/rel/t2/./j/f/file",
                "/branches/rel/t2%2fj/f/file")) {
            int st = viewer.raw("GET", p);
            assertTrue(st == 400 || st == 403, p + ": " + st);
        }
    }

    @Test
    void lookAlikeNamesAreOtherNames() throws Exception {
        Path foo = s.root().resolve("branches/foo");
        List<String> before = tree(foo);
        // trailing dots and blanks, path parameters, NUL, backslashes: either refused or
        // another name than "foo", never foo
        for (String p : List.of("/branches/foo./t/j/f/x", "/branches/foo%2e/t/j/f/x", "/branches/foo%20/t/j/f/x",
                "/branches/%20foo/t/j/f/x", "/branches/foo;a=b/t/j/f/x", "/branches/foo%3b/t/j/f/x",
                "/branches/foo%00/t/j/f/x", "/branches/foo%5c/t/j/f/x", "/branches/bar%5c..%5cfoo/t/j/f/x",
                "/branches/foo%09/t/j/f/x", "/branches/fo%C3%B6/t/j/f/x", "/branches/foo%ff/t/j/f/x")) {
            int st = rawPut(dev, p);
            assertTrue(st == 201 || st == 400 || st == 403, p + ": " + st);
        }
        assertNothingNewUnder(foo, before);
        // reading through look-alikes of a hidden branch shows nothing of it
        for (String p : List.of("/branches/hidden./", "/branches/hidden%2e/", "/branches/hidden;x/",
                "/branches/HIDDEN/", "/branches/%68idden/", "/branches/hidden/t/j/f/file",
                "/branches/HIDDEN/t/j/f/file", "/branches/hidden", "/branches/hidden/t/j/f.tar",
                "/branches/hidden/t/j.tar", "/branches/hidden/t/j/f.sha256")) {
            int st = viewer.raw("GET", p);
            assertTrue(st == 403 || st == 404 || st == 400, p + ": " + st);
            int a = anon.raw("GET", p);
            assertTrue(a == 401 || a == 404 || a == 400, p + ": " + a);
        }
    }

    @Test
    void userRepositoryPrefixSpellings() throws Exception {
        // dev may write /~dev/ only, however it is spelled
        for (String p : List.of("/~bob/branches/b/t/j/f/x", "/%7ebob/branches/b/t/j/f/x",
                "/%7Ebob/branches/b/t/j/f/x", "/~BOB/branches/b/t/j/f/x", "/%7EBoB/branches/b/t/j/f/x",
                "/%7e%62ob/branches/b/t/j/f/x")) {
            assertEquals(403, rawPut(dev, p), p);
        }
        assertFalse(Files.exists(s.root().resolve("users/bob")));
        for (String p : List.of("/~dev/branches/b/t/j/f/x1", "/%7edev/branches/b/t/j/f/x2",
                "/%7Edev/branches/b/t/j/f/x3", "/~DEV/branches/b/t/j/f/x4", "/%7E%44ev/branches/b/t/j/f/x5")) {
            assertEquals(201, rawPut(dev, p), p);
        }
        for (int i = 1; i <= 5; i++) {
            assertTrue(Files.exists(s.root().resolve("users/dev/branches/b/t/j/f/x" + i)), "x" + i);
        }
        // anonymous callers may not write there in any spelling
        for (String p : List.of("/~dev/branches/b/t/j/f/y", "/%7edev/branches/b/t/j/f/y", "/%7Edev/branches/b/t/j/f/y")) {
            assertEquals(401, rawPut(anon, p), p);
        }
    }

    @Test
    void aliasesAreCheckedOnTheTagTheyResolveTo() throws Exception {
        assertStatus(200, viewer.get("/branches/rel/t1/"));
        assertStatus(403, viewer.get("/branches/rel/t2/"));
        for (String p : List.of("/branches/rel/latest/", "/branches/rel/latest", "/branches/rel/LATEST/",
                "/branches/rel/%6catest/", "/branches/REL/latest/", "/branches/rel/latest/j/",
                "/branches/rel/latest/j/f/", "/branches/rel/latest/j/f/file", "/branches/rel/latest/j.tar",
                "/branches/rel/latest/j/f.tar", "/branches/rel/T2/", "/branches/REL/t2/", "/branches/rel/t2",
                "/branches/rel/%74%32/", "/branches/rel/t2/j/f")) {
            String resp = viewer.rawFull("GET", p, "", new byte[0]);
            assertEquals(403, Integer.parseInt(resp.substring(9, 12)), p + ": " + resp);
            assertFalse(resp.toLowerCase().contains("\nlocation:"), p + " must not redirect: " + resp);
            resp = anon.rawFull("GET", p, "", new byte[0]);
            assertEquals(401, Integer.parseInt(resp.substring(9, 12)), p + ": " + resp);
            assertFalse(resp.toLowerCase().contains("\nlocation:"), p + " must not redirect: " + resp);
        }
        // with the newest tag readable the alias redirects as usual
        Caller dev2 = Caller.basic(s, "dev", "devpw");
        var r = dev2.get("/branches/rel/latest/");
        assertStatus(302, r);
        assertEquals("/branches/rel/t2/", r.headers().firstValue("Location").orElse(null));
    }

    @Test
    void formatsAreCheckedAsFoldersWhateverTheRoute() throws Exception {
        assertStatus(200, viewer.get("/branches/pub/t/j/open/file"));
        assertStatus(200, viewer.get("/branches/pub/t/j/open.tar"));
        assertStatus(200, viewer.get("/branches/pub/t/j/open.sha256"));
        assertStatus(302, viewer.get("/branches/pub/t/j/open"));
        // the format folder, its files, its shortcut, archive and checksums: all the same format
        for (String p : List.of("/branches/pub/t/j/secret/", "/branches/pub/t/j/secret/only-file",
                "/branches/pub/t/j/secret", "/branches/pub/t/j/secret.tar", "/branches/pub/t/j/secret.sha256",
                "/branches/pub/t/j/SECRET/", "/branches/pub/t/j/Secret", "/branches/pub/t/j/secret/only-file.sha256",
                "/branches/pub/t/j/%73ecret.tar")) {
            for (String method : List.of("GET", "HEAD")) {
                String resp = viewer.rawFull(method, p, "", new byte[0]);
                assertEquals(403, Integer.parseInt(resp.substring(9, 12)), method + " " + p + ": " + resp);
                assertEquals(401, anon.raw(method, p), method + " " + p);
            }
        }
        // the job archive leaves it out (see ListingFilterTest), but is itself readable
        assertStatus(200, viewer.get("/branches/pub/t/j.tar"));
        assertNotEquals(403, admin.status("GET", "/branches/pub/t/j/secret.tar"));
    }
}
