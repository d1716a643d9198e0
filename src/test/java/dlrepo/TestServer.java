package dlrepo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * The real daemon, in-process, on a free port with a temporary root, plus an HTTP client.
 * Every test talks to it over HTTP and looks at the files of its root. With {@link TestAuth}
 * (users and ACLs), {@link Caller} (requests as one identity) and {@link Check}
 * (assertions), the fixture every test shares.
 */
public final class TestServer implements AutoCloseable {
    private final Path root;
    private final Daemon daemon;
    private final HttpClient client = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(10))
            .build();

    private TestServer(Path root, Daemon daemon) {
        this.root = root;
        this.daemon = daemon;
    }

    public static TestServer start() throws IOException {
        return start(Map.of());
    }

    /** Starts a daemon; {@code env} adds to or overrides the test defaults. */
    public static TestServer start(Map<String, String> env) throws IOException {
        Path root = Files.createTempDirectory("dlrepo-test-");
        return start(root, env);
    }

    public static TestServer start(Path root, Map<String, String> env) throws IOException {
        return start(root, env, java.util.function.UnaryOperator.identity());
    }

    /** A daemon whose cleanup work is wrapped by {@code decorate} (to hold or slow a run). */
    public static TestServer start(Path root, Map<String, String> env,
            java.util.function.UnaryOperator<dlrepo.cleanup.CleanupScheduler.Work> decorate) throws IOException {
        Map<String, String> all = new HashMap<>();
        all.put("DLREPO_ROOT_DIR", root.toString());
        all.put("DLREPO_LISTEN_PORT", "0");
        all.put("DLREPO_LOG_OUTPUT", "console");
        all.put("DLREPO_AUTH_DISABLED", "1");
        all.putAll(env);
        Daemon d = new Daemon(Config.fromEnv(all), decorate);
        d.start();
        return new TestServer(root, d);
    }

    public Path root() {
        return root;
    }

    public int port() {
        return daemon.port();
    }

    public Daemon daemon() {
        return daemon;
    }

    public HttpClient client() {
        return client;
    }

    /** Requests with no credentials. */
    public Caller anonymous() {
        return Caller.anonymous(this);
    }

    /** Requests with the Basic credentials of {@code login}. */
    public Caller as(String login, String password) {
        return Caller.basic(this, login, password);
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port() + path);
    }

    public HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60));
    }

    public HttpResponse<String> send(HttpRequest req) throws IOException, InterruptedException {
        return client.send(req, HttpResponse.BodyHandlers.ofString());
    }

    /** {@code method path} with an optional body, Authorization value ({@code auth}, may be null) and headers. */
    public HttpResponse<String> send(String auth, String method, String path, byte[] body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = request(path).method(method, body == null
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (auth != null) {
            b.header("Authorization", auth);
        }
        if (headers.length > 0) {
            b.headers(headers);
        }
        return send(b.build());
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(request(path).GET().build());
    }

    public HttpResponse<byte[]> getBytes(String path) throws IOException, InterruptedException {
        return client.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    public HttpResponse<String> head(String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = request(path).method("HEAD", HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            b.headers(headers);
        }
        return send(b.build());
    }

    public HttpResponse<String> delete(String path) throws IOException, InterruptedException {
        return send(request(path).DELETE().build());
    }

    /** Sends a JSON body with the given method. */
    public HttpResponse<String> json(String method, String path, String body) throws IOException, InterruptedException {
        return send(request(path).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body)).build());
    }

    /** Uploads {@code data} with its correct Digest header. */
    public HttpResponse<String> upload(String path, byte[] data) throws IOException, InterruptedException {
        return send(request(path).header("Digest", digest(data))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build());
    }

    public HttpResponse<String> upload(String path, String text) throws IOException, InterruptedException {
        return upload(path, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Upload then finalize the format containing {@code path} (format = 5th segment). */
    public void uploadFinalized(String path, String text) throws IOException, InterruptedException {
        HttpResponse<String> r = upload(path, text);
        if (r.statusCode() != 201) {
            throw new AssertionError("upload " + path + ": " + r.statusCode() + " " + r.body());
        }
        String[] p = path.split("/");
        String format = String.join("/", java.util.Arrays.copyOfRange(p, 0, 6)) + "/";
        HttpResponse<String> f = send(request(format).method("PATCH", HttpRequest.BodyPublishers.noBody()).build());
        if (f.statusCode() != 200) {
            throw new AssertionError("finalize " + format + ": " + f.statusCode() + " " + f.body());
        }
    }

    /**
     * Sends raw bytes as the request (path exactly as given, nothing normalized) and
     * returns the raw response head and body.
     */
    public String raw(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port())) {
            s.setSoTimeout(20000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Status code of a raw {@code GET <path>} (the path sent byte for byte). */
    public int rawStatus(String method, String path) throws IOException {
        String resp = raw(method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return Integer.parseInt(resp.substring(9, 12));
    }

    public static String digest(byte[] data) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String digest(String text) {
        return digest(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Stops the daemon and leaves its root as it is (for a restart on it). */
    public void stop() {
        daemon.close();
    }

    @Override
    public void close() throws IOException {
        daemon.close();
        deleteTree(root);
    }

    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var s = Files.walk(p)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    // best effort
                }
            });
        }
    }
}
