package dlrepo.pages;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Caller;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 12, formats and files: a browser gets a page for a format folder and every folder
 * under it (or the folder's own index.html), names chosen by uploaders stay text and
 * relative links, the ACLs apply as to the JSON, and the job page shows the apt, yum and
 * docker commands of the formats that hold such repositories.
 */
class FormatPagesTest {
    static final String ACCEPT = "text/html,application/xhtml+xml,*/*;q=0.8";
    static final String JOB = "/branches/main/v1/build/";
    static final String EVIL_IMG = "<img src=x onerror=alert(1)>.txt";
    static final String EVIL_JS = "javascript:alert(1)";
    static final String EVIL_QUERY = "a?b#c.txt";

    private static TestServer s;

    @BeforeAll
    static void setUp() throws Exception {
        s = TestServer.start(Map.of("DLREPO_FSYNC", "0"));
        s.uploadFinalized(JOB + "files/top.txt", "top!");
        s.uploadFinalized(JOB + "files/a/other.bin", "other");
        s.uploadFinalized(JOB + "files/a/b/deep.txt", "deep");
        s.uploadFinalized(JOB + "files/a/b/site/index.html", "<p>deep site</p>");
        s.uploadFinalized(JOB + "files/a/b/site/page2.html", "<p>page 2</p>");
        s.uploadFinalized(JOB + "doc/index.html", "<p>doc</p>");
        s.uploadFinalized(JOB + "doc/api/x.html", "<p>x</p>");
        for (String name : List.of(EVIL_IMG, EVIL_JS, EVIL_QUERY, "with space.txt", "100%.txt")) {
            s.uploadFinalized(JOB + "evil/" + enc(name), "evil " + name);
        }
        s.uploadFinalized(JOB + "deb/Release", "Origin: test");
        s.uploadFinalized(JOB + "debstd/dists/stable/Release", "Suite: stable");
        s.uploadFinalized(JOB + "debstd/dists/stable/InRelease", "signed Suite: stable");
        s.uploadFinalized(JOB + "debstd/dists/stable/main/binary-amd64/Packages", "");
        s.uploadFinalized(JOB + "rpm/el9/x86_64/repodata/repomd.xml", "<repomd/>");
        byte[] manifest = "{}".getBytes(StandardCharsets.UTF_8);
        assertStatus(201, s.send(s.request(JOB + "container/manifests/sha256/44/" + "44".repeat(32))
                .header("Digest", TestServer.digest(manifest)).header("User-Agent", "dlrepo-server/test")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(manifest)).build()));
        s.uploadFinalized("/branches/main/v1/plain/files/Release.txt", "not apt");
        s.uploadFinalized("/branches/main/v1/plain/files/repodata/other.xml", "not yum");
    }

    @AfterAll
    static void tearDown() throws Exception {
        s.close();
    }

    /** Percent-encodes each segment of a relative path. */
    static String enc(String path) {
        return Arrays.stream(path.split("/", -1))
                .map(p -> URLEncoder.encode(p, StandardCharsets.UTF_8).replace("+", "%20"))
                .collect(Collectors.joining("/"));
    }

    static HttpResponse<String> page(String path) throws Exception {
        return s.send(s.request(path).header("Accept", ACCEPT).GET().build());
    }

    static HttpResponse<String> page(Caller c, String path) throws Exception {
        return c.send(c.request(path).header("Accept", ACCEPT).GET().build());
    }

    /** The text of a page as a browser shows it (the entities the templates write undone). */
    static String text(String html) {
        return html.replace("&#39;", "'").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">")
                .replace("&amp;", "&");
    }

    private static void assertPage(HttpResponse<String> r, String title, String... contains) {
        assertStatus(200, r);
        assertEquals("text/html; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
        assertTrue(r.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'none'"));
        assertTrue(r.body().contains("<title>" + title + " · dlrepo</title>"), r.body());
        for (String c : contains) {
            assertTrue(r.body().contains(c), "'" + c + "' in " + r.body());
        }
    }

    @Test
    void formatFolderPage() throws Exception {
        HttpResponse<String> r = page(JOB + "files/");
        assertPage(r, "Format files", "href=\"a/\"", "href=\"top.txt\"", "4 B", " UTC</time>",
                "title=\"" + TestServer.digest("top!").substring("sha256:".length()) + "\"",
                ">" + TestServer.digest("top!").substring("sha256:".length(), "sha256:".length() + 12) + "<",
                "href=\"../files.tar\"", "href=\"../files.sha256\"", "href=\"" + JOB + "\"");
        assertTrue(r.body().indexOf("href=\"a/\"") < r.body().indexOf("href=\"top.txt\""), "folders first");
    }

    @Test
    void foldersUnderTheFormatHaveTheirPages() throws Exception {
        HttpResponse<String> a = page(JOB + "files/a/");
        assertPage(a, "Folder files/a/", "href=\"b/\"", "href=\"other.bin\"", "5 B", "href=\"../\"",
                "href=\"" + JOB + "files/a/\"", "href=\"" + JOB + "files/\"");
        assertFalse(a.body().contains("top.txt"), "only what is in the folder");
        HttpResponse<String> b = page(JOB + "files/a/b/");
        assertPage(b, "Folder files/a/b/", "href=\"deep.txt\"", "href=\"site/\"", "2 files");
        // without the slash: to the folder's URL, so that its relative links work
        HttpResponse<String> noSlash = page(JOB + "files/a/b");
        assertStatus(302, noSlash);
        assertEquals(JOB + "files/a/b/", noSlash.headers().firstValue("Location").orElse(""));
        assertStatus(404, page(JOB + "files/nope/"));
        assertStatus(404, page(JOB + "files/top.txt/"));
        assertStatus(404, page(JOB + "nope/x/"));
    }

    @Test
    void jsonClientsGetTheJsonOfBefore() throws Exception {
        assertEquals("{\"artifact_format\":{\"name\":\"files\",\"internal\":false,\"dirty\":false,\"files\":"
                + "[\"a/b/deep.txt\",\"a/b/site/index.html\",\"a/b/site/page2.html\",\"a/other.bin\",\"top.txt\"]}}",
                s.get(JOB + "files/").body());
        assertEquals("{\"artifact_format\":{\"name\":\"doc\",\"internal\":false,\"dirty\":false,\"files\":"
                + "[\"api/x.html\",\"index.html\"]}}", s.get(JOB + "doc/").body());
        for (String folder : List.of("files/a/", "files/a", "files/a/b/", "doc/api/")) {
            HttpResponse<String> r = s.get(JOB + folder);
            assertStatus(404, r);
            assertTrue(r.body().startsWith("{\"error\":"), r.body());
        }
    }

    @Test
    void aFolderWithIndexHtmlIsItsSiteAtEveryDepth() throws Exception {
        for (var e : Map.of("doc/", "<p>doc</p>", "files/a/b/site/", "<p>deep site</p>").entrySet()) {
            HttpResponse<String> r = page(JOB + e.getKey());
            assertStatus(200, r);
            assertEquals(e.getValue(), r.body());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
            assertTrue(r.headers().firstValue("Content-Security-Policy").orElse("").startsWith("sandbox "),
                    "uploaded pages stay sandboxed: " + r.headers().map());
        }
        assertEquals("<p>page 2</p>", page(JOB + "files/a/b/site/page2.html").body());
        assertPage(page(JOB + "doc/api/"), "Folder doc/api/", "href=\"x.html\"");
    }

    @Test
    void hostileNamesStayTextAndRelativeLinks() throws Exception {
        String body = page(JOB + "evil/").body();
        assertFalse(body.contains("<img src=x"), body);
        assertFalse(body.contains("href=\"javascript:"), body);
        assertTrue(body.contains("&lt;img src=x onerror=alert(1)&gt;.txt"), body);
        for (String name : List.of(EVIL_IMG, EVIL_JS, EVIL_QUERY, "with space.txt", "100%.txt")) {
            String href = enc(name).replace("(", "%28").replace(")", "%29").replace("*", "%2A");
            assertTrue(body.contains("href=\"" + href + "\""), href + " in " + body);
            // the link leads to the file
            HttpResponse<String> r = s.get(JOB + "evil/" + href);
            assertStatus(200, r);
            assertEquals("evil " + name, r.body());
        }
    }

    @Test
    void checksumsWorkFromABrowser() throws Exception {
        HttpResponse<String> r = page(JOB + "files.sha256");
        assertStatus(200, r);
        assertEquals("text/plain; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
        assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(""));
        assertTrue(r.body().contains(TestServer.digest("top!").substring(7) + "  top.txt\n"), r.body());
        assertEquals(r.body(), s.get(JOB + "files.sha256").body(), "the same for every client");
        HttpResponse<String> one = page(JOB + "files/a/b/deep.txt.sha256");
        assertStatus(200, one);
        assertEquals(TestServer.digest("deep").substring(7) + "  deep.txt\n", one.body());
        HttpResponse<String> evil = page(JOB + "evil.sha256");
        assertEquals("text/plain; charset=utf-8", evil.headers().firstValue("Content-Type").orElse(""));
        assertEquals("nosniff", evil.headers().firstValue("X-Content-Type-Options").orElse(""));
    }

    @Test
    void jobPageShowsRepositoryCommands() throws Exception {
        String base = "http://127.0.0.1:" + s.port();
        String body = text(page(JOB).body());
        assertTrue(body.contains("echo 'deb [trusted=yes] " + base + JOB + "deb/ ./' | sudo tee "
                + "/etc/apt/sources.list.d/dlrepo-main-v1-build-deb.list"), body);
        // signed (InRelease): used with its key, not trusted blindly
        assertTrue(body.contains("echo 'deb " + base + JOB + "debstd/ stable main' | sudo tee "
                + "/etc/apt/sources.list.d/dlrepo-main-v1-build-debstd.list"), body);
        assertTrue(body.contains("sudo tee /etc/yum.repos.d/dlrepo-main-v1-build-rpm.repo <<'EOF'\n"
                + "[dlrepo-main-v1-build-rpm]\nname=dlrepo-main-v1-build-rpm\nbaseurl=" + base + JOB
                + "rpm/el9/x86_64/\nenabled=1\ngpgcheck=0\nEOF"), body);
        assertTrue(body.contains("docker pull 127.0.0.1:" + s.port() + "/main/build:v1"), body);
    }

    @Test
    void noCommandsWithoutRepositories() throws Exception {
        HttpResponse<String> r = page("/branches/main/v1/plain/");
        assertPage(r, "Job plain");
        for (String absent : List.of("sources.list", "yum.repos.d", "docker pull")) {
            assertFalse(r.body().contains(absent), absent + " in " + r.body());
        }
    }

    @Test
    void uploadsAreSandboxedUnlessTrusted() throws Exception {
        HttpResponse<String> r = s.get(JOB + "doc/index.html");
        assertStatus(200, r);
        assertTrue(r.headers().firstValue("Content-Security-Policy").orElse("").startsWith("sandbox "),
                r.headers().map().toString());
        try (TestServer t = TestServer.start(Map.of("DLREPO_FSYNC", "0", "DLREPO_TRUSTED_UPLOADS", "1"))) {
            t.uploadFinalized(JOB + "doc/index.html", "<p>doc</p>");
            for (HttpResponse<String> trusted : List.of(t.get(JOB + "doc/index.html"),
                    t.send(t.request(JOB + "doc/").header("Accept", ACCEPT).GET().build()))) {
                assertStatus(200, trusted);
                assertEquals("<p>doc</p>", trusted.body());
                assertTrue(trusted.headers().firstValue("Content-Security-Policy").isEmpty(),
                        trusted.headers().map().toString());
                assertEquals("nosniff", trusted.headers().firstValue("X-Content-Type-Options").orElse(""));
            }
        }
    }

    @Test
    void aclsApplyAsToTheJson() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.user("admin", "pw", "admin").acl("admin", "rw /**")
                    .user("reader", "pw", "reader").acl("reader", "r /** !/branches/main/v1/build/secret/**");
            try (TestServer t = setup.start()) {
                Caller admin = Caller.basic(t, "admin", "pw");
                admin.uploadFinalized(JOB + "secret/a/key.txt", "key");
                admin.uploadFinalized(JOB + "open/a/x.txt", "x");
                Caller reader = Caller.basic(t, "reader", "pw");
                Caller anonymous = Caller.anonymous(t);
                for (String path : List.of(JOB + "secret/", JOB + "secret/a/", JOB + "secret/a/key.txt")) {
                    for (Caller c : List.of(reader, anonymous)) {
                        HttpResponse<String> html = page(c, path);
                        HttpResponse<String> json = c.get(path);
                        assertTrue(html.statusCode() == 403 || html.statusCode() == 401, path + ": " + html);
                        assertEquals(json.statusCode(), html.statusCode(), path);
                        assertFalse(html.body().contains("key.txt\""), html.body());
                    }
                }
                assertStatus(200, page(admin, JOB + "secret/a/"));
                assertStatus(200, page(reader, JOB + "open/a/"));
                String job = page(reader, JOB).body();
                assertTrue(job.contains("href=\"open/\""), job);
                assertFalse(job.contains("secret"), job);
            }
        }
    }
}
