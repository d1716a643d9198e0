package dlrepo.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.DaemonProcess;
import dlrepo.Check;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Standard error nobody reads (a pipe whose reader stalled, a stuck journald): the access
 * log drops lines once its queue is full instead of stopping the server.
 */
class AccessLogStallTest {
    private static final int CLIENTS = 4;
    // more than the access log's queue (8192 lines) and the pipe's buffer hold
    private static final int REQUESTS = 3000;

    @TempDir
    Path tmp;

    @Test
    void unreadStderrDoesNotStopTheServer() throws Exception {
        Path fifo = tmp.resolve("stderr");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        // read and write: opening does not wait for the other end, and nothing is ever read
        try (RandomAccessFile held = new RandomAccessFile(fifo.toFile(), "rw");
                DaemonProcess d = DaemonProcess.startWithOutput(tmp.resolve("root"), Map.of(), fifo)) {
            String agent = "a".repeat(4096);
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<Integer>> clients = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    clients.add(pool.submit(() -> {
                        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                                .connectTimeout(Duration.ofSeconds(10)).build();
                        HttpRequest get = HttpRequest.newBuilder(URI.create(d.url("/branches/")))
                                .header("User-Agent", agent).timeout(Duration.ofSeconds(10)).build();
                        int answered = 0;
                        for (int i = 0; i < REQUESTS; i++) {
                            // a timeout here (HttpTimeoutException) is the failure
                            int status = http.send(get, HttpResponse.BodyHandlers.discarding()).statusCode();
                            assertEquals(200, status);
                            answered++;
                        }
                        return answered;
                    }));
                }
                for (Future<Integer> f : clients) {
                    assertEquals(REQUESTS, f.get(5, TimeUnit.MINUTES));
                }
            } finally {
                pool.shutdownNow();
            }
            assertTrue(d.process().isAlive());
            // once the output is read again, the dropped lines are counted in one WARN
            assertTrue(readUntil(held, "lines dropped (the log output is not keeping up)", 60),
                    "no WARN about the dropped lines");
        }
    }

    /** Reads the FIFO until {@code text} has passed, for at most {@code seconds}. */
    private static boolean readUntil(RandomAccessFile fifo, String text, int seconds) throws Exception {
        ExecutorService reader = Executors.newSingleThreadExecutor();
        try {
            return reader.submit(() -> {
                byte[] buf = new byte[65536];
                String tail = "";
                for (int n; (n = fifo.read(buf)) > 0;) {
                    String chunk = tail + new String(buf, 0, n, StandardCharsets.ISO_8859_1);
                    if (chunk.contains(text)) {
                        return true;
                    }
                    tail = chunk.substring(Math.max(0, chunk.length() - text.length()));
                }
                return false;
            }).get(seconds, TimeUnit.SECONDS);
        } finally {
            reader.shutdownNow();
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }

    @Test
    void longFieldsAreCut() throws Exception {
        Path file = tmp.resolve("access.log");
        try (DaemonProcess d = DaemonProcess.start(tmp.resolve("root"), Map.of("DLREPO_ACCESS_LOG", file.toString()))) {
            String agent = "u".repeat(20_000) + "END";
            String referer = "r".repeat(9000);
            String query = "q".repeat(30_000);
            HttpResponse<Void> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(d.url("/branches/?" + query)))
                            .header("User-Agent", agent).header("Referer", referer).build(),
                    HttpResponse.BodyHandlers.discarding());
            assertTrue(r.statusCode() < 500, "status " + r.statusCode());
            assertTrue(Check.eventually(10_000, () -> read(file).contains("/branches/")), "no access line");
            String line = read(file).lines().filter(l -> l.contains("/branches/")).findFirst().orElseThrow();
            String cutUri = ("/branches/?" + query).substring(0, 8192) + "...";
            assertTrue(line.contains("\"GET " + cutUri + " HTTP/1.1\""), line.substring(0, 200));
            assertTrue(line.contains("\"" + "r".repeat(8192) + "...\" \"" + "u".repeat(8192) + "...\" "),
                    "referer and user agent not cut");
            assertFalse(line.contains("END"));
            assertTrue(line.length() < 3 * 8192 + 200, "line of " + line.length());
        }
    }
}
