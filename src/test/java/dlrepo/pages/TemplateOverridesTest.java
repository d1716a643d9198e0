package dlrepo.pages;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The override examples of dlrepo-api(7), "Pages": a home page extending
 * {@code builtin/base}, and a broken job page that leaves the built-in one in place.
 */
class TemplateOverridesTest {
    private static Path dir;
    private static TestServer s;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("dlrepo-templates-");
        Files.writeString(dir.resolve("home.html"), """
                {% extends "builtin/base" %}
                {% block title %}Home{% endblock %}
                {% block content %}
                <h1>ACME artifacts</h1>
                <p><a href="/branches/">Nightly builds</a></p>
                {% endblock %}
                """);
        Files.writeString(dir.resolve("job.html"), "{% extends \"builtin/base\" %}\n{% block content %}\n{% if %}\n");
        s = TestServer.start(Map.of("DLREPO_FSYNC", "0", "DLREPO_TEMPLATES_DIR", dir.toString()));
        s.uploadFinalized("/branches/main/t/build/deb/pkg.deb", "x");
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            if (s != null) {
                s.close();
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    @Test
    void anOverrideExtendsTheBuiltInLayout() throws Exception {
        HttpResponse<String> r = PagesTestSupport.page(s, "/");
        assertStatus(200, r);
        for (String c : new String[] {"<title>Home · dlrepo</title>", "<h1>ACME artifacts</h1>",
                "<a href=\"/branches/\">Nightly builds</a>", "href=\"/static/style.css\"", "<footer>"}) {
            assertTrue(r.body().contains(c), c + " in " + r.body());
        }
    }

    @Test
    void aBrokenOverrideLeavesTheBuiltInTemplate() throws Exception {
        HttpResponse<String> r = PagesTestSupport.page(s, "/branches/main/t/build/");
        assertStatus(200, r);
        assertTrue(r.body().contains("<title>Job build · dlrepo</title>") && r.body().contains("href=\"deb.tar\""),
                r.body());
    }
}

final class PagesTestSupport {
    private PagesTestSupport() {
    }

    static HttpResponse<String> page(TestServer s, String path) throws Exception {
        return s.send(s.request(path).header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8").GET().build());
    }
}
