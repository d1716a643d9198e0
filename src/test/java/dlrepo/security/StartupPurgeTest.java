package dlrepo.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Check;
import dlrepo.DaemonProcess;
import dlrepo.Layout;
import dlrepo.TestServer;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * At start-up no upload can be in progress (the daemon holds the root's lock, registry
 * upload sessions live in memory): what a killed daemon left in {@code .uploads} is
 * removed at once, like the removals left in {@code .trash}, and each purge says what it
 * removed in the log.
 */
class StartupPurgeTest {
    private Path root;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createTempDirectory("dlrepo-purge-");
    }

    @AfterEach
    void tearDown() throws Exception {
        FormatJournalTest.deleteTree(root);
    }

    /** Fails before the fix: the abandoned upload stayed until the orphan lifetime passed; nothing logged. */
    @Test
    void startUpPurgesAbandonedUploadsAndTheTrashAndLogsIt() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        byte[] kept = "kept\n".getBytes(StandardCharsets.UTF_8);
        try (DaemonProcess d = DaemonProcess.start(root, Map.of())) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(d.url("/branches/b/t/j/f/kept.txt")))
                    .header("Digest", TestServer.digest(kept)).PUT(HttpRequest.BodyPublishers.ofByteArray(kept)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(201, r.statusCode(), r.body());
            // a body cut by the kill
            try (Socket s = new Socket("127.0.0.1", d.port())) {
                OutputStream out = s.getOutputStream();
                out.write(("PUT /branches/b/t/j/f/cut.bin HTTP/1.1\r\nHost: x\r\nDigest: sha256:" + "1".repeat(64)
                        + "\r\nContent-Length: 5000000\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(new byte[1_000_000]);
                out.flush();
                assertTrue(Check.eventually(10_000, () -> uploadBytes() >= 100_000), "the body never reached .uploads");
                d.process().destroyForcibly();
                assertTrue(d.process().waitFor(30, TimeUnit.SECONDS));
            }
        }
        // what a killed post-processing run and a killed removal leave
        Path work = Files.createDirectories(root.resolve(".uploads/" + "ab".repeat(16) + "/sub"));
        Files.writeString(work.resolve("x"), "work copy");
        Path doomed = Files.createDirectories(root.resolve(".trash/" + "cd".repeat(16) + "/j/f"));
        Files.writeString(doomed.resolve("y"), "being removed");
        Files.createDirectories(root.resolve(".trash/" + "ef".repeat(16)));

        try (DaemonProcess d = DaemonProcess.start(root, Map.of())) {
            assertEquals(List.of(), list(root.resolve(".uploads")), ".uploads after start-up");
            assertEquals(List.of(), list(root.resolve(".trash")), ".trash after start-up");
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(d.url("/branches/b/t/j/f/kept.txt")))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("kept\n", r.body());
            String log = d.log();
            List<String> uploads = log.lines().filter(l -> l.contains(".uploads")).toList();
            assertEquals(1, uploads.size(), log);
            assertTrue(uploads.get(0).contains("WARN") && uploads.get(0).contains(" 2 "), uploads.get(0));
            List<String> trash = log.lines().filter(l -> l.contains(".trash")).toList();
            assertEquals(1, trash.size(), log);
            assertTrue(trash.get(0).contains("WARN") && trash.get(0).contains(" 2 "), trash.get(0));
        }
        // a clean start says nothing about them
        try (DaemonProcess d = DaemonProcess.start(root, Map.of())) {
            String log = d.log();
            assertTrue(log.lines().noneMatch(l -> l.contains(".uploads") || l.contains(".trash")), log);
        }
        assertEquals(0, Layout.visibleFiles(root.resolve(".uploads")).size());
    }

    private long uploadBytes() {
        try (Stream<Path> s = Files.list(root.resolve(".uploads"))) {
            long total = 0;
            for (Path p : s.toList()) {
                total += Files.size(p);
            }
            return total;
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    private static List<String> list(Path dir) throws java.io.IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /**
     * Folders under {@code users/} that are not valid user names by today's rules (made by
     * hand, or by an older version with looser names) are ignored with a warning: before,
     * one of them stopped the daemon at start-up.
     */
    @Test
    void invalidUserFoldersDoNotStopTheStart() throws Exception {
        Files.createDirectories(root.resolve("users/bo\u200bb/branches"));
        Files.createDirectories(root.resolve("users/Alice/branches"));
        Files.createDirectories(root.resolve("users/carol/branches"));
        try (TestServer s = TestServer.start(root, Map.of())) {
            assertEquals(200, s.get("/branches/").statusCode());
            assertEquals(201, s.upload("/~carol/branches/b/t/j/f/x", "x").statusCode());
        }
    }
}
