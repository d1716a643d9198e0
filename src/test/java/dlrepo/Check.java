package dlrepo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/** Assertions and small utilities every test shares: statuses, JSON answers, unique names, waiting. */
public final class Check {
    public static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private Check() {
    }

    /** A name unique in this JVM (lowercase), so that tests sharing a server never collide. */
    public static String unique(String base) {
        return base + COUNTER.incrementAndGet();
    }

    public static void assertStatus(int expected, HttpResponse<?> r) {
        assertEquals(expected, r.statusCode(), () -> r.request().method() + " " + r.uri() + ": " + r.body());
    }

    public static JsonNode json(HttpResponse<String> r) throws IOException {
        String ct = r.headers().firstValue("Content-Type").orElse("");
        assertTrue(ct.startsWith("application/json"), "JSON content type expected, got '" + ct + "': " + r.body());
        return JSON.readTree(r.body());
    }

    /** Asserts 200 and a JSON body, returns it. */
    public static JsonNode ok(HttpResponse<String> r) throws IOException {
        assertStatus(200, r);
        return json(r);
    }

    /** Asserts an error status and, for non-HEAD requests, a JSON {@code error} containing {@code fragment}. */
    public static String assertError(HttpResponse<String> r, int status, String fragment) throws IOException {
        assertStatus(status, r);
        if (r.request().method().equals("HEAD")) {
            return "";
        }
        JsonNode body = json(r);
        assertTrue(body.has("error") && body.get("error").isTextual(), "error body expected: " + r.body());
        String msg = body.get("error").asText();
        if (fragment != null) {
            assertTrue(msg.contains(fragment), "error '" + msg + "' should contain '" + fragment + "'");
        }
        return msg;
    }

    /** Waits up to {@code millis} for {@code cond}; whether it became true. */
    public static boolean eventually(long millis, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (!cond.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }
}
