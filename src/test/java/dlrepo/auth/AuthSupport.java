package dlrepo.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
        return "Basic " + Base64.getEncoder().encodeToString((login + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** A temporary folder holding an auth file ({@code auth}) and an ACL folder ({@code acls/}). */
    static final class Setup implements AutoCloseable {
        final Path dir;
        final Path authFile;
        final Path aclsDir;
        private final List<String> users = new ArrayList<>();

        Setup() throws IOException {
            dir = Files.createTempDirectory("dlrepo-auth-");
            authFile = dir.resolve("auth");
            aclsDir = Files.createDirectory(dir.resolve("acls"));
            Files.writeString(authFile, "");
        }

        /** Adds a {@code login:password:groups} line to the auth file (written at once). */
        Setup user(String login, String password, String... groups) throws IOException {
            return line(login + ":" + password + ":" + String.join(" ", groups));
        }

        /** Adds a raw line to the auth file (written at once). */
        Setup line(String line) throws IOException {
            users.add(line);
            Files.writeString(authFile, String.join("\n", users) + "\n");
            return this;
        }

        /** Replaces the whole auth file. */
        Setup authFileText(String text) throws IOException {
            users.clear();
            users.addAll(List.of(text.split("\n", -1)));
            Files.writeString(authFile, text);
            return this;
        }

        /** Writes the ACL file of {@code group} (replacing it). */
        Setup acl(String group, String... lines) throws IOException {
            Files.writeString(aclsDir.resolve(group), String.join("\n", lines) + "\n");
            return this;
        }

        /** The environment of a daemon with authentication on, plus {@code extra} key/value pairs. */
        Map<String, String> env(String... extra) {
            Map<String, String> env = new HashMap<>();
            env.put("DLREPO_AUTH_DISABLED", "0");
            env.put("DLREPO_AUTH_FILE", authFile.toString());
            env.put("DLREPO_ACLS_DIR", aclsDir.toString());
            env.put("DLREPO_TAG_CLEANUP_PERIOD", "0");
            for (int i = 0; i + 1 < extra.length; i += 2) {
                env.put(extra[i], extra[i + 1]);
            }
            return env;
        }

        TestServer start(String... extra) throws IOException {
            return TestServer.start(env(extra));
        }

        @Override
        public void close() throws IOException {
            deleteTree(dir);
        }
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

    /** Someone calling a server: anonymous, with Basic credentials, or with extra headers. */
    static final class Caller {
        final TestServer s;
        private final String[] headers;

        private Caller(TestServer s, String... headers) {
            this.s = s;
            this.headers = headers;
        }

        static Caller anonymous(TestServer s) {
            return new Caller(s);
        }

        static Caller basic(TestServer s, String login, String password) {
            return new Caller(s, "Authorization", AuthSupport.basic(login, password));
        }

        /** A caller sending these headers (name, value, ...) with every request. */
        static Caller headers(TestServer s, String... headers) {
            return new Caller(s, headers);
        }

        HttpRequest.Builder request(String path) {
            HttpRequest.Builder b = s.request(path);
            if (headers.length > 0) {
                b.headers(headers);
            }
            return b;
        }

        HttpResponse<String> send(String method, String path) throws IOException, InterruptedException {
            return s.send(request(path).method(method, HttpRequest.BodyPublishers.noBody()).build());
        }

        HttpResponse<String> get(String path) throws IOException, InterruptedException {
            return send("GET", path);
        }

        HttpResponse<byte[]> getBytes(String path) throws IOException, InterruptedException {
            return s.client().send(request(path).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        }

        int status(String method, String path) throws IOException, InterruptedException {
            return send(method, path).statusCode();
        }

        HttpResponse<String> json(String method, String path, String body) throws IOException, InterruptedException {
            return s.send(request(path).header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(body)).build());
        }

        HttpResponse<String> upload(String path, String text) throws IOException, InterruptedException {
            byte[] data = text.getBytes(StandardCharsets.UTF_8);
            return s.send(request(path).header("Digest", TestServer.digest(data))
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build());
        }

        /** Uploads one file and finalizes its format ({@code /branches/b/t/j/f/file}). */
        void uploadFinalized(String path, String text) throws IOException, InterruptedException {
            HttpResponse<String> r = upload(path, text);
            assertEquals(201, r.statusCode(), () -> "upload " + path + ": " + r.body());
            String format = path.substring(0, formatEnd(path));
            HttpResponse<String> f = send("PATCH", format);
            assertEquals(200, f.statusCode(), () -> "finalize " + format + ": " + f.body());
        }

        /** The JSON of a 200 answer to GET {@code path}. */
        JsonNode ok(String path) throws IOException, InterruptedException {
            HttpResponse<String> r = get(path);
            assertEquals(200, r.statusCode(), () -> "GET " + path + ": " + r.body());
            return JSON.readTree(r.body());
        }

        /** Sends a request byte for byte (path not normalized) with this caller's headers; the status. */
        int raw(String method, String rawPath) throws IOException {
            StringBuilder req = new StringBuilder(method + " " + rawPath + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
            for (int i = 0; i + 1 < headers.length; i += 2) {
                req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
            }
            req.append("Content-Length: 0\r\n\r\n");
            String resp = s.raw(req.toString());
            return Integer.parseInt(resp.substring(9, 12));
        }

        /** A raw request with a body and extra header lines; the whole response. */
        String rawFull(String method, String rawPath, String extraHeaders, byte[] body) throws IOException {
            StringBuilder req = new StringBuilder(method + " " + rawPath + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
            for (int i = 0; i + 1 < headers.length; i += 2) {
                req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
            }
            req.append(extraHeaders);
            req.append("Content-Length: ").append(body.length).append("\r\n\r\n");
            return s.raw(req + new String(body, StandardCharsets.ISO_8859_1));
        }
    }

    /** The index just past the format folder's '/' in {@code /[~u/]branches/b/t/j/f/...}. */
    private static int formatEnd(String path) {
        String[] parts = path.split("/");
        int start = parts[1].startsWith("~") ? 2 : 1;
        int len = 0;
        for (int i = 1; i <= start + 4; i++) {
            len += 1 + parts[i].length();
        }
        return len + 1;
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
