package dlrepo.security;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.Browser;
import dlrepo.Caller;
import dlrepo.Check;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import dlrepo.pages.ImagePusher;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.openqa.selenium.By;

/**
 * Issue 11, item 3: a page uploaded by one user, opened by another in a real browser,
 * must not act with the viewer's credentials. Mallory may add only under
 * {@code /branches/sandbox/}; the victim may do everything. Mallory uploads HTML and SVG
 * whose scripts try to write, change and delete under {@code /branches/main/} (and to
 * read it); the victim, logged in (Chromium keeps her Basic credentials), opens them.
 * Uploaded files are served in a sandbox (an opaque origin: requests to the daemon are
 * cross-origin, and the cross-site guard refuses the ones that need no preflight).
 * Documentation sites still render, with their stylesheets, scripts, images and links.
 */
class StoredXssTest {
    private static final String SECRET = "secret release notes of main";
    private static final String MAIN_FILE = "/branches/main/t1/j1/bin/notes.txt";
    private static final String SANDBOX = "/branches/sandbox/t1/j1/doc/";
    private static final String PWNED = "pwned";

    private static TestAuth auth;
    private static TestServer server;
    private static Caller victim;
    private static Caller mallory;
    /** Debian's Chromium as it comes, and one set up like Google Chrome's defaults. */
    private static Browser strict;
    private static Browser chrome;

    @BeforeAll
    static void setUp() throws Exception {
        auth = new TestAuth()
                .user("mallory", "mallory-pw", "mallory").acl("mallory", "ra /branches/sandbox/**", "ra /v2/sandbox/**")
                .user("victim", "victim-pw", "victim").acl("victim", "rw /**")
                .acl("ANONYMOUS", "r /branches/public/**");
        server = auth.start();
        victim = server.as("victim", "victim-pw");
        mallory = server.as("mallory", "mallory-pw");
        victim.uploadFinalized(MAIN_FILE, SECRET);
        // what mallory's page would do with her own credentials: refused
        assertStatus(403, mallory.upload("/branches/main/t1/j1/bin/" + PWNED + ".txt", PWNED));
        strict = Browser.start();
        chrome = Browser.withThirdPartyCookies();
        for (Browser b : browsers()) {
            b.signIn(server, "victim", "victim-pw");
        }
    }

    static List<Browser> browsers() {
        return List.of(strict, chrome);
    }

    /** Puts back what an attack that succeeded changed (so that each test fails on its own). */
    @BeforeEach
    void restore() throws Exception {
        if (victim.get(MAIN_FILE).statusCode() == 404) {
            victim.uploadFinalized(MAIN_FILE, SECRET);
        }
        assertStatus(200, victim.json("POST", "/branches/main/",
                "{\"branch\": {\"max_daily_tags\": 0, \"max_released_tags\": 0}}"));
    }

    @AfterAll
    static void tearDown() throws IOException {
        try (Browser a = strict; Browser b = chrome) {
            // closed
        } finally {
            if (server != null) {
                server.close();
            }
            if (auth != null) {
                auth.close();
            }
        }
    }

    /**
     * Everything a script could try with the viewer's credentials, each attempt aimed at
     * its own target so that any success shows on disk; the outcome of each goes to the
     * element {@code #log}, then the root element gets {@code data-done}.
     */
    private static String attackScript() {
        String digest = TestServer.digest(PWNED);
        return """
                const bin = '/branches/main/t1/j1/bin/';
                const body = '%s';
                const digest = '%s';
                const results = [];
                async function attempt(name, f) {
                  try {
                    const r = await f();
                    let text = '';
                    try { text = await r.text(); } catch (e) { text = 'unreadable'; }
                    results.push(name + ': ' + (r.type === 'opaque' ? 'opaque' : r.status) + ' ' + text);
                  } catch (e) {
                    results.push(name + ': failed ' + e);
                  }
                }
                function xhr(method, url, data, headers) {
                  return new Promise(resolve => {
                    const x = new XMLHttpRequest();
                    x.open(method, url);
                    for (const [k, v] of Object.entries(headers)) x.setRequestHeader(k, v);
                    x.onload = () => resolve({type: 'basic', status: x.status, text: async () => x.responseText});
                    x.onerror = () => resolve({type: 'basic', status: 'network error', text: async () => ''});
                    x.send(data);
                  });
                }
                (async () => {
                  await attempt('read', () => fetch(bin + 'notes.txt', {credentials: 'include'}));
                  await attempt('put', () => fetch(bin + 'pwned-put.txt',
                      {method: 'PUT', headers: {'Digest': digest}, body: body}));
                  await attempt('put with credentials', () => fetch(bin + 'pwned-put-credentials.txt',
                      {method: 'PUT', credentials: 'include', headers: {'Digest': digest}, body: body}));
                  await attempt('xhr put', () => xhr('PUT', bin + 'pwned-xhr.txt', body, {'Digest': digest}));
                  await attempt('post json', () => fetch('/branches/main/', {method: 'POST',
                      headers: {'Content-Type': 'application/json'}, body: '{"branch": {"max_daily_tags": 1}}'}));
                  await attempt('post no-cors', () => fetch('/branches/main/', {method: 'POST', mode: 'no-cors',
                      credentials: 'include', body: '{"branch": {"max_daily_tags": 2}}'}));
                  await attempt('delete', () => fetch('/branches/main/t1/j1/', {method: 'DELETE',
                      credentials: 'include'}));
                  document.getElementById('log').textContent = results.join('\\n');
                  document.documentElement.setAttribute('data-done', 'yes');
                })();
                """.formatted(PWNED, digest);
    }

    @ParameterizedTest(autoCloseArguments = false)
    @MethodSource("browsers")
    void uploadedHtmlCannotActAsTheViewer(Browser browser) throws Exception {
        String page = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>hello</title></head>"
                + "<body><pre id=\"log\"></pre><script>" + attackScript() + "</script></body></html>\n";
        attack(browser, "evil.html", page);
    }

    @ParameterizedTest(autoCloseArguments = false)
    @MethodSource("browsers")
    void uploadedSvgCannotActAsTheViewer(Browser browser) throws Exception {
        String svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"100\">"
                + "<text id=\"log\" x=\"0\" y=\"20\">...</text>"
                + "<script><![CDATA[" + attackScript() + "]]></script></svg>\n";
        attack(browser, "evil.svg", svg);
    }

    private void attack(Browser browser, String name, String content) throws Exception {
        assertStatus(201, mallory.upload(SANDBOX + name, content));
        Map<String, String> before = snapshot();
        JsonNode policy = victim.ok("/branches/main/").get("branch").get("cleanup_policy");

        browser.open(server.uri(SANDBOX + name));
        browser.await(By.cssSelector("[data-done]"));
        String log = (String) browser.script("return document.getElementById('log').textContent");

        assertEquals(before, snapshot(), () -> "the page changed /branches/main/ on disk; its log:\n" + log);
        for (String f : new String[] {"pwned-put.txt", "pwned-put-credentials.txt", "pwned-xhr.txt"}) {
            assertStatus(404, victim.get("/branches/main/t1/j1/bin/" + f));
        }
        assertEquals(SECRET, victim.get(MAIN_FILE).body());
        assertEquals(policy, victim.ok("/branches/main/").get("branch").get("cleanup_policy"), log);
        assertFalse(log.contains(SECRET), () -> "the page read a file of main with the viewer's credentials:\n" + log);
        // the script did run (the sandbox keeps scripts): it wrote its log
        assertTrue(log.contains("put:") && log.contains("read:"), log);
    }

    /** A page's form (allowed in the sandbox for search boxes) posting to the API: refused. */
    @ParameterizedTest(autoCloseArguments = false)
    @MethodSource("browsers")
    void uploadedPageCannotPostAFormAsTheViewer(Browser browser) throws Exception {
        String page = "<!DOCTYPE html>\n<html><body>"
                + "<form id=\"f\" method=\"post\" enctype=\"text/plain\" action=\"/branches/main/\">"
                + "<input name='{\"branch\": {\"max_daily_tags\": 3, \"x\": \"' value='\"}}'></form>"
                + "<script>document.getElementById('f').submit();</script></body></html>\n";
        assertStatus(201, mallory.upload(SANDBOX + "form.html", page));
        Map<String, String> before = snapshot();
        JsonNode policy = victim.ok("/branches/main/").get("branch").get("cleanup_policy");

        browser.open(server.uri(SANDBOX + "form.html"));
        browser.until("the form's answer", () -> browser.url().endsWith("/branches/main/"));
        String answer = browser.text(By.tagName("body"));

        assertEquals(policy, victim.ok("/branches/main/").get("branch").get("cleanup_policy"), answer);
        assertEquals(before, snapshot());
        assertTrue(answer.contains("cross-site"), answer);
    }

    /** Uploads a small documentation site into the format folder {@code doc} ("/.../doc/"). */
    private static void uploadDocs(String doc) throws Exception {
        for (var f : Map.of(
                "index.html", """
                        <!DOCTYPE html>
                        <html><head><meta charset="utf-8"><title>Manual</title>
                        <link rel="stylesheet" href="_static/style.css"></head>
                        <body><h1 id="title">Manual</h1>
                        <p id="dynamic">static text</p>
                        <p id="inline">static text</p>
                        <img id="logo" src="_static/logo.png" alt="logo">
                        <a id="next" href="chapter/one.html">Chapter one</a>
                        <form id="search" action="search.html" method="get"><input name="q" value="install"></form>
                        <script>document.getElementById('inline').textContent = 'written inline';</script>
                        <script src="_static/app.js"></script>
                        </body></html>
                        """,
                "_static/style.css", "body { background-color: rgb(1, 2, 3); }\n#title { color: rgb(200, 100, 50); }\n",
                "_static/app.js", "document.getElementById('dynamic').textContent = 'written by app.js';\n",
                "chapter/one.html", """
                        <!DOCTYPE html>
                        <html><head><meta charset="utf-8"><title>Chapter one</title>
                        <link rel="stylesheet" href="../_static/style.css"></head>
                        <body><h1 id="title">One</h1><a id="up" href="../index.html">Back</a></body></html>
                        """,
                "search.html", """
                        <!DOCTYPE html>
                        <html><head><meta charset="utf-8"><title>Search</title></head>
                        <body><p id="query"></p><script>
                        document.getElementById('query').textContent = new URLSearchParams(location.search).get('q');
                        </script></body></html>
                        """).entrySet()) {
            assertStatus(201, victim.upload(doc + f.getKey(), f.getValue()));
        }
        assertStatus(201, victim.upload(doc + "_static/logo.png", png(3, 2)));
    }

    /**
     * A documentation site (HTML, a stylesheet, a script changing the page, an image, a
     * link to a sub-page, a search form) renders fully in the sandbox: {@code doc} is
     * readable without logging in, or the browser sends the viewer's credentials with the
     * requests of a sandboxed page.
     */
    private static void assertDocsWork(Browser browser, String doc) {
        browser.open(server.uri(doc + "index.html"));
        assertEquals("Manual", browser.driver().getTitle());
        assertEquals("written inline", browser.text(By.id("inline")));
        assertEquals("written by app.js", browser.text(By.id("dynamic")));
        assertEquals("rgb(1, 2, 3)", browser.script("return getComputedStyle(document.body).backgroundColor"));
        assertEquals("rgb(200, 100, 50)",
                browser.script("return getComputedStyle(document.getElementById('title')).color"));
        browser.until("the image", () -> Boolean.TRUE.equals(browser.script(
                "const i = document.getElementById('logo'); return i.complete && i.naturalWidth > 0")));
        assertEquals(3L, browser.script("return document.getElementById('logo').naturalWidth"));

        browser.driver().findElement(By.id("next")).click();
        browser.until("chapter one", () -> browser.url().endsWith(doc + "chapter/one.html"));
        assertEquals("One", browser.text(By.id("title")));
        assertEquals("rgb(1, 2, 3)", browser.script("return getComputedStyle(document.body).backgroundColor"));
        browser.driver().findElement(By.id("up")).click();
        browser.until("back to the index", () -> browser.url().endsWith(doc + "index.html"));

        browser.script("document.getElementById('search').submit()");
        browser.until("the search page", () -> browser.url().contains(doc + "search.html?q=install"));
        assertEquals("install", browser.text(By.id("query")));
    }

    @ParameterizedTest(autoCloseArguments = false)
    @MethodSource("browsers")
    void publicDocumentationSiteWorks(Browser browser) throws Exception {
        String doc = "/branches/public/t1/" + Check.unique("docs") + "/doc/";
        uploadDocs(doc);
        assertDocsWork(browser, doc);
    }

    /** Private documentation, in a browser set up like Google Chrome's defaults. */
    @Test
    void privateDocumentationSiteWorksWithChromeDefaults() throws Exception {
        String doc = "/branches/main/t1/" + Check.unique("docs") + "/doc/";
        uploadDocs(doc);
        assertDocsWork(chrome, doc);
    }

    /**
     * The limit of the sandbox, as dlrepo-api(7) documents it: a browser that blocks
     * third-party cookies (Debian's Chromium, Safari, Firefox's strict mode...) sends no
     * credentials with the requests of a sandboxed page. Documentation that needs a login
     * then shows its text and runs its inline scripts, without its stylesheets, scripts
     * and images. If this test fails, browsers changed: update the manual.
     */
    @Test
    void privateDocumentationInABrowserBlockingThirdPartyCookies() throws Exception {
        String doc = "/branches/main/t1/" + Check.unique("docs") + "/doc/";
        uploadDocs(doc);
        strict.open(server.uri(doc + "index.html"));
        assertEquals("Manual", strict.driver().getTitle());
        assertEquals("written inline", strict.text(By.id("inline")));
        assertEquals("static text", strict.text(By.id("dynamic")));
        assertEquals("rgba(0, 0, 0, 0)", strict.script("return getComputedStyle(document.body).backgroundColor"));
    }

    private static final String CSP = "sandbox allow-scripts allow-forms allow-popups"
            + " allow-popups-to-escape-sandbox allow-downloads";

    private static void assertUntrusted(HttpResponse<?> r) {
        String what = r.request().method() + " " + r.uri() + " (" + r.statusCode() + ")";
        assertEquals(CSP, r.headers().firstValue("Content-Security-Policy").orElse(null), what);
        assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(null), what);
    }

    /** Every way a file goes out carries the sandbox; the daemon's own answers do not. */
    @Test
    void everyUploadedFileIsServedSandboxed() throws Exception {
        String job = "/branches/main/t1/" + Check.unique("headers") + "/";
        assertStatus(201, victim.upload(job + "doc/page.html", "<p>hello</p>"));
        HttpResponse<String> get = victim.get(job + "doc/page.html");
        assertStatus(200, get);
        assertUntrusted(get);
        assertEquals("text/html; charset=utf-8", get.headers().firstValue("Content-Type").orElse(null));
        assertUntrusted(victim.head(job + "doc/page.html"));
        String etag = get.headers().firstValue("ETag").orElseThrow();
        HttpResponse<String> cached = victim.send(victim.request(job + "doc/page.html")
                .header("If-None-Match", etag).GET().build());
        assertStatus(304, cached);
        assertUntrusted(cached);
        HttpResponse<String> range = victim.send(victim.request(job + "doc/page.html")
                .header("Range", "bytes=0-2").GET().build());
        assertStatus(206, range);
        assertUntrusted(range);

        // types: a module script is a script; an unknown extension is only downloaded
        assertStatus(201, victim.upload(job + "doc/app.mjs", "export {};"));
        assertEquals("text/javascript; charset=utf-8",
                victim.get(job + "doc/app.mjs").headers().firstValue("Content-Type").orElse(null));
        assertStatus(201, victim.upload(job + "doc/page.unknown", "<script>alert(1)</script>"));
        HttpResponse<String> unknown = victim.get(job + "doc/page.unknown");
        assertEquals("application/octet-stream", unknown.headers().firstValue("Content-Type").orElse(null));
        assertUntrusted(unknown);

        // through /products/
        assertStatus(200, victim.json("PATCH", job, "{\"job\": {\"product\": \"acme\", \"product_variant\": \"std\","
                + " \"product_branch\": \"main\", \"version\": \"1.0\"}}"));
        HttpResponse<String> product = victim.get("/products/acme/std/main/1.0/doc/page.html");
        assertStatus(200, product);
        assertUntrusted(product);

        // the registry: blobs, and manifests (whose media type the pusher chose)
        byte[] config = "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String digest = TestServer.digest(config);
        assertStatus(201, victim.send(victim.request("/v2/team/app/blobs/uploads/?digest=" + digest)
                .header("Content-Type", "application/octet-stream")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(config)).build()));
        String manifest = "{\"schemaVersion\": 2, \"mediaType\": \"text/html\", \"config\": {\"mediaType\":"
                + " \"application/vnd.oci.image.config.v1+json\", \"digest\": \"" + digest + "\", \"size\": 2},"
                + " \"layers\": [], \"annotations\": {\"x\": \"<script>alert(1)</script>\"}}";
        assertStatus(201, victim.put("/v2/team/app/manifests/v1", manifest.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "Content-Type", "application/vnd.oci.image.manifest.v1+json"));
        HttpResponse<String> m = victim.get("/v2/team/app/manifests/v1");
        assertStatus(200, m);
        assertUntrusted(m);
        HttpResponse<String> blob = victim.get("/v2/team/app/blobs/" + digest);
        assertStatus(200, blob);
        assertUntrusted(blob);

        // the daemon's own answers, and errors, are not sandboxed
        for (HttpResponse<String> own : List.of(victim.get(job), victim.get(job + "doc/missing.html"),
                victim.send(victim.request(job + "doc/page.html").header("Range", "bytes=99-").GET().build()))) {
            assertFalse(own.headers().firstValue("Content-Security-Policy").isPresent(), own.uri().toString());
        }
    }

    /**
     * With DLREPO_X_SENDFILE_HEADER the reverse proxy sends the body, and the answer's
     * headers (etc/nginx.conf puts these back, nginx drops them on X-Accel-Redirect).
     */
    @Test
    void sendfileAnswersCarryTheSandbox() throws Exception {
        try (TestServer s = TestServer.start(Map.of("DLREPO_X_SENDFILE_HEADER", "X-Accel-Redirect"))) {
            assertStatus(201, s.upload("/branches/main/t/j/doc/page.html", "<p>hello</p>"));
            HttpResponse<String> r = s.get("/branches/main/t/j/doc/page.html");
            assertStatus(200, r);
            assertTrue(r.headers().firstValue("X-Accel-Redirect").isPresent());
            assertUntrusted(r);
        }
    }

    /** Every file and its content under {@code branches/main/} (symlinks by target). */
    /** What mallory chooses in an image she pushes: platform names, artifact types, annotations. */
    private static final String IMAGE_OS = "<img src=x onerror=window.pwned=21>";
    private static final String IMAGE_VARIANT = "\"><script>window.pwned=22</script>";
    private static final String ARTIFACT_TYPE = "application/x-<img src=x onerror=window.pwned=23>";
    private static final String ANNOTATION_KEY = "x<svg onload=window.pwned=24>";
    private static final String ANNOTATION = "' onmouseover='window.pwned=25' x='<script>window.pwned=26</script>";
    private static boolean imagePushed;

    private static synchronized void pushMarkupImage() throws Exception {
        if (imagePushed) {
            return;
        }
        ImagePusher push = new ImagePusher(server, Caller.basicHeader("mallory", "mallory-pw"), "sandbox/img");
        ObjectNode child = push.manifest(null, push.image("linux", "amd64", null));
        ObjectNode index = ImagePusher.JSON.createObjectNode().put("schemaVersion", 2)
                .put("mediaType", ImagePusher.OCI_INDEX);
        ObjectNode entry = child.deepCopy();
        entry.putObject("platform").put("os", IMAGE_OS).put("architecture", "amd64").put("variant", IMAGE_VARIANT);
        index.putArray("manifests").add(entry);
        ObjectNode top = push.manifest("t2", index);
        push.artifact(top, ARTIFACT_TYPE, "report", ANNOTATION_KEY, ANNOTATION,
                "org.opencontainers.image.created", "<img src=x onerror=window.pwned=27>");
        imagePushed = true;
    }

    /**
     * Issue 16: the job page of an image shows what its pusher chose (platform names,
     * artifact types, annotations) as text: no markup of hers runs in the viewer's page.
     */
    @ParameterizedTest(autoCloseArguments = false)
    @MethodSource("browsers")
    void containerImageStringsShowAsText(Browser browser) throws Exception {
        pushMarkupImage();
        browser.open(server.uri("/branches/sandbox/t2/img/"));
        browser.await(By.id("container-image"));
        String platforms = browser.text(By.cssSelector("table.platforms tbody"));
        assertTrue(platforms.contains(IMAGE_OS + "/amd64/" + IMAGE_VARIANT), platforms);
        assertEquals(ARTIFACT_TYPE, browser.text(By.cssSelector("h3.artifacts")));
        String artifacts = browser.text(By.cssSelector("table.artifacts tbody"));
        for (String t : List.of(ARTIFACT_TYPE, ANNOTATION_KEY + ": " + ANNOTATION,
                "<img src=x onerror=window.pwned=27>")) {
            assertTrue(artifacts.contains(t), t + " in " + artifacts);
        }
        assertEquals(0L, browser.script("return document.querySelectorAll('main img, main script, main svg').length"));
        assertEquals("undefined", browser.script("return typeof window.pwned"));
    }

    private static Map<String, String> snapshot() throws IOException {
        Path main = server.root().resolve("branches/main");
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(main)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String key = main.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    m.put(key, "-> " + Files.readSymbolicLink(p));
                } else if (Files.isRegularFile(p)) {
                    m.put(key, TestServer.digest(Files.readAllBytes(p)));
                } else {
                    m.put(key, "/");
                }
            }
        }
        return m;
    }

    static byte[] png(int width, int height) throws IOException {
        var img = new java.awt.image.BufferedImage(width, height, java.awt.image.BufferedImage.TYPE_INT_RGB);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        javax.imageio.ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    static {
        // ImageIO without a display
        System.setProperty("java.awt.headless", "true");
    }
}
