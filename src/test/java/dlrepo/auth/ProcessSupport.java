package dlrepo.auth;

import dlrepo.DaemonProcess;
import dlrepo.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/** HTTP requests to a {@link DaemonProcess}, with or without Basic credentials. */
final class ProcessSupport {
    private static final HttpClient CLIENT = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(10)).build();

    private ProcessSupport() {
    }

    /** Status of {@code method path} with Basic credentials (none if {@code login} is null). */
    static int status(DaemonProcess d, String method, String path, String login, String password)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(d.url(path))).timeout(Duration.ofSeconds(30));
        if (login != null) {
            b.header("Authorization", AuthSupport.basic(login, password));
        }
        if (method.equals("PUT")) {
            byte[] data = path.getBytes(StandardCharsets.UTF_8);
            b.header("Digest", TestServer.digest(data)).PUT(HttpRequest.BodyPublishers.ofByteArray(data));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    static int get(DaemonProcess d, String path, String login, String password)
            throws IOException, InterruptedException {
        return status(d, "GET", path, login, password);
    }

    /** Waits (up to 20 s) until {@code cond} holds; whether it did. */
    static boolean eventually(Callable<Boolean> cond) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (cond.call()) {
                return true;
            }
            Thread.sleep(50);
        }
        return cond.call();
    }
}
