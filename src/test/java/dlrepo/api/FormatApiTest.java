package dlrepo.api;

import static dlrepo.api.Api.assertError;
import static dlrepo.api.Api.finalizeFormat;
import static dlrepo.api.Api.ok;
import static dlrepo.api.Api.patch;
import static dlrepo.api.Api.unique;
import static dlrepo.api.Api.upload201;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code .../<j>/<f>/}, {@code <f>}, {@code <f>.sha256}: listing, completion, finalization, deletion. */
class FormatApiTest {
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_INTERNAL_FORMAT_FILTER", "debug|logs-"));
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    private static Path dir(TestServer srv, String url) {
        return srv.root().resolve(url.substring(1));
    }

    private static String job() {
        return "/branches/" + unique("fb") + "/t/job/";
    }

    private static List<String> files(JsonNode format) {
        List<String> l = new ArrayList<>();
        format.get("files").forEach(f -> l.add(f.asText()));
        return l;
    }

    @Test
    void formatShapeDirtyAndHead() throws Exception {
        String url = job() + "deb/";
        upload201(s, url + "z.deb", "z");
        upload201(s, url + "pool/b/b.deb", "b");
        upload201(s, url + "a.deb", "a");
        JsonNode f = ok(s.get(url)).get("artifact_format");
        assertEquals(List.of("dirty", "files", "internal", "name"), BranchApiTest.fieldNames(f));
        assertEquals("deb", f.get("name").asText());
        assertTrue(f.get("dirty").asBoolean());
        assertFalse(f.get("internal").asBoolean());
        assertEquals(List.of("a.deb", "pool/b/b.deb", "z.deb"), files(f));
        assertTrue(Files.exists(dir(s, url).resolve(".dirty")));
        assertEquals(404, s.head(url).statusCode(), "HEAD 404 while dirty");

        finalizeFormat(s, url);
        assertFalse(Files.exists(dir(s, url).resolve(".dirty")));
        f = ok(s.get(url)).get("artifact_format");
        assertFalse(f.get("dirty").asBoolean());
        HttpResponse<String> h = s.head(url);
        assertEquals(200, h.statusCode());
        assertEquals("", h.body());
        // finalizing again is harmless
        finalizeFormat(s, url);
        assertEquals(200, s.head(url).statusCode());
    }

    @Test
    void internalFormats() throws Exception {
        String url = job();
        upload201(s, url + "debug-info/x.dbg", "x");
        upload201(s, url + "logs-build/l.txt", "l");
        upload201(s, url + "deb/a.deb", "a");
        upload201(s, url + "build-logs/l.txt", "l");
        assertTrue(ok(s.get(url + "debug-info/")).get("artifact_format").get("internal").asBoolean());
        assertTrue(ok(s.get(url + "logs-build/")).get("artifact_format").get("internal").asBoolean());
        assertFalse(ok(s.get(url + "deb/")).get("artifact_format").get("internal").asBoolean());
        assertFalse(ok(s.get(url + "build-logs/")).get("artifact_format").get("internal").asBoolean(),
                "the filter matches from the start of the name");
        JsonNode formats = ok(s.get(url)).get("job").get("artifact_formats");
        assertEquals(4, formats.size());
    }

    @Test
    void missingFormat() throws Exception {
        String url = job();
        upload201(s, url + "deb/a", "a");
        assertError(s.get(url + "rpm/"), 404, null);
        assertEquals(404, s.head(url + "rpm/").statusCode());
        assertError(patch(s, url + "rpm/"), 404, null);
        assertError(s.delete(url + "rpm/"), 404, null);
        assertError(s.get(url + "rpm"), 404, null);
        assertError(s.get(url + "rpm.sha256"), 404, null);
        assertFalse(Files.exists(dir(s, url).resolve("rpm")));
    }

    @Test
    void formatWithoutSlash() throws Exception {
        String url = job();
        // one file: 302 to it, as an attachment
        upload201(s, url + "iso/images/disk.iso", "iso");
        assertError(s.get(url + "iso"), 404, "not finalized");
        assertEquals(404, s.head(url + "iso").statusCode());
        finalizeFormat(s, url + "iso/");
        HttpResponse<String> r = s.get(url + "iso");
        assertEquals(302, r.statusCode());
        assertEquals(url + "iso/images/disk.iso", r.headers().firstValue("Location").orElse(null));
        String cd = r.headers().firstValue("Content-Disposition").orElse("");
        assertTrue(cd.startsWith("attachment") && cd.contains("disk.iso"), cd);
        assertEquals(302, s.head(url + "iso").statusCode());
        // several files: to the folder
        upload201(s, url + "deb/a.deb", "a");
        upload201(s, url + "deb/b.deb", "b");
        finalizeFormat(s, url + "deb/");
        r = s.get(url + "deb");
        assertEquals(302, r.statusCode());
        assertEquals(url + "deb/", r.headers().firstValue("Location").orElse(null));
        assertFalse(r.headers().firstValue("Content-Disposition").isPresent());
        // only index.html: to the folder
        upload201(s, url + "doc/index.html", "<html></html>");
        finalizeFormat(s, url + "doc/");
        r = s.get(url + "doc");
        assertEquals(302, r.statusCode());
        assertEquals(url + "doc/", r.headers().firstValue("Location").orElse(null));
        // a name that needs encoding is encoded in the Location
        upload201(s, url + "src/my%20file%C3%A9.tar.gz", "src");
        finalizeFormat(s, url + "src/");
        r = s.get(url + "src");
        assertEquals(302, r.statusCode());
        String loc = r.headers().firstValue("Location").orElse("");
        assertEquals("src", s.get(loc).body(), loc);
    }

    @Test
    void sha256Files() throws Exception {
        String url = job();
        upload201(s, url + "deb/zz.deb", "zz");
        upload201(s, url + "deb/a/b.deb", "ab");
        upload201(s, url + "deb/M.deb", "M");
        upload201(s, url + "deb/a.deb", "a");
        finalizeFormat(s, url + "deb/");
        HttpResponse<String> r = s.get(url + "deb.sha256");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        assertEquals(Api.sha256("M") + "  M.deb\n"
                + Api.sha256("a") + "  a.deb\n"
                + Api.sha256("ab") + "  a/b.deb\n"
                + Api.sha256("zz") + "  zz.deb\n", r.body());
        // per-file checksum computed from the digests when there is no such file
        r = s.get(url + "deb/a/b.deb.sha256");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        assertEquals(Api.sha256("ab") + "  b.deb\n", r.body());
        assertFalse(Files.exists(dir(s, url).resolve("deb/a/b.deb.sha256")));
        assertError(s.get(url + "deb/nothing.sha256"), 404, null);
        // a real .sha256 file wins
        upload201(s, url + "deb/zz.deb.sha256", "custom\n");
        assertEquals("custom\n", s.get(url + "deb/zz.deb.sha256").body());
    }

    @Test
    void deleteFormat() throws Exception {
        String url = job();
        upload201(s, url + "deb/a", "a");
        upload201(s, url + "rpm/b", "b");
        upload201(s, url + "debug/c", "c");
        for (String f : List.of("deb/", "rpm/", "debug/")) {
            finalizeFormat(s, url + f);
        }
        ok(s.delete(url + "rpm/"));
        assertFalse(Files.exists(dir(s, url).resolve("rpm")));
        assertError(s.get(url + "rpm/"), 404, null);
        assertError(s.delete(url + "rpm/"), 404, null);
        JsonNode formats = ok(s.get(url)).get("job").get("artifact_formats");
        assertEquals("[\"deb\",\"debug\"]", formats.toString());

        ok(s.json("PUT", url, "{\"job\": {\"locked\": true}}"));
        assertError(s.delete(url + "deb/"), 400, "locked");
        assertTrue(Files.exists(dir(s, url).resolve("deb/a")));
        ok(s.delete(url + "debug/"));
        assertFalse(Files.exists(dir(s, url).resolve("debug")));
        HttpResponse<String> r = s.json("POST", url + "deb/", "{}");
        assertError(r, 405, null);
        assertTrue(r.headers().firstValue("Allow").isPresent());
    }

    // ---------------------------------------------------------------- post-processing

    @Test
    void postProcessAddsAndChangesFiles(@TempDir Path tmp) throws Exception {
        Path marker = tmp.resolve("ran");
        Path cmd = Api.script(tmp, "post.sh", "set -e\n"
                + "echo \"$PWD\" >> " + marker + "\n"
                + "test -f a.txt\n"
                + "echo added > new.txt\n"
                + "mkdir -p sub && echo deep > sub/deep.txt\n"
                + "echo changed >> a.txt\n"
                + "rm -f gone.txt\n");
        try (TestServer x = TestServer.start(Map.of("DLREPO_POST_PROCESS_CMD", cmd.toString()))) {
            String url = "/branches/main/t/job/deb/";
            upload201(x, url + "a.txt", "original\n");
            upload201(x, url + "keep.txt", "keep\n");
            upload201(x, url + "gone.txt", "gone\n");
            Path fmt = dir(x, url);
            Object keepInode = Api.inode(fmt.resolve("keep.txt"));
            finalizeFormat(x, url);
            assertTrue(Files.exists(marker), "command ran");
            assertFalse(Files.exists(fmt.resolve(".dirty")));
            assertEquals("original\nchanged\n", Api.read(fmt.resolve("a.txt")));
            assertEquals("added\n", Api.read(fmt.resolve("new.txt")));
            assertEquals("deep\n", Api.read(fmt.resolve("sub/deep.txt")));
            assertEquals("keep\n", Api.read(fmt.resolve("keep.txt")));
            assertFalse(Files.exists(fmt.resolve("gone.txt")));
            assertEquals(keepInode, Api.inode(fmt.resolve("keep.txt")), "unchanged file untouched");
            assertEquals(Map.of("a.txt", "sha256:" + Api.sha256("original\nchanged\n"),
                    "keep.txt", "sha256:" + Api.sha256("keep\n"),
                    "new.txt", "sha256:" + Api.sha256("added\n"),
                    "sub/deep.txt", "sha256:" + Api.sha256("deep\n")), Api.digests(fmt));
            for (String f : List.of("a.txt", "new.txt", "sub/deep.txt")) {
                Path blob = Api.blob(x, Api.sha256(Files.readAllBytes(fmt.resolve(f))));
                assertTrue(Files.exists(blob), f);
                assertEquals(Api.inode(blob), Api.inode(fmt.resolve(f)), f + " linked to its blob");
            }
            assertEquals(1, Api.nlink(Api.blob(x, Api.sha256("original\n"))), "old content no longer linked");
            // the command ran on a private copy, not in the format folder
            assertFalse(Api.read(marker).strip().equals(fmt.toString()));
            assertEquals(List.of(), Api.list(x.root().resolve(".uploads")));
            JsonNode f = ok(x.get(url)).get("artifact_format");
            assertEquals(List.of("a.txt", "keep.txt", "new.txt", "sub/deep.txt"), files(f));
            assertEquals("added\n", x.get(url + "new.txt").body());
            assertEquals(200, x.head(url).statusCode());
        }
    }

    @Test
    void failingPostProcessChangesNothing(@TempDir Path tmp) throws Exception {
        Path cmd = Api.script(tmp, "fail.sh", "echo changed >> a.txt\necho new > new.txt\n"
                + "echo 'something broke' >&2\nexit 3\n");
        try (TestServer x = TestServer.start(Map.of("DLREPO_POST_PROCESS_CMD", cmd.toString()))) {
            String url = "/branches/main/t/job/deb/";
            upload201(x, url + "a.txt", "original\n");
            Path fmt = dir(x, url);
            Map<String, String> digestsBefore = Api.digests(fmt);
            List<String> blobsBefore = Api.blobs(x);
            String msg = assertError(Api.patch(x, url), 500, null);
            assertTrue(msg.contains("3") || msg.contains("something broke"), msg);
            assertEquals("original\n", Api.read(fmt.resolve("a.txt")));
            assertFalse(Files.exists(fmt.resolve("new.txt")));
            assertEquals(digestsBefore, Api.digests(fmt));
            assertTrue(Files.exists(fmt.resolve(".dirty")), "stays dirty");
            assertEquals(blobsBefore, Api.blobs(x));
            assertEquals(404, x.head(url).statusCode());
            assertTrue(ok(x.get(url)).get("artifact_format").get("dirty").asBoolean());
            assertEquals(List.of(), Api.list(x.root().resolve(".uploads")), "private copy removed");
        }
    }

    @Test
    void postProcessFilter(@TempDir Path tmp) throws Exception {
        Path marker = tmp.resolve("ran");
        Path cmd = Api.script(tmp, "post.sh", "echo x >> " + marker + "\necho added > new.txt\n");
        try (TestServer x = TestServer.start(Map.of("DLREPO_POST_PROCESS_CMD", cmd.toString(),
                "DLREPO_POST_PROCESS_FILTER", ".*\\.iso$"))) {
            String url = "/branches/main/t/job/deb/";
            upload201(x, url + "a.deb", "a");
            upload201(x, url + "iso/readme.txt", "r");
            finalizeFormat(x, url);
            assertFalse(Files.exists(marker), "filter does not match: command not run");
            assertFalse(Files.exists(dir(x, url).resolve("new.txt")));
            assertFalse(Files.exists(dir(x, url).resolve(".dirty")));
            String iso = "/branches/main/t/job/iso/";
            upload201(x, iso + "images/disk.iso", "disk");
            finalizeFormat(x, iso);
            assertEquals("x\n", Api.read(marker), "filter matches: command ran once");
            assertEquals("added\n", Api.read(dir(x, iso).resolve("new.txt")));
        }
    }
}
