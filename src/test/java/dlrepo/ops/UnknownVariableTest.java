package dlrepo.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Config;
import dlrepo.DaemonProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A DLREPO_* variable nothing reads is warned about at start-up, with the closest known name. */
class UnknownVariableTest {
    @TempDir
    Path tmp;

    @Test
    void aTypoIsWarnedAboutAndTheDaemonServes() throws Exception {
        try (DaemonProcess d = DaemonProcess.start(tmp.resolve("root"), Map.of("DLREPO_LOG_OUPTUT", "x",
                "DLREPO_FROBNICATE", "1", "DLREPO_JAVA_XMX", "256m"))) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(d.url("/"))).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            String log = d.log();
            List<String> warnings = log.lines().filter(l -> l.contains("unknown setting")).toList();
            assertEquals(2, warnings.size(), log);
            assertTrue(warnings.get(0).endsWith(
                    "WARN  Config: unknown setting DLREPO_FROBNICATE (ignored): dlrepo-config(5) lists the settings"),
                    warnings.get(0));
            assertTrue(warnings.get(1).endsWith(
                    "WARN  Config: unknown setting DLREPO_LOG_OUPTUT (ignored): did you mean DLREPO_LOG_OUTPUT?"),
                    warnings.get(1));
            assertFalse(log.contains("DLREPO_JAVA_XMX"), "the launcher's variable is known: " + log);
        }
    }

    @Test
    void closestNames() {
        assertEquals(List.of(), Config.unknownVariables(Map.of("DLREPO_ROOT_DIR", "/x", "DLREPO_URL", "u",
                "DLREPO_MVN_OPTS", "-o", "PATH", "/bin", "DLREPOX", "1")));
        assertEquals(List.of("unknown setting DLREPO_ROOT_DRI (ignored): did you mean DLREPO_ROOT_DIR?",
                "unknown setting DLREPO_USERQUOTA (ignored): did you mean DLREPO_USER_QUOTA?",
                "unknown setting DLREPO_X (ignored): dlrepo-config(5) lists the settings",
                "unknown setting DLREPO_fsync (ignored): dlrepo-config(5) lists the settings"),
                Config.unknownVariables(Map.of("DLREPO_ROOT_DRI", "", "DLREPO_USERQUOTA", "1", "DLREPO_X", "1",
                        "DLREPO_fsync", "0")));
        // long names tolerate more edits (len/5): two swaps and a missing letter
        assertEquals(List.of("unknown setting DLREPO_AUTH_HTTP_LGOIN_HEADR (ignored): did you mean "
                + "DLREPO_AUTH_HTTP_LOGIN_HEADER?"),
                Config.unknownVariables(Map.of("DLREPO_AUTH_HTTP_LGOIN_HEADR", "X-User")));
    }

    /**
     * The known names are exactly those documented in dlrepo-config(5), and /etc/default
     * names no other (a setting added to Config and the docs must be added to KNOWN too).
     */
    @Test
    void knownNamesAreTheDocumentedOnes() throws Exception {
        Path base = Path.of(System.getProperty("basedir", "."));
        java.util.regex.Pattern name = java.util.regex.Pattern.compile("DLREPO_[A-Z0-9_]*[A-Z0-9]\\b");
        java.util.function.Function<Path, java.util.Set<String>> names = file -> {
            try {
                java.util.Set<String> found = new java.util.TreeSet<>();
                name.matcher(java.nio.file.Files.readString(base.resolve(file))).results()
                        .forEach(m -> found.add(m.group()));
                return found;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        java.util.Set<String> manual = names.apply(Path.of("docs/dlrepo-config.5.scdoc"));
        manual.remove("DLREPO_LOG_OUPTUT"); // the manual's example of a misspelt name
        assertEquals(Config.KNOWN, manual, "KNOWN vs dlrepo-config(5)");
        java.util.Set<String> defaults = names.apply(Path.of("etc/default"));
        assertTrue(Config.KNOWN.containsAll(defaults), "unknown in etc/default: " + defaults);
        for (String daemonSetting : Config.KNOWN) {
            if (!List.of("DLREPO_JAVA_XMX", "DLREPO_JAVA_OPTS", "DLREPO_JAR", "DLREPO_CDS_DIR", "DLREPO_URL",
                    "DLREPO_MVN_OPTS").contains(daemonSetting)) {
                assertTrue(defaults.contains(daemonSetting), daemonSetting + " is not in etc/default");
            }
        }
    }
}
