package dlrepo.pages;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Browser;
import dlrepo.TarReader;
import dlrepo.TestServer;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.logging.LogEntry;

/**
 * Issue 12, the pages in a real browser (Debian's Chromium): clicking from {@code /} down
 * to a job and downloading what it holds, no console error or CSP violation on any page,
 * no horizontal overflow in dark mode and at phone width, the filter box of long tables,
 * and names, descriptions and metadata chosen by uploaders that never run as script.
 *
 * <p>Problems on a page are seen two ways: Chromium's console log (level SEVERE: script
 * errors, resources that failed to load, CSP violations), and a listener installed
 * through the DevTools protocol before any script of the page runs, which records
 * {@code error} events (scripts and resources) and {@code securitypolicyviolation} events.
 *
 * <p>With {@code -Ddlrepo.screenshots=<folder>} the screenshot test also writes its PNGs
 * there ({@code docs/screenshots} for the README); without, it only checks it can take them.
 */
class BrowserPagesTest {
    private static final String SCREENSHOTS = System.getProperty("dlrepo.screenshots", "");
    /** The page script's problems, recorded by a listener installed before the page's scripts. */
    private static final String LISTENER = """
            window.__dlrepoProblems = [];
            window.addEventListener('error', function (e) {
              var t = e.target;
              window.__dlrepoProblems.push(t && t !== window && t.tagName
                  ? 'failed to load ' + t.tagName + ' ' + (t.src || t.href)
                  : 'script error: ' + e.message + ' at ' + e.filename + ':' + e.lineno);
            }, true);
            window.addEventListener('unhandledrejection', function (e) {
              window.__dlrepoProblems.push('unhandled rejection: ' + e.reason);
            });
            document.addEventListener('securitypolicyviolation', function (e) {
              window.__dlrepoProblems.push('CSP violation: ' + e.violatedDirective + ' blocked '
                  + e.blockedURI + ' at ' + e.sourceFile + ':' + e.lineNumber);
            });
            """;

    // Long names and many metadata columns, for the layout at phone width.
    private static final String LONG_BRANCH = "feature-" + "very-long-branch-name-without-spaces-".repeat(5) + "end";
    private static final String LONG_TAG = "2026.11.30-nightly-" + "0123456789abcdef".repeat(4);
    private static final String LONG_JOB = "build-" + "x86_64-linux-gnu-with-every-option-enabled-".repeat(3) + "end";

    // What uploaders may choose (names hold no '/': see Names) that would run if not escaped.
    private static final String XSS_BRANCH = "<img src=x onerror=window.pwned=1>";
    private static final String XSS_TAG = "\"><svg onload=window.pwned=2>";
    private static final String XSS_JOB = "'><img src=x onerror=window.pwned=3>";
    private static final String XSS_DESCRIPTION = "<img src=x onerror=window.pwned=4>\"><script>window.pwned=5</script>";
    private static final Map<String, String> XSS_METADATA = new LinkedHashMap<>();

    static {
        XSS_METADATA.put("script", "\"><script>window.pwned=6</script>");
        XSS_METADATA.put("img", "<img src=x onerror=window.pwned=7>");
        XSS_METADATA.put("link", "javascript:window.pwned=8");
        XSS_METADATA.put("attr", "' onmouseover='window.pwned=9' x='");
    }

    private static final byte[] DEB = "a Debian package, or nearly\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] BIN = new byte[70_000];

    static {
        for (int i = 0; i < BIN.length; i++) {
            BIN[i] = (byte) (i * 31 + i / 256);
        }
    }

    private static TestServer s;
    private static Browser browser;

    @BeforeAll
    static void setUp() throws Exception {
        s = TestServer.start(Map.of("DLREPO_FSYNC", "0"));
        // what a project looks like: the screenshots and the click-through use it
        for (String tag : List.of("v2.3.0", "v2.3.1", "v2.4.0-rc1", "v2.4.0")) {
            for (String arch : List.of("x86_64", "aarch64")) {
                String job = "/branches/main/" + tag + "/build-" + arch + "/";
                upload(job + "deb/dlrepo-demo_" + tag.substring(1) + "_" + arch + ".deb", DEB);
                upload(job + "bin/tool", BIN);
                patch(job, "{\"job\": {\"arch\": \"" + arch + "\", \"os\": \"debian-12\", \"commit\": \"3f9c2e1b7a\","
                        + " \"pipeline\": \"https://ci.example.com/demo/pipelines/18" + arch.length() + "\"}}");
            }
            upload("/branches/main/" + tag + "/docs/doc/index.html", "<p>manual</p>".getBytes(StandardCharsets.UTF_8));
        }
        put("/branches/main/v2.4.0/build-x86_64/", "{\"job\": {\"locked\": true}}");
        post("/branches/main/v2.4.0/", "{\"tag\": {\"description\": \"Second minor release\", \"stable\": true,"
                + " \"locked\": true}}");
        post("/branches/main/v2.3.1/", "{\"tag\": {\"description\": \"Fixes a crash at start-up\", \"stable\": true}}");
        upload("/branches/stable/v2.3.1/build-x86_64/deb/pkg.deb", DEB);
        // a branch with 12 tags: its table gets a filter box
        for (int i = 0; i < 12; i++) {
            upload("/branches/many/v1." + i + "/job/bin/f", DEB);
        }
        // long names, many metadata columns, long values
        String job = "/branches/" + enc(LONG_BRANCH) + "/" + enc(LONG_TAG) + "/" + enc(LONG_JOB) + "/";
        upload(job + "bin/" + enc("a-file-with-a-rather-long-name-" + "x".repeat(120)), DEB);
        StringBuilder meta = new StringBuilder("{\"job\": {");
        for (int i = 0; i < 14; i++) {
            meta.append(i == 0 ? "" : ", ").append("\"metadata_key_number_").append(i).append("\": \"")
                    .append(i % 2 == 0 ? "https://ci.example.com/" + "a-long-path-segment/".repeat(6) + i
                            : "value with spaces " + i)
                    .append('"');
        }
        patch(job, meta.append("}}").toString());
        post("/branches/" + enc(LONG_BRANCH) + "/" + enc(LONG_TAG) + "/",
                "{\"tag\": {\"description\": \"" + "a-description-without-any-space-".repeat(8) + "\"}}");
        // payloads
        String xss = "/branches/" + enc(XSS_BRANCH) + "/" + enc(XSS_TAG) + "/" + enc(XSS_JOB) + "/";
        upload(xss + "bin/f", DEB);
        StringBuilder xmeta = new StringBuilder("{\"job\": {");
        XSS_METADATA.forEach((k, v) -> xmeta.append(xmeta.length() > 9 ? ", " : "").append(json(k)).append(": ")
                .append(json(v)));
        patch(xss, xmeta.append("}}").toString());
        post("/branches/" + enc(XSS_BRANCH) + "/" + enc(XSS_TAG) + "/",
                "{\"tag\": {\"description\": " + json(XSS_DESCRIPTION) + "}}");

        browser = Browser.start();
        // before any script of every page: the listener
        browser.driver().executeCdpCommand("Page.addScriptToEvaluateOnNewDocument", Map.of("source", LISTENER));
    }

    @AfterAll
    static void tearDown() throws Exception {
        try (Browser b = browser) {
            // closed
        } finally {
            if (s != null) {
                s.close();
            }
        }
    }

    @BeforeEach
    void desktop() {
        emulate(false, 1280, 900);
        consoleErrors(); // drops what earlier tests left
    }

    @AfterEach
    void noProblemsLeft() {
        emulate(false, 1280, 900);
    }

    // ------------------------------------------------------------------ helpers

    private static String enc(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String json(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static void upload(String path, byte[] data) throws Exception {
        assertStatus(201, s.upload(path, data));
        String[] p = path.split("/");
        String format = String.join("/", java.util.Arrays.copyOfRange(p, 0, 6)) + "/";
        assertStatus(200, s.send(s.request(format).method("PATCH",
                java.net.http.HttpRequest.BodyPublishers.noBody()).build()));
    }

    private static void patch(String path, String body) throws Exception {
        assertStatus(200, s.json("PATCH", path, body));
    }

    private static void put(String path, String body) throws Exception {
        assertStatus(200, s.json("PUT", path, body));
    }

    private static void post(String path, String body) throws Exception {
        assertStatus(200, s.json("POST", path, body));
    }

    /** Light or dark, and the viewport's size (mobile: a phone's, its viewport meta tag honoured). */
    private static void emulate(boolean dark, int width, int height) {
        var d = browser.driver();
        d.executeCdpCommand("Emulation.setEmulatedMedia", Map.of("features",
                List.of(Map.of("name", "prefers-color-scheme", "value", dark ? "dark" : "light"))));
        d.executeCdpCommand("Emulation.setDeviceMetricsOverride", Map.of("width", width, "height", height,
                "deviceScaleFactor", 1, "mobile", width < 600));
    }

    /** The SEVERE entries of the console since the last call. */
    private static List<String> consoleErrors() {
        List<String> errors = new ArrayList<>();
        for (LogEntry e : browser.driver().manage().logs().get("browser")) {
            if (e.getLevel().intValue() >= Level.SEVERE.intValue()) {
                errors.add(e.getMessage());
            }
        }
        return errors;
    }

    /** Opens {@code path} and checks that it loaded without any problem. */
    private static void open(String path) {
        browser.open(s.uri(path));
        assertClean(path);
    }

    /** Fails on a script error, a resource that failed, a CSP violation of the page shown. */
    @SuppressWarnings("unchecked")
    private static void assertClean(String what) {
        browser.until("the page loaded", () -> "complete".equals(browser.script("return document.readyState")));
        List<Object> problems = (List<Object>) browser.script("return window.__dlrepoProblems || ['no listener']");
        assertEquals(List.of(), problems, "problems on " + what + " (" + browser.url() + ")");
        List<String> errors = consoleErrors();
        // an error page: Chromium logs its status; anything else is a problem
        if (browser.driver().getTitle().matches("[45][0-9][0-9] · dlrepo")) {
            String status = browser.driver().getTitle().substring(0, 3);
            errors.removeIf(e -> e.equals(browser.url() + " - Failed to load resource: the server responded with a"
                    + " status of " + status + " (" + errorReason(status) + ")"));
        }
        assertEquals(List.of(), errors, "console errors on " + what + " (" + browser.url() + ")");
    }

    private static String errorReason(String status) {
        return switch (status) {
            case "401" -> "Unauthorized";
            case "403" -> "Forbidden";
            case "404" -> "Not Found";
            default -> "";
        };
    }

    /** The page's width in CSS pixels against the viewport's. */
    private static void assertNoHorizontalOverflow(String what, int width) {
        long scroll = ((Number) browser.script("return document.documentElement.scrollWidth")).longValue();
        long inner = ((Number) browser.script("return window.innerWidth")).longValue();
        assertEquals(width, inner, "viewport of " + what);
        assertTrue(scroll <= inner, what + ": scrollWidth " + scroll + " > innerWidth " + inner + " at " + width
                + " px" + widest());
    }

    /** For a failure message: the elements sticking out on the right. */
    private static String widest() {
        return "; wider than the viewport: " + browser.script("""
                var out = [];
                document.querySelectorAll('body *').forEach(function (e) {
                  var r = e.getBoundingClientRect();
                  if (r.right > window.innerWidth + 0.5 && out.length < 8) {
                    out.push(e.tagName + '.' + e.className + ' right=' + Math.round(r.right));
                  }
                });
                return out.join(', ');
                """);
    }

    /** Fetches {@code url} with the browser (its credentials, cache, everything) and returns the bytes. */
    private static byte[] fetchBytes(String url) {
        String b64 = (String) browser.script("""
                return fetch(arguments[0]).then(function (r) {
                  if (!r.ok) { throw new Error(r.status + ' ' + r.url); }
                  return r.arrayBuffer();
                }).then(function (buf) {
                  var bytes = new Uint8Array(buf), s = '';
                  for (var i = 0; i < bytes.length; i += 0x8000) {
                    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
                  }
                  return btoa(s);
                });
                """, url);
        return Base64.getDecoder().decode(b64);
    }

    private static void click(By by) {
        WebElement link = browser.await(by);
        String before = browser.url();
        link.click();
        browser.until("leaving " + before, () -> !browser.url().equals(before));
        assertClean(browser.url());
    }

    // ------------------------------------------------------------------ tests

    /** The checks themselves see what they should: otherwise every test below passes for nothing. */
    @Test
    void theChecksCatchProblems() {
        open("/branches/");
        browser.script("console.error('a console error')");
        assertTrue(consoleErrors().stream().anyMatch(e -> e.contains("a console error")), "console log read");
        // a CSP violation: an inline script the policy refuses
        browser.script("var e = document.createElement('script'); e.textContent = 'window.ran = 1';"
                + " document.body.appendChild(e);");
        browser.until("a CSP violation recorded", () -> !((List<?>) browser.script(
                "return window.__dlrepoProblems")).isEmpty());
        assertEquals(null, browser.script("return window.ran"), "the CSP blocks inline scripts");
        assertTrue(consoleErrors().stream().anyMatch(e -> e.contains("Content Security Policy")),
                "CSP violation in the console log");
        // an uncaught script error
        open("/branches/");
        browser.script("setTimeout(function () { throw new Error('boom'); }, 0)");
        // (the listener sees it muted, "Script error.": WebDriver's scripts have no origin; the page's own are whole)
        browser.until("a script error recorded", () -> String.valueOf(browser.script(
                "return window.__dlrepoProblems")).contains("script error"));
        assertTrue(consoleErrors().stream().anyMatch(e -> e.contains("boom")), "script error in the console log");
        // an element wider than the phone's screen
        emulate(false, 375, 800);
        open("/branches/");
        browser.script("var d = document.createElement('div'); d.style.width = '600px'; d.textContent = 'x';"
                + " document.querySelector('main').appendChild(d);");
        assertThrows(() -> assertNoHorizontalOverflow("a page made wide", 375));
        // dark mode is really on
        emulate(true, 1280, 900);
        open("/branches/");
        assertEquals("rgb(21, 24, 27)", browser.script("return getComputedStyle(document.body).backgroundColor"));
    }

    private static void assertThrows(Runnable r) {
        org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class, r::run);
    }

    @Test
    void clickDownToAJobAndDownloadItsFormatAndAFile() throws Exception {
        open("/");
        assertEquals("Home · dlrepo", browser.driver().getTitle());
        click(By.linkText("Branches"));
        assertEquals("Branches · dlrepo", browser.driver().getTitle());
        click(By.linkText("main"));
        assertEquals("Branch main · dlrepo", browser.driver().getTitle());
        String policy = browser.text(By.cssSelector("p.policy"));
        assertTrue(policy.startsWith("Cleanup policy: all daily tags, all released tags kept. "), policy);
        click(By.linkText("v2.4.0"));
        assertEquals("Tag v2.4.0 · dlrepo", browser.driver().getTitle());
        click(By.linkText("build-aarch64"));
        assertEquals("Job build-aarch64 · dlrepo", browser.driver().getTitle());
        assertEquals(s.uri("/branches/main/v2.4.0/build-aarch64/").toString(), browser.url());

        // the format's archive, as the link on the page gives it
        String tarUrl = browser.await(By.linkText("deb.tar")).getAttribute("href");
        assertEquals(s.uri("/branches/main/v2.4.0/build-aarch64/deb.tar").toString(), tarUrl);
        byte[] tar = fetchBytes(tarUrl);
        List<TarReader.Member> members = TarReader.read(tar);
        TarReader.Member deb = members.stream().filter(m -> m.name().endsWith("dlrepo-demo_2.4.0_aarch64.deb"))
                .findFirst().orElseThrow(() -> new AssertionError("no .deb in " + members));
        assertArrayEquals(DEB, deb.data());
        assertArrayEquals(s.getBytes("/branches/main/v2.4.0/build-aarch64/deb.tar").body(), tar,
                "the browser gets the archive curl gets");
        // the job's archive from the tag page, and a binary file by its URL
        browser.driver().navigate().back();
        assertClean("the tag page again");
        String jobTar = browser.await(By.linkText("build-aarch64.tar")).getAttribute("href");
        List<TarReader.Member> all = TarReader.read(fetchBytes(jobTar));
        assertTrue(all.stream().anyMatch(m -> m.name().endsWith("bin/tool") && java.util.Arrays.equals(BIN, m.data())),
                () -> "bin/tool in " + all);
        assertArrayEquals(BIN, fetchBytes("/branches/main/v2.4.0/build-aarch64/bin/tool"));
        // the checksums link
        browser.open(s.uri("/branches/main/v2.4.0/build-aarch64/"));
        String sums = new String(fetchBytes(browser.await(By.linkText("deb.sha256")).getAttribute("href")),
                StandardCharsets.UTF_8);
        assertTrue(sums.contains(TestServer.digest(DEB).substring("sha256:".length())), sums);
    }

    /** Every level, light and dark, on a desktop and at 375 px: no console error, nothing wider than the screen. */
    @Test
    void noOverflowAndNoErrorsLightDarkDesktopAndPhone() {
        String tag = "/branches/" + enc(LONG_BRANCH) + "/" + enc(LONG_TAG) + "/";
        List<String> pages = List.of("/", "/branches/", "/branches/main/", "/branches/main/v2.4.0/",
                "/branches/main/v2.4.0/build-x86_64/", "/branches/many/", "/branches/" + enc(LONG_BRANCH) + "/",
                tag, tag + enc(LONG_JOB) + "/", "/branches/" + enc(LONG_BRANCH + "-missing") + "/",
                "/branches/" + enc(XSS_BRANCH) + "/" + enc(XSS_TAG) + "/" + enc(XSS_JOB) + "/");
        for (boolean dark : new boolean[] {false, true}) {
            for (int width : new int[] {1280, 375}) {
                emulate(dark, width, width < 600 ? 800 : 900);
                for (String page : pages) {
                    String what = page + (dark ? " dark" : " light") + " at " + width + " px";
                    browser.open(s.uri(page));
                    assertClean(what);
                    assertNoHorizontalOverflow(what, width);
                    assertEquals(dark ? "rgb(21, 24, 27)" : "rgb(255, 255, 255)",
                            browser.script("return getComputedStyle(document.body).backgroundColor"), what);
                }
            }
        }
    }

    /**
     * On a desktop (1000 px), the cells of a table with room to spare keep their short words
     * whole ({@code aarch64}, a commit hash; a line may still break after a hyphen): only
     * values too long for the screen break inside a word, and a
     * table still too wide scrolls in its own box (the test above).
     */
    @Test
    void tablesWithRoomKeepWordsWhole() {
        for (String page : List.of("/branches/main/v2.4.0/", "/branches/main/v2.4.0/build-x86_64/", "/branches/",
                "/branches/main/")) {
            emulate(false, 1000, 700);
            open(page);
            assertEquals(List.of(), browser.script("""
                    var split = [];
                    document.querySelectorAll('main td, main th').forEach(function (cell) {
                      var walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
                      for (var n = walk.nextNode(); n; n = walk.nextNode()) {
                        var word = n.data.trim();
                        if (!word || /[\\s-]/.test(word) || word.length > 30) continue;
                        var r = document.createRange();
                        r.selectNodeContents(n);
                        var lines = new Set(Array.prototype.map.call(r.getClientRects(), function (x) {
                          return Math.round(x.top);
                        }));
                        if (lines.size > 1) split.push(n.data.trim() + ' on ' + lines.size + ' lines');
                      }
                    });
                    return split;
                    """), "words broken in the cells of " + page + " at 1000 px");
        }
    }

    /** The long tables: a filter box above 10 rows or more, hiding the rows that don't match. */
    @Test
    void aLongTableGetsAFilterBoxThatFilters() {
        open("/branches/many/");
        WebElement filter = browser.await(By.cssSelector("input.filter"));
        assertEquals("Filter 12 rows", filter.getAttribute("placeholder"));
        filter.sendKeys("v1.1");
        // v1.1, v1.10, v1.11
        browser.until("3 rows shown", () -> visibleRows() == 3);
        filter.sendKeys("0");
        browser.until("1 row shown", () -> visibleRows() == 1);
        assertEquals("v1.10", browser.script(
                "return Array.prototype.filter.call(document.querySelectorAll('tbody tr'), r => !r.hidden)"
                        + "[0].querySelector('a').textContent"));
        filter.clear();
        filter.sendKeys(" ");
        browser.until("all rows back", () -> visibleRows() == 12);
        // a short table has none
        open("/branches/main/");
        assertEquals(0L, browser.script("return document.querySelectorAll('input.filter').length"));
        // copy buttons on the commands of a job (navigator.clipboard exists on http://127.0.0.1)
        open("/branches/main/v2.4.0/build-x86_64/");
        assertEquals(2L, browser.script("return document.querySelectorAll('pre.cmd button.copy').length"));
    }

    private static long visibleRows() {
        return (Long) browser.script("return Array.prototype.filter.call(document.querySelectorAll('tbody tr'),"
                + " r => !r.hidden && r.offsetParent !== null).length");
    }

    /**
     * Names, a description and metadata holding markup and a {@code javascript:} URL: shown
     * as text on every page, never an element, never run (no flag set by a payload).
     */
    @Test
    void namesDescriptionsAndMetadataNeverRun() {
        String branch = "/branches/" + enc(XSS_BRANCH) + "/";
        String tag = branch + enc(XSS_TAG) + "/";
        String job = tag + enc(XSS_JOB) + "/";
        Map<String, List<String>> shown = new LinkedHashMap<>();
        shown.put("/branches/", List.of(XSS_BRANCH, XSS_TAG));
        shown.put(branch, List.of(XSS_BRANCH, XSS_TAG, XSS_DESCRIPTION));
        shown.put(tag, List.of(XSS_TAG, XSS_JOB, XSS_DESCRIPTION, XSS_METADATA.get("script"),
                XSS_METADATA.get("img"), XSS_METADATA.get("link"), XSS_METADATA.get("attr")));
        shown.put(job, List.of(XSS_JOB, XSS_METADATA.get("script"), XSS_METADATA.get("img"),
                XSS_METADATA.get("link"), XSS_METADATA.get("attr")));
        shown.put(branch + enc(XSS_TAG + "-nope") + "/", List.of(XSS_TAG + "-nope"));
        for (Map.Entry<String, List<String>> e : shown.entrySet()) {
            String page = e.getKey();
            browser.open(s.uri(page));
            assertClean(page);
            // hovering and clicking every cell and link would run what an attribute might hold
            browser.script("document.querySelectorAll('td, th, h1, p, a, span').forEach(function (el) {"
                    + " ['mouseover', 'focus'].forEach(function (t) { el.dispatchEvent(new Event(t)); }); });");
            assertEquals(null, browser.script("return window.pwned === undefined ? null : window.pwned"),
                    "a payload ran on " + page);
            assertEquals(List.of(), browser.script("""
                    var bad = [];
                    document.querySelectorAll('*').forEach(function (el) {
                      for (var i = 0; i < el.attributes.length; i++) {
                        var a = el.attributes[i];
                        if (/^on/i.test(a.name)) bad.push(el.tagName + ' ' + a.name + '=' + a.value);
                        if (/^\\s*javascript:/i.test(a.value)) bad.push(el.tagName + ' ' + a.name + '=' + a.value);
                      }
                    });
                    document.querySelectorAll('svg, iframe, object, embed').forEach(function (el) {
                      bad.push('injected ' + el.tagName);
                    });
                    Array.prototype.forEach.call(document.images, function (i) {
                      if (!/\\/static\\/favicon\\.svg$/.test(i.src)) bad.push('injected img ' + i.src);
                    });
                    Array.prototype.forEach.call(document.scripts, function (sc) {
                      if (!/\\/static\\/dlrepo\\.js$/.test(sc.src)) bad.push('injected script ' + sc.outerHTML);
                    });
                    return bad;
                    """), "elements or attributes from a payload on " + page);
            String text = (String) browser.script("return document.body.textContent");
            for (String payload : e.getValue()) {
                // names are shown lower-cased (their canonical form)
                assertTrue(text.contains(payload) || text.contains(payload.toLowerCase(java.util.Locale.ROOT)),
                        () -> "'" + payload + "' shown as text on " + page + ": " + text);
            }
        }
        // the links to the payload levels lead to them (names encoded in the URLs)
        open("/branches/");
        click(By.linkText(XSS_BRANCH));
        assertEquals(s.uri(branch).toString(), browser.url());
        click(By.linkText(XSS_TAG));
        click(By.linkText(XSS_JOB));
        assertEquals(s.uri(job).toString(), browser.url());
        assertEquals(null, browser.script("return window.pwned === undefined ? null : window.pwned"));
    }

    /**
     * Screenshots of the home, branch, tag and job pages, light and dark: checked always,
     * written to the folder of {@code -Ddlrepo.screenshots} when set (the README shows them).
     */
    @Test
    void screenshots() throws IOException {
        Map<String, String> pages = new LinkedHashMap<>();
        pages.put("home", "/");
        pages.put("branches", "/branches/");
        pages.put("branch", "/branches/main/");
        pages.put("tag", "/branches/main/v2.4.0/");
        pages.put("job", "/branches/main/v2.4.0/build-x86_64/");
        for (boolean dark : new boolean[] {false, true}) {
            for (Map.Entry<String, String> p : pages.entrySet()) {
                if (p.getKey().equals("branches")) {
                    continue; // it lists the branches of the other tests
                }
                emulate(dark, 1000, 700);
                open(p.getValue());
                long height = ((Number) browser.script("return document.documentElement.scrollHeight")).longValue();
                emulate(dark, 1000, (int) Math.max(300, Math.min(height, 1400)));
                open(p.getValue());
                Map<String, Object> shot = browser.driver().executeCdpCommand("Page.captureScreenshot",
                        Map.of("format", "png"));
                byte[] png = Base64.getDecoder().decode((String) shot.get("data"));
                assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', p.getKey());
                if (!SCREENSHOTS.isEmpty()) {
                    Path dir = Path.of(SCREENSHOTS);
                    Files.createDirectories(dir);
                    Files.write(dir.resolve(p.getKey() + (dark ? "-dark" : "") + ".png"), png);
                }
            }
        }
        assertFalse(pages.isEmpty());
    }
}
