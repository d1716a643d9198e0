package dlrepo.security;

import static dlrepo.Check.assertError;
import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.Browser;
import dlrepo.Caller;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.openqa.selenium.By;

/**
 * Issue 11, item 4: a page on another site makes the visitor's browser send a
 * state-changing request to the daemon with her cached Basic credentials. A text/plain
 * form (which needs no CORS preflight) posts {@code {"branch": {"max_daily_tags": 1, ...}}};
 * a no-cors fetch() does the same. The daemon refuses requests a browser marks as coming
 * from another origin; clients that are not browsers (curl, dlrepo-cli, docker), which
 * send neither {@code Origin} nor {@code Sec-Fetch-Site}, and the daemon's own pages, keep
 * working.
 */
class CsrfTest {
    private static final String BRANCH = "/branches/main/";
    private static final String JOB = "/branches/main/t1/j1/";
    private static TestAuth auth;
    private static TestServer server;
    private static Caller victim;
    private static OtherSite attacker;
    /** Debian's Chromium as it comes, and one set up like Google Chrome's defaults. */
    private static Browser strict;
    private static Browser chrome;

    @BeforeAll
    static void setUp() throws Exception {
        auth = new TestAuth().user("victim", "victim-pw", "victim").acl("victim", "rw /**");
        server = auth.start();
        victim = server.as("victim", "victim-pw");
        victim.uploadFinalized(JOB + "bin/notes.txt", "notes");
        attacker = new OtherSite();
        strict = Browser.start();
        chrome = Browser.withThirdPartyCookies();
        for (Browser b : browsers()) {
            b.signIn(server, "victim", "victim-pw");
        }
    }

    static List<Browser> browsers() {
        return List.of(strict, chrome);
    }

    @AfterAll
    static void tearDown() throws IOException {
        try (Browser a = strict; Browser b = chrome) {
            // closed
        } finally {
            if (attacker != null) {
                attacker.close();
            }
            if (server != null) {
                server.close();
            }
            if (auth != null) {
                auth.close();
            }
        }
    }

    @BeforeEach
    void resetPolicy() throws Exception {
        assertStatus(200, victim.json("POST", BRANCH, "{\"branch\": {\"max_daily_tags\": 0, \"max_released_tags\": 0}}"));
    }

    private static JsonNode policy() throws Exception {
        return victim.ok(BRANCH).get("branch").get("cleanup_policy");
    }

    private static String policyOnDisk() throws IOException {
        return Files.readString(server.root().resolve("branches/main/.cleanup_policy"));
    }

    @ParameterizedTest(autoCloseArguments = false)
    @MethodSource("browsers")
    void crossSiteFormPostIsRefused(Browser browser) throws Exception {
        String before = policyOnDisk();
        String url = attacker.page("/form.html", "<!DOCTYPE html>\n<html><body>"
                + "<form id=\"f\" method=\"post\" enctype=\"text/plain\" action=\"" + server.uri(BRANCH) + "\">"
                + "<input name='{\"branch\": {\"max_daily_tags\": 1, \"x\": \"' value='\"}}'></form>"
                + "<script>document.getElementById('f').submit();</script></body></html>\n");

        browser.open(url);
        browser.until("the daemon's answer", () -> browser.url().startsWith(server.uri(BRANCH).toString()));
        String answer = browser.text(By.tagName("body"));

        assertEquals(0, policy().get("max_daily_tags").asInt(), answer);
        assertEquals(before, policyOnDisk());
        assertTrue(answer.contains("cross-site"), answer);
    }

    /**
     * A no-cors fetch() POST needs no preflight either. The browser sends the cached
     * credentials with it when it comes from another service of the same site (here
     * another port of 127.0.0.1), and from another site when it allows third-party cookies.
     */
    @ParameterizedTest(autoCloseArguments = false)
    @MethodSource("browsers")
    void noCorsFetchFromAnotherOriginIsRefused(Browser browser) throws Exception {
        String html = "<!DOCTYPE html>\n<html><body><p id=\"out\"></p><script>"
                + "fetch('" + server.uri(BRANCH) + "', {method: 'POST', mode: 'no-cors', credentials: 'include',"
                + " body: '{\"branch\": {\"max_daily_tags\": 1}}'})"
                + ".then(r => { document.getElementById('out').textContent = 'sent ' + r.type; },"
                + " e => { document.getElementById('out').textContent = 'failed ' + e; });"
                + "</script></body></html>\n";
        String crossSite = attacker.page("/fetch.html", html);
        for (String url : new String[] {crossSite, attacker.sameSiteUrl("/fetch.html")}) {
            String before = policyOnDisk();
            browser.open(url);
            browser.until("the fetch", () -> !browser.text(By.id("out")).isEmpty());

            assertEquals(0, policy().get("max_daily_tags").asInt(), () -> url + ": " + browser.text(By.id("out")));
            assertEquals(before, policyOnDisk());
        }
    }

    /** What a browser sends for those requests, without a browser: every kind refused, body unread. */
    @Test
    void browserMarksOfAnotherOriginAreRefused() throws Exception {
        String ours = "http://127.0.0.1:" + server.port();
        String[][] refused = {
            {"Origin", "http://localhost:" + server.port()},
            {"Origin", "http://evil.example"},
            {"Origin", ours + ".evil.example"},
            {"Origin", "null"},
            {"Sec-Fetch-Site", "cross-site"},
            {"Sec-Fetch-Site", "same-site"},
            {"Origin", ours, "Sec-Fetch-Site", "cross-site"},
        };
        for (String[] headers : refused) {
            for (String method : new String[] {"POST", "PUT", "PATCH", "DELETE"}) {
                HttpResponse<String> r = victim.send(victim.request(method.equals("DELETE") ? JOB : BRANCH)
                        .headers(headers).header("Content-Type", "text/plain")
                        .method(method, HttpRequest.BodyPublishers.ofString("{\"branch\": {\"max_daily_tags\": 1}}"))
                        .build());
                assertError(r, 403, "cross-site");
            }
        }
        assertEquals(0, policy().get("max_daily_tags").asInt());
        assertStatus(200, victim.get(JOB + "bin/notes.txt"));
    }

    @Test
    void registryIsGuardedToo() throws Exception {
        HttpResponse<String> r = victim.send(victim.request("/v2/team/app/blobs/uploads/")
                .header("Origin", "http://evil.example")
                .POST(HttpRequest.BodyPublishers.noBody()).build());
        assertStatus(403, r);
        JsonNode body = dlrepo.Check.json(r);
        assertEquals("DENIED", body.get("errors").get(0).get("code").asText());
        assertTrue(body.get("errors").get(0).get("message").asText().contains("cross-site"), r.body());
        // without the marks, the same request starts an upload
        assertStatus(202, victim.send(victim.request("/v2/team/app/blobs/uploads/")
                .POST(HttpRequest.BodyPublishers.noBody()).build()));
    }

    /** curl -d, dlrepo-cli, docker: no Origin, no Sec-Fetch-Site, any Content-Type. */
    @Test
    void clientsThatAreNotBrowsersKeepWorking() throws Exception {
        HttpResponse<String> r = victim.send(victim.request(BRANCH)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("{\"branch\": {\"max_daily_tags\": 7}}")).build());
        assertStatus(200, r);
        assertEquals(7, policy().get("max_daily_tags").asInt());
        assertStatus(201, victim.upload("/branches/main/t1/j2/bin/a.txt", "a"));
    }

    /** The daemon's own pages (Origin and Sec-Fetch-Site of the daemon itself) keep working. */
    @Test
    void sameOriginRequestsKeepWorking() throws Exception {
        String ours = "http://127.0.0.1:" + server.port();
        String[][] accepted = {
            {"Origin", ours},
            {"Origin", ours, "Sec-Fetch-Site", "same-origin"},
            {"Sec-Fetch-Site", "same-origin"},
            {"Sec-Fetch-Site", "none"},
            // the scheme is not compared with Host's: behind a proxy terminating TLS the
            // daemon cannot see it (browsers mark a page of the other scheme cross-site)
            {"Origin", "https://127.0.0.1:" + server.port()},
        };
        int n = 10;
        for (String[] headers : accepted) {
            HttpResponse<String> r = victim.send(victim.request(BRANCH).headers(headers)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"branch\": {\"max_daily_tags\": " + n + "}}"))
                    .build());
            assertStatus(200, r);
            assertEquals(n++, policy().get("max_daily_tags").asInt());
        }
        // reads are never refused, whatever their marks
        HttpResponse<String> r = victim.send(victim.request(BRANCH).header("Origin", "http://evil.example")
                .header("Sec-Fetch-Site", "cross-site").GET().build());
        assertStatus(200, r);
    }

    /** The page itself, in the browser: a same-origin fetch() POST works. */
    @ParameterizedTest(autoCloseArguments = false)
    @MethodSource("browsers")
    void sameOriginFetchInTheBrowserWorks(Browser browser) throws Exception {
        browser.open(server.uri(BRANCH));
        Object status = browser.driver().executeAsyncScript(
                "const done = arguments[arguments.length - 1];"
                + "fetch('" + BRANCH + "', {method: 'POST', headers: {'Content-Type': 'application/json'},"
                + " body: '{\"branch\": {\"max_daily_tags\": 5}}'}).then(r => done(r.status), e => done('' + e));");
        assertEquals(200L, status);
        assertEquals(5, policy().get("max_daily_tags").asInt());
    }

    /** Behind a reverse proxy that terminates TLS: the public URL's origin is ours. */
    @Test
    void publicUrlOriginIsOurs() throws Exception {
        try (TestServer proxied = auth.start("DLREPO_PUBLIC_URL", "https://dlrepo.example.com/")) {
            Caller v = proxied.as("victim", "victim-pw");
            String body = "{\"branch\": {\"max_daily_tags\": 4}}";
            assertStatus(200, v.send(v.request(BRANCH).header("Origin", "https://dlrepo.example.com")
                    .header("Sec-Fetch-Site", "same-origin")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build()));
            assertError(v.send(v.request(BRANCH).header("Origin", "http://dlrepo.example.com")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build()), 403, "cross-site");
            assertError(v.send(v.request(BRANCH).header("Origin", "https://other.example.com")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build()), 403, "cross-site");
            // nginx passes the Host the browser sent (the raw request sends "Host: x"):
            // an Origin of that host is ours, on whatever port and scheme the proxy serves
            String resp = v.rawFull("POST", BRANCH, "Origin: https://x\r\n", body.getBytes());
            assertTrue(resp.startsWith("HTTP/1.1 200"), resp);
        }
    }
}
