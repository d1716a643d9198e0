package dlrepo.pages;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dlrepo.TestServer;
import dlrepo.views.Pages;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Issue 12, site customization: DLREPO_TEMPLATES_DIR replaces one template or extends the
 * built-in layout, a broken override is reported with its file and line and the built-in
 * one is used, DLREPO_STATIC_DIR replaces a file of /static/.
 */
class OverridesTest {
    @TempDir
    Path dir;

    static HttpResponse<String> page(TestServer s, String path) throws Exception {
        return s.send(s.request(path).header("Accept", FormatPagesTest.ACCEPT).GET().build());
    }

    private TestServer start(Map<String, String> env) throws Exception {
        TestServer s = TestServer.start(env);
        s.uploadFinalized("/branches/main/v1/build/deb/pkg.deb", "deb");
        return s;
    }

    @Test
    void oneTemplateReplacesTheBuiltInOne() throws Exception {
        Path t = Files.createDirectories(dir.resolve("templates"));
        Files.writeString(t.resolve("header.html"),
                "<header class=\"top\"><a href=\"/\">ACME artifacts</a> {{ user }}</header>\n");
        try (TestServer s = start(Map.of("DLREPO_TEMPLATES_DIR", t.toString()))) {
            for (String path : List.of("/", "/branches/main/", "/branches/main/v1/build/deb/", "/nope/")) {
                HttpResponse<String> r = page(s, path);
                assertTrue(r.body().contains("ACME artifacts"), path + ": " + r.body());
                assertFalse(r.body().contains("class=\"logo\""), "the built-in header is replaced");
                assertTrue(r.body().contains("Served by dlrepo"), "the other templates stay");
            }
            assertEquals("{\"branches\":\"/branches/\",\"version\":\"" + dlrepo.Version.get() + "\"}", s.get("/").body(), "JSON unchanged");
        }
    }

    @Test
    void anOverrideExtendsTheBuiltInBase() throws Exception {
        Path t = Files.createDirectories(dir.resolve("templates"));
        Files.writeString(t.resolve("base.html"), "{% extends \"builtin/base\" %}\n"
                + "{% block title %}ACME {{ parent() }}{% endblock %}\n"
                + "{% block footer %}<footer>ACME artifacts, call 1234</footer>{% endblock %}\n");
        try (TestServer s = start(Map.of("DLREPO_TEMPLATES_DIR", t.toString()))) {
            HttpResponse<String> r = page(s, "/branches/main/v1/build/deb/");
            assertStatus(200, r);
            assertTrue(r.body().contains("<nav class=\"crumbs\""), "the built-in layout: " + r.body());
            assertTrue(r.body().contains("href=\"pkg.deb\""), "the page's content: " + r.body());
            assertTrue(r.body().contains("<footer>ACME artifacts, call 1234</footer>"), "the site's footer: " + r.body());
            assertFalse(r.body().contains("Served by dlrepo"), "the built-in footer replaced: " + r.body());
            assertStatus(200, page(s, "/branches/main/v1/build/"));
            assertStatus(404, page(s, "/nope/"));
        }
    }

    @Test
    void aBrokenOverrideIsReportedAndTheBuiltInOneUsed() throws Exception {
        Path t = Files.createDirectories(dir.resolve("templates"));
        Files.writeString(t.resolve("footer.html"), "<footer>\n{% if %}broken\n</footer>\n");
        Files.writeString(t.resolve("header.html"), "<header>fine override</header>\n");
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger logger = ctx.getLogger(Pages.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.setContext(ctx);
        logs.start();
        logger.addAppender(logs);
        try {
            new Pages(Optional.of(t), Optional.empty());
        } finally {
            logger.detachAppender(logs);
        }
        List<String> errors = logs.list.stream().filter(e -> e.getLevel().toString().equals("ERROR"))
                .map(ILoggingEvent::getFormattedMessage).toList();
        assertEquals(1, errors.size(), errors.toString());
        assertTrue(errors.get(0).contains(t.resolve("footer.html") + ":2:"), "file and line: " + errors);
        assertTrue(errors.get(0).contains("the built-in template is used"), errors.toString());
        // the daemon starts and serves pages with the built-in footer and the good override
        try (TestServer s = start(Map.of("DLREPO_TEMPLATES_DIR", t.toString()))) {
            HttpResponse<String> r = page(s, "/branches/main/v1/build/deb/");
            assertStatus(200, r);
            assertTrue(r.body().contains("Served by dlrepo"), r.body());
            assertTrue(r.body().contains("fine override"), r.body());
            assertFalse(r.body().contains("broken"), r.body());
        }
    }

    @Test
    void staticDirReplacesTheStylesheet() throws Exception {
        Path st = Files.createDirectories(dir.resolve("static"));
        Files.writeString(st.resolve("style.css"), "body { color: #123456 }\n");
        try (TestServer s = start(Map.of("DLREPO_STATIC_DIR", st.toString()))) {
            HttpResponse<String> css = s.get("/static/style.css");
            assertStatus(200, css);
            assertEquals("body { color: #123456 }\n", css.body());
            assertTrue(css.headers().firstValue("Content-Type").orElse("").startsWith("text/css"));
            HttpResponse<String> js = s.get("/static/dlrepo.js");
            assertStatus(200, js);
            assertFalse(js.body().isEmpty(), "the other files stay built in");
            assertTrue(page(s, "/").body().contains("href=\"/static/style.css\""));
        }
    }
}
