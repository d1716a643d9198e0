package dlrepo.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Check;
import dlrepo.DaemonProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
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
 * The access lines are written in batches: under a burst every line arrives, each client's
 * in the order of its requests; an idle server's lone line appears without waiting for more;
 * lines still queued at SIGTERM are written before the exit.
 */
class AccessLogBatchTest {
    private static final int CLIENTS = 4;
    private static final int REQUESTS = 500; // CLIENTS x REQUESTS below the queue's 8192 lines

    @TempDir
    Path tmp;

    private static void get(HttpClient http, DaemonProcess d, String path) throws Exception {
        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(d.url(path))).build(),
                HttpResponse.BodyHandlers.discarding());
        assertEquals(404, r.statusCode(), path);
    }

    /** The paths of the access lines naming {@code prefix}, in the order of the log. */
    private static List<String> logged(DaemonProcess d, String prefix) {
        try {
            return d.log().lines().filter(l -> l.contains("\"GET " + prefix))
                    .map(l -> l.substring(l.indexOf("\"GET ") + 5, l.indexOf(" HTTP/"))).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    @Test
    void burstIdleAndStop() throws Exception {
        try (DaemonProcess d = DaemonProcess.start(tmp.resolve("root"), Map.of("DLREPO_LOG_OUTPUT", "syslog"))) {
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<?>> clients = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    clients.add(pool.submit(() -> {
                        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                        for (int i = 0; i < REQUESTS; i++) {
                            get(http, d, "/branches/burst-" + client + "-" + i + "/");
                        }
                        return null;
                    }));
                }
                for (Future<?> f : clients) {
                    f.get(5, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdownNow();
            }
            assertTrue(Check.eventually(10_000, () -> logged(d, "/branches/burst-").size() >= CLIENTS * REQUESTS),
                    () -> logged(d, "/branches/burst-").size() + " lines of " + CLIENTS * REQUESTS);
            List<String> burst = logged(d, "/branches/burst-");
            assertEquals(CLIENTS * REQUESTS, burst.size());
            for (int c = 0; c < CLIENTS; c++) {
                String mine = "/branches/burst-" + c + "-";
                List<String> expected = new ArrayList<>();
                for (int i = 0; i < REQUESTS; i++) {
                    expected.add(mine + i + "/");
                }
                assertEquals(expected, burst.stream().filter(p -> p.startsWith(mine)).toList(), "client " + c);
            }
            assertTrue(d.log().lines().filter(l -> l.contains("/branches/burst-")).allMatch(l -> l.startsWith("<6>")),
                    "a line cut or mixed with another");

            // idle: the writer sleeps; a lone line must not wait for a batch to fill
            Thread.sleep(1000);
            HttpClient http = HttpClient.newHttpClient();
            get(http, d, "/branches/lone/");
            assertTrue(Check.eventually(5_000, () -> logged(d, "/branches/lone/").size() == 1), d.log());

            // SIGTERM right after a burst: the queued lines are written out before the exit
            for (int i = 0; i < 300; i++) {
                get(http, d, "/branches/last-" + i + "/");
            }
            d.signal("TERM");
            assertEquals(0, d.waitFor(30), d.log());
            List<String> last = logged(d, "/branches/last-");
            assertEquals(300, last.size(), d.log());
            assertEquals("/branches/last-299/", last.get(299));
        }
    }
}
