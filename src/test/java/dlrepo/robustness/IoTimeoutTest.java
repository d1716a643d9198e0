package dlrepo.robustness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestServer;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Clients that stall mid-body do not keep worker threads (and the server) forever. */
class IoTimeoutTest {
    @Test
    void stalledUploadsAreCutAfterTheIoTimeout() throws Exception {
        try (TestServer s = TestServer.start(Map.of("DLREPO_IO_TIMEOUT", "2", "DLREPO_WORKER_THREADS", "2"))) {
            List<Socket> stalled = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    Socket sock = new Socket("127.0.0.1", s.port());
                    OutputStream out = sock.getOutputStream();
                    out.write(("PUT /branches/b/t/j/f/stalled" + i + " HTTP/1.1\r\nHost: x\r\nDigest: sha256:"
                            + "0".repeat(64) + "\r\nContent-Length: 1000000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(new byte[1000]);
                    out.flush();
                    stalled.add(sock);
                }
                Thread.sleep(500);
                long t0 = System.nanoTime();
                var r = s.send(s.request("/branches/").timeout(java.time.Duration.ofSeconds(20)).GET().build());
                long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
                assertEquals(200, r.statusCode());
                assertTrue(seconds < 15, "served once the stalled uploads timed out");
                // The third upload only gets a worker once the first two are cut (2 workers), and
                // its connection may be cut while it waits: its handler can then create its upload
                // file after the other two are gone. So: every connection closed by the server,
                // then an empty .uploads, twice a second apart (a leaked file never goes away; one
                // being discarded at the moment of a look does).
                for (Socket sock : stalled) {
                    sock.setSoTimeout(20_000);
                    try {
                        assertEquals(-1, sock.getInputStream().read(), "a stalled upload gets no answer");
                    } catch (java.net.SocketException reset) {
                        // closed by the server with unread bytes: a reset, as good as the end
                    }
                }
                awaitNoUploads(s);
                Thread.sleep(1000);
                awaitNoUploads(s);
                assertTrue(Files.notExists(s.root().resolve("branches/b")));
            } finally {
                for (Socket sock : stalled) {
                    sock.close();
                }
            }
        }
    }

    private static void awaitNoUploads(TestServer s) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        List<String> left;
        do {
            try (var files = Files.list(s.root().resolve(".uploads"))) {
                left = files.map(p -> p.getFileName().toString()).toList();
            }
            if (left.isEmpty()) {
                return;
            }
            Thread.sleep(100);
        } while (System.currentTimeMillis() < deadline);
        assertEquals(List.of(), left, "the cut uploads left nothing behind; the workers:\n" + workerStacks());
    }

    private static String workerStacks() {
        StringBuilder out = new StringBuilder();
        Thread.getAllStackTraces().forEach((t, stack) -> {
            if (t.getName().startsWith("XNIO")) {
                out.append(t.getName()).append(" ").append(t.getState()).append('\n');
                for (StackTraceElement e : stack) {
                    out.append("    at ").append(e).append('\n');
                }
            }
        });
        return out.toString();
    }
}
