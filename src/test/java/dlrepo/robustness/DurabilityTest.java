package dlrepo.robustness;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.DaemonProcess;
import dlrepo.TestServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * What was acknowledged survives: both {@code DLREPO_FSYNC} settings work end to end,
 * and a daemon killed with SIGKILL comes back with every acknowledged file and nothing
 * half-done visible.
 */
class DurabilityTest {
    private Path root;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createTempDirectory("dlrepo-durability-");
    }

    @AfterEach
    void tearDown() throws Exception {
        Robust.deleteTree(root);
    }

    // ------------------------------------------------------------------ DLREPO_FSYNC

    /**
     * Every write path under each setting (the default is fsync on): the syncing code runs
     * and changes nothing visible. fsync itself cannot be observed from here.
     */
    @ParameterizedTest
    @ValueSource(strings = {"<default>", "1", "0"})
    void everyWritePathWorksWithEitherFsyncSetting(String fsync) throws Exception {
        Map<String, String> env = new HashMap<>();
        if (!fsync.equals("<default>")) {
            env.put("DLREPO_FSYNC", fsync);
        }
        try (TestServer s = TestServer.start(root.resolve("r"), env)) {
            byte[] a = Robust.bytes(1, 700_000);
            byte[] b = Robust.bytes(2, 10);
            String job = "/branches/dur/t/j/";
            assertEquals(201, s.upload(job + "f/a.bin", a).statusCode());
            assertEquals(201, s.upload(job + "f/sub/b.bin", b).statusCode());
            // a replacement, a link by digest, a dedup upload
            assertEquals(201, s.upload(job + "f/sub/b.bin", a).statusCode());
            String d = "sha256:" + Robust.hex(a);
            assertEquals(201, s.send(s.request(job + "g/linked.bin").header("Digest", d).header("X-Dlrepo-Link", d)
                    .PUT(HttpRequest.BodyPublishers.noBody()).build()).statusCode());
            assertEquals(201, s.upload(job + "g/dedup.bin", a).statusCode());
            assertEquals(200, patch(s, job + "f/").statusCode());
            assertEquals(200, s.head(job + "f/").statusCode());
            assertEquals(200, s.json("POST", "/branches/dur/", "{\"branch\": {\"max_daily_tags\": 3}}").statusCode());
            assertEquals(200, s.json("POST", "/branches/dur/t/", "{\"tag\": {\"description\": \"x\"}}").statusCode());
            assertEquals(200, s.json("PATCH", job, "{\"job\": {\"k\": \"v\"}}").statusCode());
            assertEquals(200, patch(s, job + "g/").statusCode());
            assertEquals(200, s.json("PUT", job, "{\"job\": {\"locked\": true}}").statusCode());
            assertArrayEquals(a, s.getBytes(job + "f/sub/b.bin").body());
            assertArrayEquals(a, s.getBytes(job + "g/linked.bin").body());
            assertEquals(4, Robust.assertConsistent(s.root()));
            assertEquals(1 + 4, Robust.nlink(Robust.blob(s.root(), Robust.hex(a))));
            assertEquals(200, s.json("PUT", job, "{\"job\": {\"locked\": false}}").statusCode());
            assertEquals(200, s.delete(job + "g/").statusCode());
            assertEquals(200, s.delete("/branches/dur/t/").statusCode());
            assertFalse(Files.exists(s.root().resolve("branches/dur/t")));
            assertEquals(List.of(), Robust.list(s.root().resolve(".uploads")));
        }
    }

    private static HttpResponse<String> patch(TestServer s, String path) throws Exception {
        return s.send(s.request(path).method("PATCH", HttpRequest.BodyPublishers.noBody()).build());
    }

    // ------------------------------------------------------------------ crash leftovers

    /**
     * The states a crash can leave in a dirty format, made by hand on disk, and repaired
     * by the next start: a file linked without its entry, an entry without its file, a
     * replacement linked but not recorded, temporary links.
     */
    @Test
    void startupRepairsWhatACrashLeftInDirtyFormats() throws Exception {
        Path r = root.resolve("r");
        byte[] a = Robust.bytes(1, 5000);
        byte[] b = Robust.bytes(2, 6000);
        byte[] c = Robust.bytes(3, 7000);
        String fmt = "/branches/crash/t/j/f/";
        String done = "/branches/crash/t/j/done/";
        TestServer first = TestServer.start(r, Map.of("DLREPO_FSYNC", "0"));
        assertEquals(201, first.upload(fmt + "a.bin", a).statusCode());
        assertEquals(201, first.upload(fmt + "sub/b.bin", b).statusCode());
        assertEquals(201, first.upload(fmt + "kept.bin", c).statusCode());
        assertEquals(201, first.upload(done + "x.bin", a).statusCode());
        assertEquals(200, patch(first, done).statusCode());
        first.daemon().close(); // stopped, root kept (TestServer.close() would delete it)

        Path f = r.resolve(fmt.substring(1));
        Path blobB = Robust.blob(r, Robust.hex(b));
        Path blobC = Robust.blob(r, Robust.hex(c));
        // linked, killed before .digests was written
        Files.createDirectories(f.resolve("new/deep"));
        Files.createLink(f.resolve("new/deep/stray.bin"), blobC);
        // an entry whose file is gone
        Files.delete(f.resolve("sub/b.bin"));
        // a replacement linked, .digests not yet updated: a.bin holds c now
        Files.delete(f.resolve("a.bin"));
        Files.createLink(f.resolve("a.bin"), blobC);
        // temporary names of a replacing link and of an atomic write
        Files.createLink(f.resolve(".kept.bin.tmp-" + "0123456789abcdef".repeat(2)), blobC);
        Files.writeString(f.resolve(".digests.tmp-" + "fedcba9876543210".repeat(2)), "{\"half");
        // a finalized format is left alone (no upload can have been cut there)
        Path finalStray = r.resolve(done.substring(1)).resolve("added-by-hand.bin");
        Files.createLink(finalStray, blobB);

        try (TestServer s = TestServer.start(r, Map.of("DLREPO_FSYNC", "0"))) {
            assertEquals(Map.of("a.bin", "sha256:" + Robust.hex(a), "sub/b.bin", "sha256:" + Robust.hex(b),
                    "kept.bin", "sha256:" + Robust.hex(c)), Robust.digests(f), "the entries stay as acknowledged");
            assertArrayEquals(a, Files.readAllBytes(f.resolve("a.bin")), "replacement rolled back");
            assertArrayEquals(b, Files.readAllBytes(f.resolve("sub/b.bin")), "missing file linked again");
            assertFalse(Files.exists(f.resolve("new")), "unlisted file and its folders removed");
            assertEquals(List.of(".digests", ".dirty", "a.bin", "kept.bin", "sub"), Robust.list(f));
            assertArrayEquals(a, s.getBytes(fmt + "a.bin").body());
            assertEquals(404, s.getBytes(fmt + "new/deep/stray.bin").statusCode());
            assertTrue(Files.exists(finalStray), "a finalized format was modified");
            assertEquals(2, Robust.nlink(blobC), "stray or temporary links of blob c left");
            assertEquals(3, Robust.nlink(blobB), "blob b: blob, sub/b.bin, the hand-made link");
        }
    }

    @Test
    void startupSurvivesAnUnreadableDirtyFormat() throws Exception {
        Path r = root.resolve("r");
        TestServer first = TestServer.start(r, Map.of("DLREPO_FSYNC", "0"));
        assertEquals(201, first.upload("/branches/bad/t/j/f/a.bin", "a\n").statusCode());
        assertEquals(201, first.upload("/branches/good/t/j/f/b.bin", "b\n").statusCode());
        first.daemon().close();
        Files.writeString(r.resolve("branches/bad/t/j/f/.digests"), "{\"a.bin\": ");
        try (TestServer s = TestServer.start(r, Map.of("DLREPO_FSYNC", "0"))) {
            assertEquals("b\n", s.get("/branches/good/t/j/f/b.bin").body());
        }
    }

    // ------------------------------------------------------------------ SIGKILL

    private static int put(DaemonProcess d, String path, byte[] body) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(d.url(path)).toURL().openConnection();
        c.setRequestMethod("PUT");
        c.setDoOutput(true);
        c.setConnectTimeout(5000);
        c.setReadTimeout(30000);
        c.setFixedLengthStreamingMode(body.length);
        c.setRequestProperty("Digest", "sha256:" + Robust.hex(body));
        try (OutputStream out = c.getOutputStream()) {
            out.write(body);
        }
        try {
            return c.getResponseCode();
        } finally {
            c.disconnect();
        }
    }

    private static byte[] get(DaemonProcess d, String path) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(d.url(path)).toURL().openConnection();
        c.setConnectTimeout(5000);
        c.setReadTimeout(30000);
        try {
            assertEquals(200, c.getResponseCode(), path);
            return c.getInputStream().readAllBytes();
        } finally {
            c.disconnect();
        }
    }

    private static void kill(DaemonProcess d) throws InterruptedException {
        d.process().destroyForcibly();
        assertTrue(d.process().waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, d.process().exitValue(), "not killed by SIGKILL");
    }

    @Test
    void acknowledgedUploadsSurviveSigkill() throws Exception {
        Map<String, byte[]> sent = new HashMap<>();
        try (DaemonProcess d = DaemonProcess.start(root, Map.of())) {
            for (int i = 0; i < 30; i++) {
                String path = "/branches/k/t" + (i % 3) + "/j/f" + (i % 2) + "/file" + i + ".bin";
                byte[] data = Robust.bytes(1000 + i, 1000 + i * 997);
                assertEquals(201, put(d, path, data), path);
                sent.put(path, data);
            }
            kill(d);
        }
        try (DaemonProcess d = DaemonProcess.start(root, Map.of())) {
            for (Map.Entry<String, byte[]> e : sent.entrySet()) {
                assertArrayEquals(e.getValue(), get(d, e.getKey()), e.getKey());
            }
        }
        assertEquals(sent.size(), Robust.assertConsistent(root));
    }

    /**
     * SIGKILL while uploads are streaming and committing: everything acknowledged before
     * the kill is there after a restart; what was not acknowledged is there completely
     * or not at all; in every format the files are exactly those of {@code .digests}.
     */
    @Test
    void sigkillDuringUploadsLosesNothingAcknowledged() throws Exception {
        Map<String, byte[]> acked = new ConcurrentHashMap<>();
        Map<String, byte[]> attempted = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (DaemonProcess d = DaemonProcess.start(root, Map.of())) {
            for (int t = 0; t < 4; t++) {
                int id = t;
                pool.submit(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        String path = "/branches/kill/t/j" + id + "/f" + (i % 3) + "/d" + (i % 5) + "/file" + i;
                        byte[] data = Robust.bytes(id * 100_000L + i, 500 + (i * 7919) % 200_000);
                        attempted.put(path, data);
                        try {
                            if (put(d, path, data) == 201) {
                                acked.put(path, data);
                            }
                        } catch (IOException e) {
                            return null; // the daemon is gone
                        }
                    }
                    return null;
                });
            }
            // a body cut short by the kill, too
            try (Socket s = new Socket("127.0.0.1", d.port())) {
                OutputStream out = s.getOutputStream();
                out.write(("PUT /branches/kill/t/partial/f/x HTTP/1.1\r\nHost: x\r\nDigest: sha256:" + "1".repeat(64)
                        + "\r\nContent-Length: 5000000\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(new byte[300_000]);
                out.flush();
                assertTrue(Robust.eventually(20, () -> acked.size() >= 40), "uploads too slow: " + acked.size());
                kill(d);
            }
            stop.set(true);
            pool.shutdown();
            assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
        System.out.println("acknowledged before SIGKILL: " + acked.size() + " of " + attempted.size());

        try (DaemonProcess d = DaemonProcess.start(root, Map.of())) {
            // the restarted daemon repaired what the kill cut between "linked" and "listed"
            Robust.assertConsistent(root);
            for (Map.Entry<String, byte[]> e : acked.entrySet()) {
                assertArrayEquals(e.getValue(), get(d, e.getKey()), e.getKey());
            }
            // unacknowledged ones: complete or absent
            List<String> present = new ArrayList<>();
            for (Map.Entry<String, byte[]> e : attempted.entrySet()) {
                Path f = root.resolve(e.getKey().substring(1));
                if (!acked.containsKey(e.getKey()) && Files.exists(f)) {
                    assertArrayEquals(e.getValue(), Files.readAllBytes(f), e.getKey());
                    present.add(e.getKey());
                }
            }
            System.out.println("unacknowledged but complete: " + present);
            assertFalse(Files.exists(root.resolve("branches/kill/t/partial")), "a cut body created its job");
            // the restarted daemon accepts writes into the same formats
            byte[] more = Robust.bytes(7, 1234);
            assertEquals(201, put(d, "/branches/kill/t/j0/f0/after-restart", more));
            assertArrayEquals(more, get(d, "/branches/kill/t/j0/f0/after-restart"));
        }
        Robust.assertConsistent(root);
        for (Map.Entry<String, byte[]> e : acked.entrySet()) {
            assertTrue(Files.exists(Robust.blob(root, Robust.hex(e.getValue()))), "blob of " + e.getKey());
        }
        // an orphan from the cut body or a killed commit is allowed, nothing else
        for (String u : Robust.list(root.resolve(".uploads"))) {
            assertTrue(u.matches("[0-9a-f]{32}"), "unexpected entry in .uploads: " + u);
        }
    }
}
