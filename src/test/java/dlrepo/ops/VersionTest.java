package dlrepo.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.Check;
import dlrepo.TestServer;
import dlrepo.Version;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * One version: the pom's, in the daemon (--version, the home page's JSON and footer), the
 * client's User-Agent and --version, and the Debian package.
 */
class VersionTest {
    private static final Path BASE = Path.of(System.getProperty("basedir", "."));

    private static String find(Path file, String regex) throws Exception {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(Files.readString(BASE.resolve(file)));
        assertTrue(m.find(), file + " has no " + regex);
        return m.group(1);
    }

    @Test
    void everyCopyAgrees() throws Exception {
        // the project's own <version>, after its artifactId (not the parent's nor a dependency's)
        String pom = find(Path.of("pom.xml"), "<artifactId>dlrepo</artifactId>\\s*<version>([^<]+)</version>");
        assertTrue(pom.matches("\\d+\\.\\d+\\.\\d+"), pom);
        assertEquals(pom, Version.get(), "dlrepo.Version");
        assertEquals(pom, find(Path.of("dlrepo-cli"), "^VERSION = \"([^\"]+)\"$"), "dlrepo-cli VERSION");
        // debian/changelog's first entry: [epoch:]upstream[-revision]
        String deb = find(Path.of("debian/changelog"), "\\A\\S+ \\(([^)]+)\\)");
        assertEquals(pom, deb.replaceFirst("^\\d+:", "").replaceFirst("-[^-]*$", ""), "debian/changelog: " + deb);
    }

    @Test
    void homePageNamesIt() throws Exception {
        try (TestServer s = TestServer.start()) {
            JsonNode home = Check.ok(s.anonymous().get("/"));
            assertEquals(Version.get(), home.get("version").asText(), home.toString());
            assertEquals("/branches/", home.get("branches").asText());
            HttpResponse<String> page = s.anonymous().send(s.anonymous().request("/")
                    .header("Accept", "text/html").build());
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("<footer>Served by dlrepo " + Version.get() + "."), page.body());
            HttpResponse<String> branches = s.anonymous().send(s.anonymous().request("/branches/")
                    .header("Accept", "text/html").build());
            assertTrue(branches.body().contains("Served by dlrepo " + Version.get() + "."), "every page's footer");
        }
    }
}
