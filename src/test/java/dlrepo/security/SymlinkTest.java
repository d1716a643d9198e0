package dlrepo.security;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Caller;
import dlrepo.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Symbolic links put into the tree by hand (an administrator, a restore, a post-process
 * command) at every level, pointing to folders and files outside the root: no request and
 * no cleanup reads, writes or deletes outside the root through them. The outside folders
 * are shaped like levels of the tree (with {@code .digests}, sub-folders...) so that a
 * daemon following the links would find something to serve, list, change or delete.
 */
class SymlinkTest {
    /** What the outside files hold: never in an answer. */
    private static final String CANARY = "CANARY outside the root\n";
    /** What outside folders are named: never in an answer. */
    private static final String OUT = "zzout";

    /** A branch of the user repository that is a link. */
    private static final String EVE = "/~eve/branches/" + OUT + "rb/";

    static Path parent;
    static Path outside;
    static TestServer s;
    static Caller c;
    static Map<String, String> before;

    @BeforeAll
    static void start() throws Exception {
        parent = Files.createTempDirectory("dlrepo-symlinks-");
        Path root = Files.createDirectory(parent.resolve("root"));
        outside = Files.createDirectory(parent.resolve("outside"));
        s = TestServer.start(root, Map.of("DLREPO_FSYNC", "0"));
        c = s.anonymous();
        // the real tree, next to which the links are put
        c.uploadFinalized("/branches/b/t/j/f/ok.txt", "ok\n");
        c.uploadFinalized("/branches/b/t/j/g/ok.txt", "ok\n");
        c.uploadFinalized("/branches/c/t1/j/f/ok.txt", "ok\n");
        c.uploadFinalized("/branches/c/t2/j/f/ok.txt", "ok\n");

        Path br = s.root().resolve("branches");
        // a branch, a tag, a job and a format that are links to outside folders shaped like them
        Files.createSymbolicLink(br.resolve("lb"), level(outside.resolve("branch"), 3));
        Files.createSymbolicLink(br.resolve("b/lt"), level(outside.resolve("tag"), 2));
        Files.createSymbolicLink(br.resolve("b/t/lj"), level(outside.resolve("job"), 1));
        Files.createSymbolicLink(br.resolve("b/t/j/lf"), level(outside.resolve("format"), 0));
        Files.createSymbolicLink(br.resolve("c/lt"), level(outside.resolve("ctag"), 2));
        // a sub-folder and a file of a format that are links, listed in its .digests
        Path g = br.resolve("b/t/j/g");
        Files.createSymbolicLink(g.resolve("lsub"), level(outside.resolve("sub"), 0));
        Files.createSymbolicLink(g.resolve("lfile"), outside.resolve("canary.txt"));
        Files.writeString(g.resolve(".digests"), "{\"lfile\": \"" + TestServer.digest(CANARY)
                + "\", \"lsub/canary.txt\": \"" + TestServer.digest(CANARY) + "\", \"ok.txt\": \""
                + TestServer.digest("ok\n") + "\"}");
        Files.createSymbolicLink(br.resolve("b/t/j/f/lsub"), outside.resolve("sub"));
        Files.createSymbolicLink(br.resolve("b/t/j/f/lfile"), outside.resolve("canary.txt"));
        // a user repository that is a link
        Files.createDirectories(s.root().resolve("users"));
        Path repo = Files.createDirectories(outside.resolve("repo/branches"));
        level(repo.resolve(OUT + "rb"), 3);
        Files.createSymbolicLink(s.root().resolve("users/eve"), outside.resolve("repo"));
        // products: a product that is a link, and a version whose format link goes
        // through a linked branch
        Path pv = Files.createDirectories(outside.resolve("product/" + OUT + "v/" + OUT + "b/1.0"));
        Files.writeString(pv.resolve(".stamp"), "");
        Files.createSymbolicLink(pv.resolve("f"), br.resolve("b/t/j/f"));
        Files.createDirectories(s.root().resolve("products"));
        Files.createSymbolicLink(s.root().resolve("products/lp"), outside.resolve("product"));
        Path v2 = Files.createDirectories(s.root().resolve("products/p2/v/pb/1.0"));
        Files.writeString(v2.resolve(".stamp"), "");
        Files.createSymbolicLink(v2.resolve("f"), Path.of("../../../../../branches/lb/" + OUT + "t/" + OUT + "j/f"));
        Files.writeString(outside.resolve("canary.txt"), CANARY);
        before = snapshot(parent);
    }

    /**
     * Makes {@code dir} look like a level of the tree with {@code depth} levels below it
     * down to a format, whose {@code canary.txt} is listed in its {@code .digests}.
     */
    private static Path level(Path dir, int depth) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(".stamp"), "");
        if (depth == 0) {
            Files.writeString(dir.resolve("canary.txt"), CANARY);
            Files.writeString(dir.resolve(".digests"), "{\"canary.txt\": \"" + TestServer.digest(CANARY) + "\"}");
            return dir;
        }
        level(dir.resolve(depth == 1 ? "f" : OUT + "xyz".charAt(depth - 1)), depth - 1);
        return dir;
    }

    @AfterAll
    static void stop() throws Exception {
        if (s != null) {
            s.close();
        }
        try (Stream<Path> st = Files.walk(parent)) {
            st.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Every entry under {@code dir} but the root: kind, and content of files. */
    private static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> st = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) st::iterator) {
                if (p.startsWith(s.root())) {
                    continue;
                }
                String k = dir.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    m.put(k, "link " + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p)) {
                    m.put(k, "dir");
                } else {
                    m.put(k, "file " + Files.readString(p) + " " + Files.getLastModifiedTime(p));
                }
            }
        }
        return m;
    }

    @AfterEach
    void outsideUntouched() throws Exception {
        assertUntouched("after the test");
    }

    /** Fails naming what changed outside the root since the start. */
    private static void assertUntouched(String when) throws IOException {
        Map<String, String> now = snapshot(parent);
        List<String> changes = new ArrayList<>();
        before.forEach((k, v) -> {
            if (!v.equals(now.get(k))) {
                changes.add(now.containsKey(k) ? "changed " + k : "deleted " + k);
            }
        });
        now.keySet().stream().filter(k -> !before.containsKey(k)).forEach(k -> changes.add("created " + k));
        assertEquals(List.of(), changes, "nothing outside the root changed " + when);
    }

    /**
     * No 5xx, never the content of an outside file, and no successful answer naming an
     * outside folder (error messages may repeat the names of the request).
     */
    private static void neverLeaks(HttpResponse<String> r) {
        String what = r.request().method() + " " + r.uri() + ": " + r.statusCode() + " " + r.body();
        assertTrue(r.statusCode() < 500, what);
        assertFalse(r.body().contains("CANARY"), what);
        if (r.statusCode() < 300) {
            assertFalse(r.body().contains(OUT), what);
        }
    }

    private static void refused(HttpResponse<String> r) {
        neverLeaks(r);
        assertTrue(r.statusCode() == 400 || r.statusCode() == 404,
                () -> r.request().method() + " " + r.uri() + ": " + r.statusCode() + " " + r.body());
    }

    /** Files reached through a link at each level. */
    private static final List<String> THROUGH = List.of(
            "/branches/lb/" + OUT + "z/" + OUT + "y/f/canary.txt",
            "/branches/b/lt/" + OUT + "y/f/canary.txt",
            "/branches/b/t/lj/f/canary.txt",
            "/branches/b/t/j/lf/canary.txt",
            "/branches/b/t/j/f/lsub/canary.txt",
            "/branches/b/t/j/g/lsub/canary.txt",
            EVE + OUT + "z/" + OUT + "y/f/canary.txt",
            "/products/lp/" + OUT + "v/" + OUT + "b/1.0/f/ok.txt",
            "/products/p2/v/pb/1.0/f/canary.txt");

    @Test
    void filesAreNotReadThroughLinks() throws Exception {
        List<String> urls = new ArrayList<>(THROUGH);
        urls.add("/branches/b/t/j/f/lfile");
        urls.add("/branches/b/t/j/g/lfile");
        for (String url : urls) {
            refused(c.get(url));
            refused(c.head(url));
            // (a .sha256 may come from the format's .digests, never from the file)
            neverLeaks(c.get(url + ".sha256"));
            // the dedup probe does not look through links either
            refused(c.head(url, "Digest", TestServer.digest(CANARY)));
        }
        // the real files next to them are served
        assertEquals("ok\n", c.get("/branches/b/t/j/f/ok.txt").body());
        assertEquals("ok\n", c.get("/branches/b/t/j/g/ok.txt").body());
    }

    @Test
    void linkedLevelsAreNotListed() throws Exception {
        for (String url : List.of("/branches/lb/", "/branches/lb/" + OUT + "z/", "/branches/b/lt/",
                "/branches/b/t/lj/", "/branches/b/t/j/lf/", "/~eve/", "/~eve/branches/",
                EVE, "/products/lp/", "/products/lp/" + OUT + "v/",
                "/products/lp/" + OUT + "v/" + OUT + "b/", "/products/lp/" + OUT + "v/" + OUT + "b/1.0/",
                "/products/p2/v/pb/1.0/", "/products/p2/v/pb/1.0/f/")) {
            neverLeaks(c.get(url));
            neverLeaks(c.head(url));
        }
        for (String url : List.of("/branches/", "/branches/b/", "/branches/b/t/", "/branches/b/t/j/",
                "/branches/b/t/j/f/", "/branches/b/t/j/g/", "/products/", "/")) {
            HttpResponse<String> r = c.get(url);
            assertStatus(200, r);
            neverLeaks(r);
            for (String link : List.of("\"lb\"", "\"lt\"", "\"lj\"", "\"lf\"", "\"lp\"", "\"eve\"")) {
                assertFalse(r.body().contains(link), url + " lists " + link + ": " + r.body());
            }
        }
    }

    @Test
    void archivesDoNotReadThroughLinks() throws Exception {
        for (String url : List.of("/branches/lb/" + OUT + "z/" + OUT + "y.tar", "/branches/b/lt/" + OUT + "y.tar",
                "/branches/b/t/lj.tar", "/branches/b/t/j/lf.tar", "/branches/b/t/j/lf.sha256",
                "/branches/b/t/j.tar", "/branches/b/t/j/g.tar", "/branches/b/t/j/f.tar",
                "/branches/b/t/j/g.sha256", EVE + OUT + "z/" + OUT + "y.tar",
                "/products/lp/" + OUT + "v/" + OUT + "b/1.0.tar", "/products/p2/v/pb/1.0.tar",
                "/products/p2/v/pb/1.0/f.tar")) {
            HttpResponse<byte[]> r = c.getBytes(url);
            String body = new String(r.body(), StandardCharsets.ISO_8859_1);
            assertTrue(r.statusCode() < 500, url + ": " + r.statusCode() + " " + body);
            assertFalse(body.contains("CANARY"), url + ": " + body);
            if (r.statusCode() == 200) {
                assertFalse(body.contains(OUT), url + ": " + body);
            }
            if (r.statusCode() == 200 && url.endsWith(".tar")) {
                // a link is neither archived nor listed in the archive's SHA256SUMS.txt
                // (<format>.sha256 shows .digests as it is)
                assertFalse(body.contains(TestServer.digest(CANARY).substring(7)), url + ": " + body);
            }
        }
        HttpResponse<byte[]> job = c.getBytes("/branches/b/t/j.tar");
        assertStatus(200, job);
        assertTrue(new String(job.body(), StandardCharsets.ISO_8859_1).contains("j-t/g/ok.txt"));
    }

    @Test
    void nothingIsWrittenThroughLinks() throws Exception {
        for (String url : THROUGH) {
            String dir = url.substring(0, url.lastIndexOf('/') + 1);
            if (url.startsWith("/products/")) {
                continue;
            }
            refused(c.upload(dir + "new.txt", "new\n"));
            refused(c.upload(url, "replaced\n"));
            refused(c.link(dir + "new.txt", TestServer.digest("ok\n")));
        }
        // new levels below a linked branch, tag, job, user repository
        for (String url : List.of("/branches/lb/newtag/j/f/x", "/branches/lb/" + OUT + "z/newjob/f/x",
                "/branches/b/lt/newjob/f/x", "/branches/b/t/lj/newformat/x", "/~eve/branches/nb/t/j/f/x",
                "/branches/b/t/j/f/lsub/deeper/x")) {
            refused(c.upload(url, "new\n"));
        }
        String job = "{\"job\": {\"product\": \"p\", \"product_variant\": \"v\", \"product_branch\": \"b\","
                + " \"version\": \"1\", \"k\": \"v\"}}";
        for (String url : List.of("/branches/lb/" + OUT + "z/" + OUT + "y/", "/branches/b/lt/" + OUT + "y/",
                "/branches/b/t/lj/", EVE + OUT + "z/" + OUT + "y/")) {
            refused(c.json("PATCH", url, job));
            refused(c.json("PUT", url, "{\"job\": {\"locked\": true}}"));
            refused(c.send("PATCH", url + "f/"));
        }
        refused(c.send("PATCH", "/branches/b/t/j/lf/"));
        for (String url : List.of("/branches/lb/", EVE)) {
            refused(c.json("POST", url, "{\"branch\": {\"max_daily_tags\": 1}}"));
        }
        for (String url : List.of("/branches/lb/" + OUT + "z/", "/branches/b/lt/", EVE + OUT + "z/")) {
            refused(c.json("POST", url, "{\"tag\": {\"locked\": true, \"description\": \"x\"}}"));
        }
    }

    @Test
    void aLinkedFileIsReplacedNotWrittenThrough() throws Exception {
        c.uploadFinalized("/branches/r/t/j/f/ok.txt", "ok\n");
        Path file = s.root().resolve("branches/r/t/j/f/lfile");
        Files.createSymbolicLink(file, outside.resolve("canary.txt"));
        HttpResponse<String> r = c.upload("/branches/r/t/j/f/lfile", "mine\n");
        neverLeaks(r);
        if (r.statusCode() == 201) {
            assertFalse(Files.isSymbolicLink(file));
            assertEquals("mine\n", c.get("/branches/r/t/j/f/lfile").body());
        }
    }

    @Test
    void deletesNeverReachOutside() throws Exception {
        for (String url : List.of("/branches/lb/" + OUT + "z/" + OUT + "y/f/", "/branches/lb/" + OUT + "z/" + OUT + "y/",
                "/branches/lb/" + OUT + "z/", "/branches/b/lt/" + OUT + "y/f/", "/branches/b/lt/" + OUT + "y/",
                "/branches/b/lt/", "/branches/b/t/lj/f/", "/branches/b/t/lj/", "/branches/b/t/j/lf/",
                EVE + OUT + "z/" + OUT + "y/f/", EVE + OUT + "z/",
                EVE)) {
            neverLeaks(c.delete(url + "?force=true"));
            assertUntouched("after DELETE " + url);
        }
        // the link itself is never deleted through its target (a branch that is a link)
        neverLeaks(c.delete("/branches/lb/"));
        assertUntouched("after DELETE /branches/lb/");
    }

    @Test
    void deletingFoldersHoldingLinksDeletesTheLinksOnly() throws Exception {
        // a copy of the real tree with links at every level below, deleted level by level
        c.uploadFinalized("/branches/d/t/j/f/ok.txt", "ok\n");
        c.uploadFinalized("/branches/d/t2/j/f/ok.txt", "ok\n");
        c.uploadFinalized("/branches/d/t3/j/f/ok.txt", "ok\n");
        Path d = s.root().resolve("branches/d");
        Files.createSymbolicLink(d.resolve("t/j/f/lsub"), outside.resolve("sub"));
        Files.createSymbolicLink(d.resolve("t/j/f/lfile"), outside.resolve("canary.txt"));
        Files.createSymbolicLink(d.resolve("t2/j/lf"), outside.resolve("format"));
        Files.createSymbolicLink(d.resolve("t3/lj"), outside.resolve("job"));
        Files.createSymbolicLink(d.resolve("lt"), outside.resolve("tag"));
        assertStatus(200, c.delete("/branches/d/t/j/f/"));
        assertStatus(200, c.delete("/branches/d/t2/j/"));
        assertStatus(200, c.delete("/branches/d/t3/"));
        assertStatus(200, c.delete("/branches/d/"));
        assertFalse(Files.exists(d, LinkOption.NOFOLLOW_LINKS));
        assertTrue(s.daemon().cleanup().awaitIdle(10_000));
    }

    @Test
    void cleanupNeverDeletesOutside() throws Exception {
        // branch c keeps one tag: the cleanup deletes t1 (real), never the linked tag's target
        c.uploadFinalized("/branches/c/t3/j/f/ok.txt", "ok\n");
        Files.createSymbolicLink(s.root().resolve("branches/c/t1/j/lf"), outside.resolve("format"));
        Files.createSymbolicLink(s.root().resolve("branches/c/t1/lj"), outside.resolve("job"));
        assertStatus(200, c.json("POST", "/branches/c/", "{\"branch\": {\"max_daily_tags\": 1}}"));
        s.daemon().cleanup().schedule(true, "test");
        assertTrue(s.daemon().cleanup().awaitIdle(20_000));
        assertFalse(Files.exists(s.root().resolve("branches/c/t1"), LinkOption.NOFOLLOW_LINKS),
                "the real tag was cleaned up");
        assertTrue(Files.isSymbolicLink(s.root().resolve("branches/c/lt")), "a linked tag is not a tag");
    }

    @Test
    void postProcessNeverCopiesALinkedFile(@TempDir Path tmp) throws Exception {
        Path cmd = tmp.resolve("post.sh");
        // the command itself leaves links too: they are ignored
        Files.writeString(cmd, "#!/bin/sh\nln -s " + outside.resolve("canary.txt") + " made-link.txt\n"
                + "ln -s " + outside.resolve("sub") + " made-dir\n");
        Files.setPosixFilePermissions(cmd, PosixFilePermissions.fromString("rwx------"));
        Path root = Files.createDirectory(parent.resolve("root-pp"));
        try (TestServer x = TestServer.start(root, Map.of("DLREPO_POST_PROCESS_CMD", cmd.toString(),
                "DLREPO_FSYNC", "0"))) {
            Caller xc = x.anonymous();
            assertStatus(201, xc.upload("/branches/b/t/j/f/ok.txt", "ok\n"));
            Path f = root.resolve("branches/b/t/j/f");
            Files.createSymbolicLink(f.resolve("lfile"), outside.resolve("canary.txt"));
            Files.createSymbolicLink(f.resolve("lsub"), outside.resolve("sub"));
            Files.writeString(f.resolve(".digests"), "{\"lfile\": \"" + TestServer.digest(CANARY)
                    + "\", \"lsub/canary.txt\": \"" + TestServer.digest(CANARY) + "\", \"ok.txt\": \""
                    + TestServer.digest("ok\n") + "\"}");
            neverLeaks(xc.send("PATCH", "/branches/b/t/j/f/"));
            for (String file : List.of("lfile", "lsub/canary.txt", "made-link.txt", "made-dir/canary.txt")) {
                neverLeaks(xc.get("/branches/b/t/j/f/" + file));
            }
            neverLeaks(xc.get("/branches/b/t/j/f/"));
            HttpResponse<byte[]> tar = xc.getBytes("/branches/b/t/j/f.tar");
            assertFalse(new String(tar.body(), StandardCharsets.ISO_8859_1).contains("CANARY"));
            assertEquals("ok\n", xc.get("/branches/b/t/j/f/ok.txt").body());
        } finally {
            if (Files.exists(root)) {
                try (Stream<Path> st = Files.walk(root)) {
                    st.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    @Test
    void linkedStoreFoldersAreRefusedAtStartUp() throws Exception {
        for (String name : List.of(".blobs", "branches", "users", ".uploads")) {
            Path root = Files.createDirectory(parent.resolve("root-" + name));
            Path elsewhere = Files.createDirectory(parent.resolve("elsewhere-" + name));
            try {
                Files.createSymbolicLink(root.resolve(name), elsewhere);
                IOException e = assertThrows(IOException.class,
                        () -> TestServer.start(root, Map.of("DLREPO_FSYNC", "0")).close(), name);
                assertTrue(e.getMessage().contains(name) && e.getMessage().contains("symbolic link"), e.getMessage());
                try (Stream<Path> st = Files.list(elsewhere)) {
                    assertEquals(0, st.count(), "nothing created through " + name);
                }
            } finally {
                for (Path p : List.of(root, elsewhere)) {
                    if (!Files.exists(p)) {
                        continue;
                    }
                    try (Stream<Path> st = Files.walk(p)) {
                        st.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                    }
                }
            }
        }
    }
}
