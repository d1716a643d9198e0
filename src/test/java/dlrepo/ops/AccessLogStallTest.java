package dlrepo.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.DaemonProcess;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
        }
    }
}
