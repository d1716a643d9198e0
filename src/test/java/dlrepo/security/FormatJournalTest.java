package dlrepo.security;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.Caller;
import dlrepo.Check;
import dlrepo.DaemonProcess;
import dlrepo.Layout;
import dlrepo.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Large formats: an upload appends one line to the format's journal instead of rewriting
 * its whole {@code .digests}; the journal is folded into {@code .digests} when the format
 * is finalized and by the start-up repair. Readers see every acknowledged upload, a crash
 * (SIGKILL) loses nothing acknowledged and shows no half-written entry, and the folded
 * {@code .digests} is byte for byte the JSON file it always was.
 */
class FormatJournalTest {
    private Path root;

    @BeforeEach
    void setUp() throws IOException {
        root = Files.createTempDirectory("dlrepo-journal-");
    }

    @AfterEach
    void tearDown() throws IOException {
        deleteTree(root);
    }

    /** Fails before the fix: every upload rewrote {@code .digests} (a new file each time). */
    @Test
    void anUploadAppendsToTheJournalInsteadOfRewritingDigests() throws Exception {
        try (TestServer s = TestServer.start(root.resolve("r"), Map.of())) {
            Caller c = s.anonymous();
            String fmt = "/branches/big/t/j/f/";
            Map<String, String> expected = new TreeMap<>();
            for (int i = 0; i < 100; i++) {
                String name = "dir" + (i % 7) + "/file-" + i + ".bin";
                byte[] data = ("content " + i).getBytes(StandardCharsets.UTF_8);
                assertStatus(201, c.upload(fmt + name, data));
                expected.put(name, TestServer.digest(data));
            }
            assertStatus(200, c.send("PATCH", fmt));
            Path dir = s.root().resolve("branches/big/t/j/f");
            Object keyBefore = Files.readAttributes(dir.resolve(".digests"),
                    java.nio.file.attribute.BasicFileAttributes.class).fileKey();
            byte[] before = Files.readAllBytes(dir.resolve(".digests"));
            assertArrayEquals(Layout.pythonJson(expected), before);

            byte[] extra = "one more, with a name to escape: \"é\"".getBytes(StandardCharsets.UTF_8);
            String extraName = "z/ünïcode \"quoted\".txt";
            String extraUrl = fmt + "z/%C3%BCn%C3%AFcode%20%22quoted%22.txt";
            assertStatus(201, c.upload(extraUrl, extra));
            expected.put(extraName, TestServer.digest(extra));
            assertEquals(keyBefore, Files.readAttributes(dir.resolve(".digests"),
                    java.nio.file.attribute.BasicFileAttributes.class).fileKey(), ".digests was rewritten");
            assertArrayEquals(before, Files.readAllBytes(dir.resolve(".digests")), ".digests was rewritten");
            List<String[]> journal = Layout.journal(dir);
            assertEquals(1, journal.size(), "one journal line per upload");
            assertEquals(extraName, journal.get(0)[0]);

            // every reader sees it: listing, the file, its .sha256, the format's checksums, the archive
            JsonNode listing = c.ok(fmt).get("artifact_format");
            assertTrue(listing.get("dirty").asBoolean());
            assertEquals(new ArrayList<>(expected.keySet()), strings(listing.get("files")));
            assertArrayEquals(extra, c.getBytes(extraUrl).body());
            HttpResponse<String> sum = c.get(extraUrl + ".sha256");
            assertStatus(200, sum);
            assertTrue(sum.body().startsWith(expected.get(extraName).substring(7) + "  "), sum.body());
            HttpResponse<String> sums = c.get("/branches/big/t/j/f.sha256");
            assertStatus(200, sums);
            assertTrue(sums.body().contains(expected.get(extraName).substring(7)), sums.body());
            HttpResponse<byte[]> tar = c.getBytes("/branches/big/t/j/f.tar");
            assertStatus(200, tar);
            assertTrue(tarNames(tar.body()).stream().anyMatch(n -> n.endsWith("quoted\".txt")), tarNames(tar.body()).toString());
            assertEquals(expected.size(), tarNames(tar.body()).stream().filter(n -> !n.endsWith("/SHA256SUMS.txt")).count(),
                    tarNames(tar.body()).toString());

            // finalize folds the journal: .digests is the same JSON file as ever
            assertStatus(200, c.send("PATCH", fmt));
            assertFalse(Files.exists(dir.resolve(".digests.journal")), "journal left after finalize");
            assertArrayEquals(Layout.pythonJson(expected), Files.readAllBytes(dir.resolve(".digests")));
            // and the job digest covers those bytes, as dlrepo-layout(7) computes it
            assertStatus(200, c.json("PUT", "/branches/big/t/j/", "{\"job\": {\"locked\": true}}"));
            String jobDigest = sha256Hex(Layout.pythonJson(Map.of(
                    ".metadata", "sha256:" + sha256Hex("{}".getBytes(StandardCharsets.US_ASCII)),
                    "f", "sha256:" + sha256Hex(Files.readAllBytes(dir.resolve(".digests"))))));
            assertEquals(jobDigest, c.ok("/branches/big/t/j/").get("job").get("digest").asText());
        }
    }

    /**
     * Uploads and finalizations of one format interleaved with readers: each read lists
     * every upload acknowledged before it started (the journal and {@code .digests} are
     * never seen half-folded).
     */
    @Test
    void readersSeeEveryAcknowledgedUploadWhileTheJournalIsFolded() throws Exception {
        try (TestServer s = TestServer.start(root.resolve("r"), Map.of("DLREPO_FSYNC", "0"))) {
            Caller c = s.anonymous();
            String fmt = "/branches/rd/t/j/f/";
            AtomicInteger acked = new AtomicInteger();
            AtomicBoolean done = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                Future<?> writer = pool.submit(() -> {
                    for (int i = 0; i < 400; i++) {
                        assertStatus(201, c.upload(fmt + "f" + String.format("%04d", i), "data " + i));
                        acked.incrementAndGet();
                        if (i % 37 == 0) {
                            assertStatus(200, c.send("PATCH", fmt));
                        }
                    }
                    done.set(true);
                    return null;
                });
                List<Future<Integer>> readers = new ArrayList<>();
                for (int r = 0; r < 2; r++) {
                    int which = r;
                    readers.add(pool.submit(() -> {
                        int reads = 0;
                        while (!done.get()) {
                            int n = acked.get();
                            if (n == 0) {
                                continue;
                            }
                            Set<String> seen = new TreeSet<>();
                            if (which == 0) {
                                strings(c.ok(fmt).get("artifact_format").get("files")).forEach(seen::add);
                            } else {
                                HttpResponse<String> sums = c.get("/branches/rd/t/j/f.sha256");
                                assertStatus(200, sums);
                                for (String line : sums.body().split("\n")) {
                                    seen.add(line.substring(line.indexOf("  ") + 2));
                                }
                            }
                            for (int i = 0; i < n; i++) {
                                String name = "f" + String.format("%04d", i);
                                assertTrue(seen.contains(name), name + " acknowledged but not seen");
                            }
                            reads++;
                        }
                        return reads;
                    }));
                }
                writer.get(120, TimeUnit.SECONDS);
                for (Future<Integer> r : readers) {
                    assertTrue(r.get(30, TimeUnit.SECONDS) > 0);
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(400, c.ok(fmt).get("artifact_format").get("files").size());
        }
    }

    /**
     * Readers wait for the entries only while they change, not for a whole finalization:
     * a listing, a file and the checksums of a format are served while its post-processing
     * command runs (it waits here until the test has read them).
     */
    @Test
    void readersAreNotHeldUpByAPostProcessingCommand() throws Exception {
        Path started = root.resolve("started");
        Path release = root.resolve("release");
        Path script = root.resolve("post.sh");
        Files.writeString(script, "#!/bin/sh\ntouch " + started + "\n"
                + "i=0; while [ ! -e " + release + " ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done\n"
                + "echo added > added.txt\n");
        Files.setPosixFilePermissions(script, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        try (TestServer s = TestServer.start(root.resolve("r"), Map.of("DLREPO_POST_PROCESS_CMD", script.toString()))) {
            Caller c = s.anonymous();
            String fmt = "/branches/pp/t/j/f/";
            assertStatus(201, c.upload(fmt + "a.txt", "a\n"));
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<HttpResponse<String>> finalize = pool.submit(() -> c.send("PATCH", fmt));
                assertTrue(Check.eventually(30_000, () -> Files.exists(started)), "the command never started");
                // the format's lock is held by the finalization: these must not wait for it
                assertEquals(List.of("a.txt"), strings(c.ok(fmt).get("artifact_format").get("files")));
                assertEquals("a\n", c.get(fmt + "a.txt").body());
                assertStatus(200, c.get("/branches/pp/t/j/f.sha256"));
                assertFalse(finalize.isDone(), "the command ended before the reads");
                Files.createFile(release);
                assertStatus(200, finalize.get(60, TimeUnit.SECONDS));
            } finally {
                pool.shutdownNow();
            }
            assertEquals(List.of("a.txt", "added.txt"), strings(c.ok(fmt).get("artifact_format").get("files")));
        }
    }

    /**
     * What a crash leaves at the end of the journal, a line cut short or damaged, is not
     * an entry: the next start ignores it and folds the rest into {@code .digests}.
     */
    @Test
    void aTornOrDamagedJournalLineIsIgnoredAtStartUp() throws Exception {
        Path r = root.resolve("r");
        String fmt = "/branches/torn/t/j/f/";
        Path dir = r.resolve("branches/torn/t/j/f");
        TestServer first = TestServer.start(r, Map.of());
        assertStatus(201, first.anonymous().upload(fmt + "a", "a"));
        assertStatus(201, first.anonymous().upload(fmt + "b", "b"));
        first.daemon().close();
        Path journal = dir.resolve(".digests.journal");
        assertTrue(Files.exists(journal), "no journal written");
        String good = journalLine("c", TestServer.digest("c"));
        // a damaged line (one character changed) and a line cut by the crash
        String damaged = good.replace("\"c\"", "\"d\"");
        Files.writeString(journal, damaged + good.substring(0, good.length() / 2), StandardOpenOption.APPEND);
        assertEquals(2, Layout.journal(dir).size(), "the test's lines must not parse");
        try (TestServer s = TestServer.start(r, Map.of())) {
            Map<String, String> expected = Map.of("a", TestServer.digest("a"), "b", TestServer.digest("b"));
            assertEquals(List.of("a", "b"), strings(s.anonymous().ok(fmt).get("artifact_format").get("files")));
            assertFalse(Files.exists(journal), "the start-up repair folds the journal");
            assertArrayEquals(Layout.pythonJson(expected), Files.readAllBytes(dir.resolve(".digests")));
            assertStatus(404, s.anonymous().get(fmt + "c"));
            assertStatus(404, s.anonymous().get(fmt + "d"));
            // the format takes uploads again, into a new journal
            assertStatus(201, s.anonymous().upload(fmt + "c", "c"));
            assertEquals(List.of("a", "b", "c"), strings(s.anonymous().ok(fmt).get("artifact_format").get("files")));
        }
    }

    /**
     * SIGKILL while four clients upload and link into one format: after a restart every
     * acknowledged file is there, every listed file is on disk and every file on disk is
     * listed (no ghost), an unacknowledged one is complete or absent; finalizing writes
     * exactly the JSON of the listed files.
     */
    @Test
    void sigkillWhileUploadingIntoOneFormatLosesNothingAcknowledged() throws Exception {
        String fmt = "/branches/kill/t/j/f/";
        Path dir = root.resolve("branches/kill/t/j/f");
        Map<String, byte[]> acked = new ConcurrentHashMap<>();
        Map<String, byte[]> attempted = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (DaemonProcess d = DaemonProcess.start(root, Map.of())) {
            List<byte[]> linkable = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                byte[] data = bytes(9000 + i, 3000 + i);
                assertEquals(201, put(http, d, "/branches/seed/t/j/f/s" + i, data, false));
                linkable.add(data);
            }
            for (int t = 0; t < 4; t++) {
                int id = t;
                pool.submit(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        boolean link = id % 2 == 1;
                        String name = (link ? "linked/" : "up/") + (i % 11) + "/t" + id + "-" + i;
                        byte[] data = link ? linkable.get(i % linkable.size()) : bytes(id * 1_000_000L + i, 200 + i % 5000);
                        attempted.put(name, data);
                        try {
                            if (put(http, d, fmt + name, data, link) == 201) {
                                acked.put(name, data);
                            }
                        } catch (IOException e) {
                            return null; // killed
                        }
                    }
                    return null;
                });
            }
            assertTrue(Check.eventually(60_000, () -> acked.size() >= 300), "uploads too slow: " + acked.size());
            d.process().destroyForcibly();
            assertTrue(d.process().waitFor(30, TimeUnit.SECONDS));
            assertEquals(137, d.process().exitValue(), "not killed by SIGKILL");
            stop.set(true);
            pool.shutdown();
            assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
        System.out.println("acknowledged before SIGKILL: " + acked.size() + " of " + attempted.size());

        try (DaemonProcess d = DaemonProcess.start(root, Map.of())) {
            assertFalse(Files.exists(dir.resolve(".digests.journal")), "start-up did not fold the journal");
            Map<String, String> listed = Layout.digests(dir);
            List<String> viaHttp = strings(Check.JSON.readTree(get(http, d, fmt)).get("artifact_format").get("files"));
            assertEquals(new ArrayList<>(listed.keySet()), viaHttp);
            assertEquals(new TreeSet<>(listed.keySet()), Layout.visibleFiles(dir), "files on disk vs listed");
            for (Map.Entry<String, String> e : listed.entrySet()) {
                assertEquals(e.getValue(), "sha256:" + sha256Hex(Files.readAllBytes(dir.resolve(e.getKey()))), e.getKey());
            }
            for (Map.Entry<String, byte[]> e : acked.entrySet()) {
                assertTrue(listed.containsKey(e.getKey()), "acknowledged but lost: " + e.getKey());
                assertArrayEquals(e.getValue(), Files.readAllBytes(dir.resolve(e.getKey())), e.getKey());
            }
            for (String name : listed.keySet()) {
                assertTrue(attempted.containsKey(name), name);
                assertArrayEquals(attempted.get(name), Files.readAllBytes(dir.resolve(name)), name);
            }
            // finalize: the journal folded into the JSON of exactly the listed files
            assertEquals(200, send(http, d, "PATCH", fmt));
            byte[] json = Files.readAllBytes(dir.resolve(".digests"));
            assertArrayEquals(Layout.pythonJson(listed), json);
            assertFalse(Files.exists(dir.resolve(".digests.journal")));
        }
    }

    // ------------------------------------------------------------------ helpers

    /** A journal line as dlrepo-layout(7) describes it, made by the test. */
    private static String journalLine(String path, String digest) {
        String rest = digest + " \"" + path + "\"";
        CRC32C crc = new CRC32C();
        crc.update(rest.getBytes(StandardCharsets.US_ASCII));
        return String.format("%08x", crc.getValue()) + " " + rest + "\n";
    }

    private static int put(HttpClient http, DaemonProcess d, String path, byte[] data, boolean link)
            throws IOException {
        String digest = TestServer.digest(data);
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(d.url(path))).timeout(Duration.ofSeconds(30))
                .header("Digest", digest);
        if (link) {
            b.header("X-Dlrepo-Link", digest).PUT(HttpRequest.BodyPublishers.noBody());
        } else {
            b.PUT(HttpRequest.BodyPublishers.ofByteArray(data));
        }
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static String get(HttpClient http, DaemonProcess d, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(d.url(path))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    private static int send(HttpClient http, DaemonProcess d, String method, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(d.url(path)))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** The member names of a ustar archive (GNU long names and pax headers are not expected here). */
    static List<String> tarNames(byte[] tar) {
        List<String> names = new ArrayList<>();
        int pos = 0;
        while (pos + 512 <= tar.length && tar[pos] != 0) {
            String name = cString(tar, pos, 100);
            String prefix = cString(tar, pos + 345, 155);
            char type = (char) tar[pos + 156];
            long size = Long.parseLong(cString(tar, pos + 124, 12).trim(), 8);
            if (type == 'x' || type == 'L') {
                // pax or GNU long-name header: the real name is in the next header or its data
                String data = new String(tar, pos + 512, (int) size, StandardCharsets.UTF_8);
                pos += 512 + (int) ((size + 511) / 512) * 512;
                if (type == 'L') {
                    names.add(data.replace("\0", ""));
                } else {
                    for (String rec : data.split("\n")) {
                        int eq = rec.indexOf(" path=");
                        if (eq >= 0) {
                            names.add(rec.substring(eq + 6));
                        }
                    }
                }
                long realSize = Long.parseLong(cString(tar, pos + 124, 12).trim(), 8);
                pos += 512 + (int) ((realSize + 511) / 512) * 512;
                continue;
            }
            names.add(prefix.isEmpty() ? name : prefix + "/" + name);
            pos += 512 + (int) ((size + 511) / 512) * 512;
        }
        return names;
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    static byte[] bytes(long seed, int n) {
        byte[] b = new byte[n];
        new java.util.SplittableRandom(seed).nextBytes(b);
        return b;
    }

    static String sha256Hex(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var s = Files.walk(p)) {
            for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}
