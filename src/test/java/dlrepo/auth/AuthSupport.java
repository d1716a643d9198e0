package dlrepo.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dlrepo.Caller;
import dlrepo.TestServer;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Helpers of the authentication tests: a temporary auth file and ACL folder, a daemon
 * started on them with authentication on, and HTTP callers with or without Basic
 * credentials.
 */
final class AuthSupport {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private AuthSupport() {
    }

    /** A name unique in this JVM (lowercase). */
    static String unique(String base) {
        return base + COUNTER.incrementAndGet();
    }

    static String basic(String login, String password) {
        return Caller.basicHeader(login, password);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    // best effort
                }
            });
        }
    }

    static List<String> names(JsonNode array) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : array) {
            out.add(n.isTextual() ? n.asText() : n.get("name").asText());
        }
        return out;
    }

    static void assertStatus(int expected, HttpResponse<?> r) {
        assertEquals(expected, r.statusCode(), () -> r.request().method() + " " + r.uri() + ": " + r.body());
    }

    static void assertUnauthorized(HttpResponse<?> r, String realm) {
        assertStatus(401, r);
        String h = r.headers().firstValue("WWW-Authenticate").orElse("");
        assertEquals("Basic realm=\"" + realm + "\"", h, () -> "WWW-Authenticate of " + r.uri());
    }

    static void assertAllowed(HttpResponse<?> r) {
        assertTrue(r.statusCode() != 401 && r.statusCode() != 403,
                () -> r.request().method() + " " + r.uri() + " should be allowed: " + r.statusCode() + " " + r.body());
    }
}
