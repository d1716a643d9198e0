package dlrepo.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dlrepo.DaemonProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DLREPO_LOG_OUTPUT=json: every line the daemon writes is one JSON object, access lines included. */
class JsonLogTest {
    @TempDir
    Path tmp;

    @Test
    void everyLineIsJson() throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        try (DaemonProcess d = DaemonProcess.start(tmp.resolve("root"), Map.of("DLREPO_LOG_OUTPUT", "json",
                "DLREPO_LOG_LEVEL", "INFO", "DLREPO_FROBNICATE", "1"))) {
            HttpClient http = HttpClient.newHttpClient();
            for (String path : new String[] {"/branches/", "/branches/json-log-missing/"}) {
                http.send(HttpRequest.newBuilder(URI.create(d.url(path))).build(), HttpResponse.BodyHandlers.discarding());
            }
            d.signal("TERM");
            assertEquals(0, d.waitFor(30), d.log());
            ObjectMapper json = new ObjectMapper();
            for (String line : d.log().split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n;
                try {
                    n = json.readTree(line);
                } catch (Exception e) {
                    fail("not JSON: " + line + "\n" + d.log());
                    return;
                }
                assertTrue(n.isObject(), line);
                for (String field : new String[] {"timestamp", "level", "loggerName", "formattedMessage"}) {
                    assertTrue(n.hasNonNull(field), "no " + field + ": " + line);
                }
                assertTrue(n.get("timestamp").isIntegralNumber(), line);
                lines.add(n);
            }
        }
        assertTrue(lines.stream().anyMatch(n -> n.get("level").asText().equals("WARN")
                && n.get("loggerName").asText().equals("dlrepo.Config")
                && n.get("formattedMessage").asText().equals(
                        "unknown setting DLREPO_FROBNICATE (ignored): dlrepo-config(5) lists the settings")), lines::toString);
        assertTrue(lines.stream().anyMatch(n -> n.get("loggerName").asText().equals("dlrepo.Daemon")
                && n.get("level").asText().equals("INFO")), lines::toString);
        List<JsonNode> access = lines.stream().filter(n -> n.get("loggerName").asText().equals("dlrepo.access"))
                .toList();
        assertTrue(access.stream().anyMatch(n -> n.get("formattedMessage").asText().contains(
                "/branches/json-log-missing/")), "no access line for the 404: " + lines);
        for (JsonNode n : access) {
            assertEquals("INFO", n.get("level").asText(), n.toString());
            assertTrue(n.get("kvpList").isArray() && n.get("kvpList").size() > 0, "no key-values: " + n);
        }
    }
}
