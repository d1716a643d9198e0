package dlrepo.robustness;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.DaemonProcess;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The daemon as an operating-system process: SIGTERM drains requests in flight and exits
 * 0, the root lock keeps a second daemon out, the access log (on by default).
 */
class ProcessLifecycleTest {
    private Path root;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createTempDirectory("dlrepo-lifecycle-");
    }

    @AfterEach
    void tearDown() throws Exception {
        Robust.deleteTree(root);
    }

    private static int status(DaemonProcess d, String method, String path) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(d.url(path)).toURL().openConnection();
        c.setRequestMethod(method);
        c.setConnectTimeout(5000);
        c.setReadTimeout(30000);
        try {
            return c.getResponseCode();
        } finally {
            c.disconnect();
        }
    }

    private static int put(DaemonProcess d, String path, byte[] body, String userAgent) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(d.url(path)).toURL().openConnection();
        c.setRequestMethod("PUT");
        c.setDoOutput(true);
        c.setFixedLengthStreamingMode(body.length);
        c.setRequestProperty("Digest", "sha256:" + Robust.hex(body));
        if (userAgent != null) {
            c.setRequestProperty("User-Agent", userAgent);
        }
        try (OutputStream out = c.getOutputStream()) {
            out.write(body);
        }
        try {
            return c.getResponseCode();
        } finally {
            c.disconnect();
        }
    }

    /** Reads a response head from a raw socket: status line and headers, up to the blank line. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            b.write(c);
            byte[] a = b.toByteArray();
            int n = a.length;
            if (n >= 4 && a[n - 4] == '\r' && a[n - 3] == '\n' && a[n - 2] == '\r' && a[n - 1] == '\n') {
                break;
            }
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void sigtermWithNothingRunningExitsZero() throws Exception {
        try (DaemonProcess d = DaemonProcess.start(root, Map.of("DLREPO_LOG_LEVEL", "INFO"))) {
            assertEquals(200, status(d, "GET", "/branches/"));
            d.signal("TERM");
            assertEquals(0, d.waitFor(30), d.log());
        }
        // the lock died with the process: a new daemon starts on the same root
        try (DaemonProcess d = DaemonProcess.start(root, Map.of())) {
            assertEquals(200, status(d, "GET", "/branches/"));
        }
    }

    @Test
    void sigintExitsZeroToo() throws Exception {
        try (DaemonProcess d = DaemonProcess.start(root, Map.of())) {
            assertEquals(201, put(d, "/branches/int/t/j/f/x", "x\n".getBytes(), null));
            d.signal("INT");
            assertEquals(0, d.waitFor(30), d.log());
        }
        assertEquals("x\n", Files.readString(root.resolve("branches/int/t/j/f/x")));
    }

    @Test
    void sigtermLetsASlowDownloadFinish() throws Exception {
        byte[] data = Robust.bytes(11, 48 << 20);
        String path = "/branches/dl/t/j/f/file.bin";
        try (DaemonProcess d = DaemonProcess.start(root, Map.of("DLREPO_LOG_LEVEL", "DEBUG", "DLREPO_FSYNC", "0"))) {
            assertEquals(201, put(d, path, data, null));
            try (Socket s = new Socket()) {
                s.setReceiveBufferSize(4096); // a slow reader: the server cannot finish early
                s.connect(new java.net.InetSocketAddress("127.0.0.1", d.port()));
                s.setSoTimeout(60000);
                s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nUser-Agent: slow-reader\r\n"
                        + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                InputStream in = s.getInputStream();
                String head = readHead(in);
                assertTrue(head.startsWith("HTTP/1.1 200"), head);
                byte[] body = new byte[data.length];
                int got = in.readNBytes(body, 0, 1 << 20);
                assertEquals(1 << 20, got);

                d.signal("TERM");
                Thread.sleep(500);
                assertTrue(d.process().isAlive(), "exited with a download in flight");
                // new requests are not served while draining
                assertTrue(refusedOrUnavailable(d), "a new request was served during shutdown");

                got += in.readNBytes(body, got, data.length - got);
                assertEquals(data.length, got, "download cut short");
                assertArrayEquals(data, body);
            }
            assertEquals(0, d.waitFor(30), d.log());
            // the access line of the download, written after SIGTERM, reached the log
            String log = d.log();
            assertTrue(log.contains("\"GET " + path + " HTTP/1.1\" 200 " + data.length + " \"-\" \"slow-reader\" "),
                    log);
        }
    }

    private static boolean refusedOrUnavailable(DaemonProcess d) {
        try {
            return status(d, "GET", "/branches/") == 503;
        } catch (IOException e) {
            return true; // connection refused or reset: not accepting any more
        }
    }

    @Test
    void sigtermLetsASlowUploadFinish() throws Exception {
        byte[] data = Robust.bytes(12, 4 << 20);
        String path = "/branches/ul/t/j/f/file.bin";
        try (DaemonProcess d = DaemonProcess.start(root, Map.of("DLREPO_LOG_LEVEL", "DEBUG"))) {
            try (Socket s = new Socket("127.0.0.1", d.port())) {
                s.setSoTimeout(60000);
                OutputStream out = s.getOutputStream();
                out.write(("PUT " + path + " HTTP/1.1\r\nHost: x\r\nUser-Agent: slow-writer\r\nConnection: close\r\n"
                        + "Digest: sha256:" + Robust.hex(data) + "\r\nContent-Length: " + data.length + "\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                out.write(data, 0, 1 << 20);
                out.flush();
                assertTrue(Robust.eventually(10, () -> !Robust.listQuietly(root.resolve(".uploads")).isEmpty()),
                        "the upload did not start");

                d.signal("TERM");
                Thread.sleep(500);
                assertTrue(d.process().isAlive(), "exited with an upload in flight");
                out.write(data, 1 << 20, data.length - (1 << 20));
                out.flush();
                String head = readHead(s.getInputStream());
                assertTrue(head.startsWith("HTTP/1.1 201"), head);
            }
            assertEquals(0, d.waitFor(30), d.log());
            assertTrue(d.log().contains("\"PUT " + path + " HTTP/1.1\" 201 2 \"-\" \"slow-writer\" "), d.log());
        }
        Path file = root.resolve(path.substring(1));
        assertArrayEquals(data, Files.readAllBytes(file));
        assertEquals("sha256:" + Robust.hex(data), Robust.digests(file.getParent()).get("file.bin"));
        Robust.assertConsistent(root);
    }

    @Test
    void shutdownTimeoutBoundsAStalledUpload() throws Exception {
        String path = "/branches/stall/t/j/f/file.bin";
        try (DaemonProcess d = DaemonProcess.start(root, Map.of("DLREPO_SHUTDOWN_TIMEOUT", "1",
                "DLREPO_LOG_LEVEL", "INFO"))) {
            try (Socket s = new Socket("127.0.0.1", d.port())) {
                OutputStream out = s.getOutputStream();
                out.write(("PUT " + path + " HTTP/1.1\r\nHost: x\r\nDigest: sha256:" + "0".repeat(64)
                        + "\r\nContent-Length: 10000000\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(new byte[100_000]);
                out.flush();
                assertTrue(Robust.eventually(10, () -> !Robust.listQuietly(root.resolve(".uploads")).isEmpty()));
                // the client stalls forever; the daemon must not wait for it forever
                d.signal("TERM");
                int rc = d.waitFor(30);
                assertEquals(0, rc, d.log());
            }
            String log = d.log();
            assertTrue(log.contains("still running"), "no word about the request cut short:\n" + log);
        }
        assertFalse(Files.exists(root.resolve(path.substring(1))));
        assertTrue(Robust.list(root.resolve(".uploads")).size() <= 1, "more than an orphan");
        assertEquals(List.of(), Robust.blobFiles(root));
    }

    @Test
    void secondDaemonOnTheSameRootRefusesToStart() throws Exception {
        try (DaemonProcess first = DaemonProcess.start(root, Map.of())) {
            try (DaemonProcess second = DaemonProcess.spawn(root, Map.of())) {
                int rc = second.waitFor(30);
                String log = second.log();
                assertTrue(rc != 0, "second daemon exit code 0: " + log);
                assertTrue(log.contains(root.resolve(".lock").toString()), "message does not name the lock:\n" + log);
                assertTrue(log.contains("another dlrepo daemon"), log);
                assertEquals(1, log.lines().filter(l -> !l.isBlank()).count(), "one clear line:\n" + log);
            }
            // the first one is unharmed
            assertEquals(201, put(first, "/branches/b/t/j/f/x", "x\n".getBytes(), null));
            assertTrue(first.process().isAlive());
        }
    }

    @Test
    void logsOneAccessLinePerRequestByDefault() throws Exception {
        try (DaemonProcess d = DaemonProcess.start(root, Map.of())) {
            // awaitReady() sent requests already: count only ours, by user agent
            assertEquals(201, put(d, "/branches/log/t/j/f/a.txt", "a\n".getBytes(), "agent-put/1.0"));
            String[][] requests = {
                {"GET", "/branches/log/t/j/f/a.txt", "agent-get/1.0"},
                {"HEAD", "/branches/log/t/j/f/a.txt", "agent-head/1.0"},
                {"GET", "/branches/log/t/j/f/missing", "agent-404/1.0"},
                {"DELETE", "/branches/log/t/j/f/..", "agent-400/1.0"},
            };
            int[] expected = {200, 200, 404, 400};
            for (String[] r : requests) {
                try (Socket s = new Socket("127.0.0.1", d.port())) {
                    s.setSoTimeout(30000);
                    s.getOutputStream().write((r[0] + " " + r[1] + " HTTP/1.1\r\nHost: x\r\nUser-Agent: " + r[2]
                            + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    s.getInputStream().readAllBytes();
                }
            }
            Pattern line = Pattern.compile("^(\\S+) - (\\S+) \\[[^]]+\\] \"(\\S+) (\\S+) HTTP/1.1\" (\\d{3}) (\\d+|-) "
                    + "\"-\" \"([^\"]*)\" \\d+\\.\\d{3}$");
            String[][] all = {
                {"PUT", "/branches/log/t/j/f/a.txt", "agent-put/1.0", "201"},
                {requests[0][0], requests[0][1], requests[0][2], "200"},
                {requests[1][0], requests[1][1], requests[1][2], "200"},
                {requests[2][0], requests[2][1], requests[2][2], "404"},
                {requests[3][0], requests[3][1], requests[3][2], "400"},
            };
            assertEquals(expected.length + 1, all.length);
            for (String[] r : all) {
                String agent = r[2];
                assertTrue(Robust.eventually(5, () -> logQuietly(d).contains("\"" + agent + "\"")),
                        "no access line for " + agent + ":\n" + logQuietly(d));
                List<String> lines = d.log().lines().filter(l -> l.contains("\"" + agent + "\"")).toList();
                assertEquals(1, lines.size(), () -> "one line per request for " + agent + ": " + lines);
                Matcher m = line.matcher(lines.get(0));
                assertTrue(m.find(), lines.get(0));
                assertEquals("127.0.0.1", m.group(1));
                assertEquals("-", m.group(2), "anonymous user");
                assertEquals(r[0], m.group(3));
                assertEquals(r[1], m.group(4));
                assertEquals(r[3], m.group(5), lines.get(0));
                assertEquals(agent, m.group(7));
            }
        }
    }

    @Test
    void accessLogOffLogsNoAccessLines() throws Exception {
        try (DaemonProcess d = DaemonProcess.start(root, Map.of("DLREPO_ACCESS_LOG", "off"))) {
            assertEquals(201, put(d, "/branches/quiet/t/j/f/a.txt", "a\n".getBytes(), "agent-quiet"));
            assertEquals(200, status(d, "GET", "/branches/quiet/t/j/f/a.txt"));
            d.signal("TERM");
            assertEquals(0, d.waitFor(30));
            assertFalse(d.log().contains("agent-quiet"), d.log());
            assertFalse(d.log().contains("\"GET "), d.log());
        }
    }

    private static String logQuietly(DaemonProcess d) {
        try {
            return d.log();
        } catch (IOException e) {
            return "";
        }
    }
}
