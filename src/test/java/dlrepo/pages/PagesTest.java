package dlrepo.pages;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestServer;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 12: a browser (Accept with html) gets a page for every level, with a title naming
 * it and links to what is below; every other client gets the JSON of before, byte for byte.
 */
class PagesTest {
    private static TestServer s;

    @BeforeAll
    static void setUp() throws Exception {
        s = TestServer.start(Map.of("DLREPO_FSYNC", "0"));
        s.uploadFinalized("/branches/main/v1.9/build/deb/pkg.deb", "nine");
        s.uploadFinalized("/branches/main/v1.10-rc1/build/deb/pkg.deb", "ten, almost");
        s.uploadFinalized("/branches/main/v1.10/build/deb/pkg.deb", "ten");
        s.uploadFinalized("/branches/main/v1.10/build/doc/guide/index.html", "<p>guide</p>");
        assertStatus(200, s.json("PATCH", "/branches/main/v1.10/build/", "{\"job\": {\"arch\": \"x86_64\"}}"));
        assertStatus(200, s.json("POST", "/branches/main/v1.10/", "{\"tag\": {\"description\": \"ten\"}}"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        s.close();
    }

    static HttpResponse<String> page(String path) throws Exception {
        return s.send(s.request(path).header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8").GET().build());
    }

    private static void assertPage(HttpResponse<String> r, String title, String... contains) {
        assertStatus(200, r);
        assertEquals("text/html; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
        assertTrue(r.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'none'"),
                r.headers().map().toString());
        assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(""));
        assertEquals("Accept", r.headers().firstValue("Vary").orElse(""));
        assertTrue(r.body().contains("<title>" + title + " · dlrepo</title>"), r.body());
        for (String c : contains) {
            assertTrue(r.body().contains(c), "'" + c + "' in " + r.body());
        }
    }

    @Test
    void everyLevelHasItsPage() throws Exception {
        assertPage(page("/"), "Home", "href=\"/branches/\"", "href=\"/products/\"");
        assertPage(page("/branches/"), "Branches", "href=\"main/\"", "href=\"main/v1.10/\"");
        assertPage(page("/branches/main/"), "Branch main", "href=\"v1.10/\"", "href=\"v1.9/\"", "ten");
        assertPage(page("/branches/main/v1.10/"), "Tag v1.10", "href=\"build/\"", "href=\"build.tar\"",
                "<th>arch</th>", "<td>x86_64</td>");
        assertPage(page("/branches/main/v1.10/build/"), "Job build", "href=\"deb/\"", "href=\"deb.tar\"",
                "href=\"deb.sha256\"", "<th>arch</th>", "dlrepo-cli -u http://127.0.0.1:" + s.port()
                        + " download -o build main v1.10 build",
                "curl -L -O http://127.0.0.1:" + s.port() + "/branches/main/v1.10/build/deb.tar\n");
    }

    @Test
    void tagsAreInNaturalVersionOrderNewestFirst() throws Exception {
        String body = page("/branches/main/").body();
        assertTrue(body.indexOf("href=\"v1.10/\"") < body.indexOf("href=\"v1.10-rc1/\""), body);
        assertTrue(body.indexOf("href=\"v1.10-rc1/\"") < body.indexOf("href=\"v1.9/\""), body);
    }

    @Test
    void digitsOfOtherScriptsCompareAsCharacters() throws Exception {
        // v\u0661 is "v" and ARABIC-INDIC DIGIT ONE: a digit, but not a number of the order
        for (String tag : List.of("v1", "v%D9%A1", "v007")) {
            s.uploadFinalized("/branches/digits/" + tag + "/build/deb/pkg.deb", tag);
        }
        HttpResponse<String> r = page("/branches/digits/");
        assertStatus(200, r);
        String body = r.body();
        assertTrue(body.indexOf("href=\"v%D9%A1/\"") < body.indexOf("href=\"v007/\""), body);
        assertTrue(body.indexOf("href=\"v007/\"") < body.indexOf("href=\"v1/\""), body);
    }

    @Test
    void breadcrumbsLeadBackUp() throws Exception {
        String body = page("/branches/main/v1.10/build/").body();
        for (String url : List.of("/", "/branches/", "/branches/main/", "/branches/main/v1.10/",
                "/branches/main/v1.10/build/")) {
            assertTrue(body.contains("href=\"" + url + "\""), url + " in " + body);
        }
    }

    @Test
    void jsonClientsGetTheJsonOfBefore() throws Exception {
        for (String accept : List.of("", "application/json", "*/*")) {
            var b = s.request("/branches/main/v1.10/").GET();
            if (!accept.isEmpty()) {
                b.header("Accept", accept);
            }
            HttpResponse<String> r = s.send(b.build());
            assertStatus(200, r);
            assertEquals("application/json; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
            assertEquals("Accept", r.headers().firstValue("Vary").orElse(""));
            assertTrue(r.body().startsWith("{\"tag\":{\"name\":\"v1.10\","), r.body());
        }
        assertEquals("{\"branches\":\"/branches/\",\"version\":\"" + dlrepo.Version.get() + "\"}", s.get("/").body());
    }

    @Test
    void aRefusedBrowserGetsAPageAndTheLoginPrompt() throws Exception {
        try (dlrepo.TestAuth auth = new dlrepo.TestAuth().user("alice", "pw", "dev").acl("dev", "r /**");
                TestServer a = auth.start()) {
            HttpResponse<String> r = a.send(a.request("/branches/").header("Accept", "text/html").GET().build());
            assertStatus(401, r);
            assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic realm="),
                    r.headers().map().toString());
            assertEquals("text/html; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
            assertTrue(r.body().contains("<title>401 · dlrepo</title>"), r.body());
        }
    }

    @Test
    void errorsAreHtmlPagesForBrowsers() throws Exception {
        HttpResponse<String> r = page("/branches/nope/");
        assertStatus(404, r);
        assertEquals("text/html; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
        assertTrue(r.body().contains("<title>404 · dlrepo</title>"), r.body());
        assertTrue(r.body().contains("Branch nope not found"), r.body());
        assertFalse(s.get("/branches/nope/").body().contains("<"), "JSON for the API");
    }
}
