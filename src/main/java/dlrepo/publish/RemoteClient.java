package dlrepo.publish;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dlrepo.fs.Digest;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Requests to one remote dlrepo server during one run: Basic auth sent with every request,
 * {@code User-Agent: dlrepo-server/<host>}, no redirect followed, every request within the
 * run's deadline for that server and holding a permit of the global request bound.
 */
final class RemoteClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http;
    private final String baseUrl;
    private final String authorization;
    private final String userAgent;
    private final Semaphore permits;
    private final Instant deadline;
    private final long timeoutSeconds;

    RemoteClient(HttpClient http, String baseUrl, Credentials credentials, String userAgent, Semaphore permits,
            Instant deadline, long timeoutSeconds) {
        this.http = http;
        this.baseUrl = baseUrl;
        this.authorization = credentials.header();
        this.userAgent = userAgent;
        this.permits = permits;
        this.deadline = deadline;
        this.timeoutSeconds = timeoutSeconds;
    }

    String url() {
        return baseUrl;
    }

    /** The JSON of {@code GET path}, or empty if the remote answers 404. */
    Optional<JsonNode> getJson(RemotePath path) throws IOException, InterruptedException {
        HttpResponse<String> r = send("GET", path, request(path).GET().header("Accept", "application/json"), 200, 404);
        if (r.statusCode() == 404) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readTree(r.body()));
        } catch (IOException e) {
            throw new RemoteException(baseUrl, "GET " + path + ": not a JSON answer (" + e.getMessage() + ")");
        }
    }

    /** {@code DELETE path}; a 404 is fine (nothing to delete). */
    void delete(RemotePath path) throws IOException, InterruptedException {
        send("DELETE", path, request(path).DELETE(), 200, 404);
    }

    /** The dedup probe: whether the remote lets us link the blob {@code d} at {@code path}. */
    boolean probe(RemotePath path, Digest d) throws IOException, InterruptedException {
        HttpResponse<String> r = send("HEAD", path, request(path).method("HEAD", HttpRequest.BodyPublishers.noBody())
                .header("Digest", d.toString()), 200, 404);
        return r.statusCode() == 200;
    }

    /** Links the remote blob {@code d} at {@code path}; false if the remote has no such blob (404). */
    boolean putLink(RemotePath path, Digest d) throws IOException, InterruptedException {
        HttpResponse<String> r = send("PUT", path, request(path).PUT(HttpRequest.BodyPublishers.ofByteArray(new byte[0]))
                .header("Digest", d.toString()).header("X-Dlrepo-Link", d.toString()), 201, 404);
        return r.statusCode() == 201;
    }

    /**
     * Sends {@code file} at {@code path}, streamed from disk. With {@code Expect: 100-continue}
     * a refusal (401, 403, 413...) costs no body.
     */
    void putFile(RemotePath path, Digest d, Path file) throws IOException, InterruptedException {
        HttpRequest.BodyPublisher body;
        try {
            body = HttpRequest.BodyPublishers.ofFile(file);
        } catch (java.io.FileNotFoundException e) {
            throw new PublishException(file + ": " + e.getMessage(), e);
        }
        // no 100 ever comes for an empty body (the server reads none): the client would wait
        send("PUT", path, request(path).PUT(body).expectContinue(body.contentLength() > 0)
                .header("Digest", d.toString()).header("Content-Type", "application/octet-stream"), 201);
    }

    /** {@code PATCH path} without a body (finalizes a format). */
    void patch(RemotePath path) throws IOException, InterruptedException {
        send("PATCH", path, request(path).method("PATCH", HttpRequest.BodyPublishers.noBody()), 200);
    }

    /** Sends {@code body} as JSON with {@code method}. */
    void sendJson(String method, RemotePath path, Object body) throws IOException, InterruptedException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        send(method, path, request(path).method(method, HttpRequest.BodyPublishers.ofByteArray(bytes))
                .header("Content-Type", "application/json"), 200);
    }

    private HttpRequest.Builder request(RemotePath path) {
        return HttpRequest.newBuilder(URI.create(baseUrl + path.encoded()))
                .header("Authorization", authorization)
                .header("User-Agent", userAgent);
    }

    private RemoteException timedOut() {
        return new RemoteException(baseUrl, "timed out after " + timeoutSeconds + " s (DLREPO_PUBLISH_TIMEOUT)");
    }

    private HttpResponse<String> send(String method, RemotePath path, HttpRequest.Builder b, int... ok)
            throws IOException, InterruptedException {
        long left = Duration.between(Instant.now(), deadline).toMillis();
        if (left <= 0 || !permits.tryAcquire(left, TimeUnit.MILLISECONDS)) {
            throw timedOut();
        }
        HttpResponse<String> r;
        try {
            left = Duration.between(Instant.now(), deadline).toMillis();
            if (left <= 0) {
                throw timedOut();
            }
            r = http.send(b.timeout(Duration.ofMillis(left)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (HttpConnectTimeoutException e) {
            throw new RemoteException(baseUrl, "cannot connect: connection timed out");
        } catch (HttpTimeoutException e) {
            throw timedOut();
        } catch (ConnectException e) {
            // the JDK says nothing more than ClosedChannelException for a refused connection
            String why = e.getCause() instanceof UnresolvedAddressException ? "unknown host"
                    : e.getMessage() != null && !e.getMessage().isBlank() ? e.getMessage() : "connection refused";
            throw new RemoteException(baseUrl, "cannot connect: " + why);
        } catch (IOException e) {
            if (e.getCause() instanceof UnresolvedAddressException) {
                throw new RemoteException(baseUrl, "cannot connect: unknown host");
            }
            throw new RemoteException(baseUrl, method + " " + path + ": " + reason(e));
        } finally {
            permits.release();
        }
        int status = r.statusCode();
        for (int s : ok) {
            if (s == status) {
                return r;
            }
        }
        if (status >= 300 && status < 400) {
            throw new RemoteException(baseUrl, method + " " + path + ": " + status + " redirected to "
                    + r.headers().firstValue("Location").orElse("(no Location)") + " (redirects are not followed)");
        }
        String detail = remoteError(r.body());
        throw new RemoteException(baseUrl, method + " " + path + ": " + status + (detail.isEmpty() ? "" : " " + detail));
    }

    private static String reason(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            Throwable c = e.getCause();
            return c != null && c != e ? reason(c) : e.getClass().getSimpleName();
        }
        return m;
    }

    /** The {@code error} field of a JSON error answer, or "" (an HTML page of a proxy says nothing useful). */
    private static String remoteError(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        try {
            JsonNode n = JSON.readTree(body);
            if (n != null && n.hasNonNull("error")) {
                String e = n.get("error").asText();
                return e.length() > 500 ? e.substring(0, 500) + "..." : e;
            }
        } catch (IOException e) {
            // not JSON
        }
        return "";
    }

    /** A path on the remote: decoded segments, percent-encoded when sent. */
    record RemotePath(List<String> segments, boolean folder) {
        static RemotePath folder(List<String> segments) {
            return new RemotePath(List.copyOf(segments), true);
        }

        RemotePath child(String name) {
            return folderChild(name, true);
        }

        /** {@code relPath} (slash-separated) below this folder, a file. */
        RemotePath file(String relPath) {
            List<String> all = new java.util.ArrayList<>(segments);
            all.addAll(List.of(relPath.split("/", -1)));
            return new RemotePath(List.copyOf(all), false);
        }

        private RemotePath folderChild(String name, boolean isFolder) {
            List<String> all = new java.util.ArrayList<>(segments);
            all.add(name);
            return new RemotePath(List.copyOf(all), isFolder);
        }

        String encoded() {
            StringBuilder b = new StringBuilder();
            for (String s : segments) {
                b.append('/').append(dlrepo.http.Urls.encodeSegment(s));
            }
            if (folder) {
                b.append('/');
            }
            return b.toString();
        }

        @Override
        public String toString() {
            return "/" + String.join("/", segments) + (folder ? "/" : "");
        }
    }
}
