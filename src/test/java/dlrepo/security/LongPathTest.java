package dlrepo.security;

import static dlrepo.Check.assertError;
import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Caller;
import dlrepo.TestServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Paths longer than the file system takes (PATH_MAX, 4096 bytes on Linux, and NAME_MAX,
 * 255 bytes, for the temporary names next to a file) are refused with 400 before anything
 * is created, whether they come from a file path, from names of levels, or from the
 * product metadata of a job. The daemon runs in a deep root (about 3000 bytes) so that
 * such paths stay short enough to be sent in a URL.
 */
class LongPathTest {
    static final int ROOT_BYTES = 3000;
    static Path top;
    static Path root;
    static TestServer s;
    static Caller c;

    @BeforeAll
    static void start() throws Exception {
        top = Files.createTempDirectory("dlrepo-long-");
        root = deepFolder(top, ROOT_BYTES);
        s = TestServer.start(root, Map.of("DLREPO_FSYNC", "0"));
        c = s.anonymous();
    }

    /** A folder below {@code base} whose absolute path has about {@code bytes} bytes. */
    static Path deepFolder(Path base, int bytes) throws Exception {
        Path p = base.toAbsolutePath();
        while (p.toString().length() + 201 < bytes) {
            p = p.resolve("d".repeat(200));
        }
        p = p.resolve("r".repeat(Math.max(1, bytes - p.toString().length() - 1)));
        return Files.createDirectories(p);
    }

    @AfterAll
    static void stop() throws Exception {
        if (s != null) {
            s.close();
        }
        delete(top);
    }

    static void delete(Path p) throws Exception {
        if (Files.exists(p)) {
            try (Stream<Path> st = Files.walk(p)) {
                st.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    static String seg(char c, int n) {
        return String.valueOf(c).repeat(n);
    }

    /** The tree under the root, but the blob store (which uploads fill). */
    static List<String> tree() throws Exception {
        List<String> all = new ArrayList<>();
        try (Stream<Path> st = Files.walk(root)) {
            st.map(p -> root.relativize(p).toString())
                    .filter(n -> !n.startsWith(".blobs") && !n.equals(".lock") && !n.startsWith(".trash"))
                    .forEach(all::add);
        }
        all.sort(null);
        return all;
    }

    @Test
    void tooLongFilePathIs400AndLeavesNothing() throws Exception {
        List<String> before = tree();
        // about 3000 + 20 + 6 * 201 bytes: over 4096
        String rel = String.join("/", seg('a', 200), seg('b', 200), seg('c', 200), seg('d', 200), seg('e', 200),
                seg('g', 200));
        String url = "/branches/lp/t/j/f/" + rel;
        assertError(c.upload(url, "x"), 400, "too long");
        assertError(c.link(url, TestServer.digest("x")), 400, "too long");
        assertEquals(before, tree(), "no branch, tag, job or format folder left");
        assertEquals(List.of(), Files.list(root.resolve(".uploads")).toList());
        assertTrue(c.get(url).statusCode() == 400);
        // next to an existing format too
        c.uploadFinalized("/branches/lp2/t/j/f/ok.txt", "ok\n");
        before = tree();
        assertError(c.upload("/branches/lp2/t/j/f/" + rel, "x"), 400, "too long");
        assertEquals(before, tree(), "no folder of the path left");
        assertFalse(Files.exists(root.resolve("branches/lp2/t/j/f/.dirty")), "the format is not made dirty");
    }

    @Test
    void longLevelNamesAreRefusedBeforeCreatingAny() throws Exception {
        List<String> before = tree();
        String url = "/branches/" + seg('b', 250) + "/" + seg('t', 250) + "/" + seg('j', 250) + "/" + seg('f', 250)
                + "/" + seg('x', 250);
        assertError(c.upload(url, "x"), 400, "too long");
        assertEquals(before, tree());
    }

    @Test
    void pathsThatFitWork() throws Exception {
        String rel = String.join("/", seg('a', 200), seg('b', 200), seg('c', 200), seg('x', 200));
        String url = "/branches/fit/t/j/f/" + rel;
        assertTrue((root + "/branches/fit/t/j/f/" + rel).length() > 3800);
        assertStatus(201, c.upload(url, "one"));
        assertStatus(201, c.upload(url, "two"));
        assertEquals("two", c.get(url).body());
        assertStatus(200, c.send("PATCH", "/branches/fit/t/j/f/"));
        assertStatus(200, c.getBytes("/branches/fit/t/j/f.tar"));
        assertStatus(200, c.delete("/branches/fit/"));
    }

    @Test
    void longestFileNameCanBeReplaced() throws Exception {
        // the temporary name next to the file must fit in 255 bytes too
        String name = seg('n', 255);
        String url = "/branches/n/t/j/f/" + name;
        assertStatus(201, c.upload(url, "one"));
        assertStatus(201, c.upload(url, "two"));
        String multi = "é".repeat(127);
        assertEquals(254, multi.getBytes(StandardCharsets.UTF_8).length);
        String url2 = "/branches/n/t/j/f/" + NamesTest.enc(multi);
        assertStatus(201, c.upload(url2, "one"));
        assertStatus(201, c.upload(url2, "two"));
        assertEquals("two", c.get(url2).body());
        assertEquals(List.of(), Files.list(root.resolve(".uploads")).toList());
    }

    @Test
    void productPathsTooLongAreRefused() throws Exception {
        c.uploadFinalized("/branches/pm/t/j/f/ok.txt", "ok\n");
        Path meta = root.resolve("branches/pm/t/j/.metadata");
        String body = "{\"job\": {\"product\": \"" + seg('p', 250) + "\", \"product_variant\": \"" + seg('v', 250)
                + "\", \"product_branch\": \"" + seg('b', 250) + "\", \"version\": \"" + seg('1', 250) + "\"}}";
        List<String> before = tree();
        // the version folder itself would fit (about 4014 bytes), but not the link of a
        // format with a long name that the job may receive later
        assertError(c.json("PATCH", "/branches/pm/t/j/", body), 400, "too long");
        assertEquals(before, tree(), "no product folder, .metadata unchanged");
        assertFalse(Files.exists(meta) && Files.readString(meta).contains("ppp"));
        // shorter ones fit
        body = "{\"job\": {\"product\": \"" + seg('p', 100) + "\", \"product_variant\": \"v\","
                + " \"product_branch\": \"b\", \"version\": \"1\"}}";
        assertStatus(200, c.json("PATCH", "/branches/pm/t/j/", body));
        assertEquals("ok\n", c.get("/products/" + seg('p', 100) + "/v/b/1/f/ok.txt").body());
    }

    @Test
    void longestFormatNameJoinsAProduct() throws Exception {
        // the product link of a 255-byte format has a temporary name next to it too
        String format = seg('f', 255);
        c.uploadFinalized("/branches/lf/t/j/" + format + "/ok.txt", "ok\n");
        assertStatus(200, c.json("PATCH", "/branches/lf/t/j/", "{\"job\": {\"product\": \"lfp\","
                + " \"product_variant\": \"v\", \"product_branch\": \"b\", \"version\": \"1\"}}"));
        assertEquals("ok\n", c.get("/products/lfp/v/b/1/" + format + "/ok.txt").body());
        c.uploadFinalized("/branches/lf/t/j2/" + format + "/ok.txt", "ok2\n");
        assertStatus(200, c.json("PATCH", "/branches/lf/t/j2/", "{\"job\": {\"product\": \"lfp\","
                + " \"product_variant\": \"v\", \"product_branch\": \"b\", \"version\": \"2\"}}"));
        assertEquals("ok2\n", c.get("/products/lfp/v/b/2/" + format + "/ok.txt").body());
    }

    @Test
    void deepRootRefusesLongBranchFolders() throws Exception {
        // in a root so deep that a branch folder leaves no room for its files (before the
        // fix the file system's "File name too long" was a 500 with a stack trace)
        Path deeper = deepFolder(Files.createTempDirectory("dlrepo-longer-"), 3900);
        try (TestServer x = TestServer.start(deeper, Map.of("DLREPO_FSYNC", "0"))) {
            String branch = seg('b', 250);
            assertError(x.anonymous().json("POST", "/branches/" + branch + "/", "{\"branch\": {\"max_daily_tags\": 1}}"),
                    400, "too long");
            assertFalse(Files.exists(deeper.resolve("branches").resolve(branch)));
            assertError(x.anonymous().upload("/branches/" + branch + "/t/j/f/x", "x"), 400, "too long");
            assertFalse(Files.exists(deeper.resolve("branches").resolve(branch)));
        } finally {
            Path t = deeper;
            while (!t.getFileName().toString().startsWith("dlrepo-longer-")) {
                t = t.getParent();
            }
            delete(t);
        }
    }
}
