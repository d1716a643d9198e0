package dlrepo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Someone calling a test server: anonymous, with Basic credentials, or with extra headers
 * sent with every request. Every test request goes through one of these (or through the
 * server's own anonymous helpers, which use one).
 */
public final class Caller {
    private final TestServer s;
    private final String[] headers;

    private Caller(TestServer s, String... headers) {
        this.s = s;
        this.headers = headers;
    }

    public static Caller anonymous(TestServer s) {
        return new Caller(s);
    }

    public static Caller basic(TestServer s, String login, String password) {
        return new Caller(s, "Authorization", basicHeader(login, password));
    }

    /** A caller sending these headers (name, value, ...) with every request. */
    public static Caller headers(TestServer s, String... headers) {
        return new Caller(s, headers);
    }

    public static String basicHeader(String login, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((login + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    public TestServer server() {
        return s;
    }

    public HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = s.request(path);
        if (headers.length > 0) {
            b.headers(headers);
        }
        return b;
    }

    public HttpResponse<String> send(HttpRequest req) throws IOException, InterruptedException {
        return s.send(req);
    }

    public HttpResponse<String> send(String method, String path) throws IOException, InterruptedException {
        return s.send(request(path).method(method, HttpRequest.BodyPublishers.noBody()).build());
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send("GET", path);
    }

    public HttpResponse<byte[]> getBytes(String path) throws IOException, InterruptedException {
        return s.client().send(request(path).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    public HttpResponse<String> head(String path, String... extraHeaders) throws IOException, InterruptedException {
        HttpRequest.Builder b = request(path).method("HEAD", HttpRequest.BodyPublishers.noBody());
        if (extraHeaders.length > 0) {
            b.headers(extraHeaders);
        }
        return s.send(b.build());
    }

    public HttpResponse<String> delete(String path) throws IOException, InterruptedException {
        return send("DELETE", path);
    }

    public int status(String method, String path) throws IOException, InterruptedException {
        return send(method, path).statusCode();
    }

    public HttpResponse<String> json(String method, String path, String body) throws IOException, InterruptedException {
        return s.send(request(path).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body)).build());
    }

    /** A PUT of {@code body} with extra headers (name, value, ...), no Digest added. */
    public HttpResponse<String> put(String path, byte[] body, String... extraHeaders)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = request(path).PUT(HttpRequest.BodyPublishers.ofByteArray(body));
        if (extraHeaders.length > 0) {
            b.headers(extraHeaders);
        }
        return s.send(b.build());
    }

    /** Uploads {@code data} with its correct Digest header. */
    public HttpResponse<String> upload(String path, byte[] data) throws IOException, InterruptedException {
        return put(path, data, "Digest", TestServer.digest(data));
    }

    public HttpResponse<String> upload(String path, String text) throws IOException, InterruptedException {
        return upload(path, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Links the blob of {@code digest} at {@code path} (X-Dlrepo-Link), no body. */
    public HttpResponse<String> link(String path, String digest) throws IOException, InterruptedException {
        return put(path, new byte[0], "Digest", digest, "X-Dlrepo-Link", digest);
    }

    /** Uploads one file and finalizes its format ({@code /[~u/]branches/b/t/j/f/file}). */
    public void uploadFinalized(String path, String text) throws IOException, InterruptedException {
        HttpResponse<String> r = upload(path, text);
        assertEquals(201, r.statusCode(), () -> "upload " + path + ": " + r.body());
        String format = path.substring(0, formatEnd(path));
        HttpResponse<String> f = send("PATCH", format);
        assertEquals(200, f.statusCode(), () -> "finalize " + format + ": " + f.body());
    }

    /** The JSON of a 200 answer to GET {@code path}. */
    public JsonNode ok(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = get(path);
        assertEquals(200, r.statusCode(), () -> "GET " + path + ": " + r.body());
        return Check.JSON.readTree(r.body());
    }

    /** Sends a request byte for byte (path not normalized) with this caller's headers; the status. */
    public int raw(String method, String rawPath) throws IOException {
        String resp = rawFull(method, rawPath, "", new byte[0]);
        return Integer.parseInt(resp.substring(9, 12));
    }

    /** A raw request with a body and extra header lines ({@code "Name: v\r\n"}); the whole response. */
    public String rawFull(String method, String rawPath, String extraHeaders, byte[] body) throws IOException {
        StringBuilder req = new StringBuilder(method + " " + rawPath + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        for (int i = 0; i + 1 < headers.length; i += 2) {
            req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        req.append(extraHeaders);
        req.append("Content-Length: ").append(body.length).append("\r\n\r\n");
        return s.raw(req + new String(body, StandardCharsets.ISO_8859_1));
    }

    /** The index just past the format folder's '/' in {@code /[~u/]branches/b/t/j/f/...}. */
    static int formatEnd(String path) {
        String[] parts = path.split("/");
        int start = parts[1].startsWith("~") ? 2 : 1;
        int len = 0;
        for (int i = 1; i <= start + 4; i++) {
            len += 1 + parts[i].length();
        }
        return len + 1;
    }
}
