package dlrepo.robustness;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Many clients at once: identical content stored once, no lost {@code .digests} entry,
 * and a tag deletion racing an upload never leaves half a state behind.
 */
class ConcurrencyTest {
    private TestServer s;
    private ExecutorService pool;

    @BeforeEach
    void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_FSYNC", "0"));
        pool = Executors.newFixedThreadPool(16);
    }

    @AfterEach
    void stop() throws Exception {
        pool.shutdownNow();
        pool.awaitTermination(30, TimeUnit.SECONDS);
        s.close();
    }

    private <T> List<T> runAll(List<Callable<T>> tasks) throws Exception {
        List<Future<T>> futures = new ArrayList<>();
        for (Callable<T> t : tasks) {
            futures.add(pool.submit(t));
        }
        List<T> out = new ArrayList<>();
        for (Future<T> f : futures) {
            out.add(f.get(120, TimeUnit.SECONDS));
        }
        return out;
    }

    @Test
    void sameContentToManyPathsIsStoredOnce() throws Exception {
        byte[] data = Robust.bytes(42, 300_000);
        String hex = Robust.hex(data);
        int threads = 16;
        int perThread = 5;
        CyclicBarrier go = new CyclicBarrier(threads);
        List<Callable<List<String>>> tasks = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            tasks.add(() -> {
                go.await(30, TimeUnit.SECONDS);
                List<String> paths = new ArrayList<>();
                for (int i = 0; i < perThread; i++) {
                    // half the threads share one format, the others spread over jobs and tags
                    String path = id % 2 == 0
                            ? "/branches/same/t/job/fmt/dir" + i + "/file" + id + ".bin"
                            : "/branches/same/t" + (id % 3) + "/job" + id + "/fmt" + i + "/file.bin";
                    HttpResponse<String> r = s.upload(path, data);
                    assertEquals(201, r.statusCode(), () -> path + ": " + r.body());
                    paths.add(path);
                }
                return paths;
            });
        }
        List<String> all = new ArrayList<>();
        runAll(tasks).forEach(all::addAll);
        assertEquals(threads * perThread, all.size());

        assertEquals(List.of("sha256/" + hex.substring(0, 2) + "/" + hex), Robust.blobFiles(s.root()),
                "exactly one blob for the content");
        Path blob = Robust.blob(s.root(), hex);
        assertEquals(1 + all.size(), Robust.nlink(blob), "blob link count = 1 + files in the tree");
        Object ino = Robust.inode(blob);
        for (String p : all) {
            Path file = s.root().resolve(p.substring(1));
            assertEquals(ino, Robust.inode(file), p + " is not a link of the blob");
            assertArrayEquals(data, Files.readAllBytes(file), p);
        }
        // and through HTTP, a few of them
        for (String p : all.subList(0, 5)) {
            HttpResponse<byte[]> r = s.getBytes(p);
            assertEquals(200, r.statusCode());
            assertArrayEquals(data, r.body());
        }
        assertEquals(List.of(), Robust.list(s.root().resolve(".uploads")), "no upload left behind");
        assertEquals(all.size(), Robust.assertConsistent(s.root()));
    }

    @Test
    void concurrentUploadsToOneFormatLoseNoDigestEntry() throws Exception {
        int threads = 16;
        int perThread = 8;
        String format = "/branches/one/t/j/fmt/";
        CyclicBarrier go = new CyclicBarrier(threads);
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            tasks.add(() -> {
                go.await(30, TimeUnit.SECONDS);
                for (int i = 0; i < perThread; i++) {
                    // a few identical contents too (dedup under contention)
                    byte[] data = Robust.bytes(i % 3 == 0 ? 7 : id * 1000L + i, 1000 + id * 100 + i);
                    String path = format + (i % 2 == 0 ? "sub" + id + "/" : "") + "f-" + id + "-" + i;
                    HttpResponse<String> r = s.upload(path, data);
                    assertEquals(201, r.statusCode(), () -> path + ": " + r.body());
                }
                return null;
            });
        }
        runAll(tasks);
        Path dir = s.root().resolve(format.substring(1));
        Map<String, String> digests = Robust.digests(dir);
        assertEquals(threads * perThread, digests.size(), () -> "entries of .digests: " + digests.keySet());
        for (int id = 0; id < threads; id++) {
            for (int i = 0; i < perThread; i++) {
                String rel = (i % 2 == 0 ? "sub" + id + "/" : "") + "f-" + id + "-" + i;
                byte[] data = Robust.bytes(i % 3 == 0 ? 7 : id * 1000L + i, 1000 + id * 100 + i);
                assertEquals("sha256:" + Robust.hex(data), digests.get(rel), rel);
                assertArrayEquals(data, Files.readAllBytes(dir.resolve(rel)), rel);
            }
        }
        // the API lists every file too
        String listing = s.get(format).body();
        for (String rel : digests.keySet()) {
            assertTrue(listing.contains("\"" + rel + "\""), rel + " missing from " + listing);
        }
        assertEquals(threads * perThread, Robust.assertConsistent(s.root()));
        assertEquals(List.of(), Robust.list(s.root().resolve(".uploads")));
        // no temporary file of an atomic write left in the format
        try (var files = Files.walk(dir)) {
            List<Path> tmp = files.filter(p -> p.getFileName().toString().contains(".tmp-")).toList();
            assertEquals(List.of(), tmp);
        }
    }

    @Test
    void uploadRacingTagDeletionLeavesNoHalfState() throws Exception {
        int rounds = 40;
        byte[] seed = "seed\n".getBytes();
        List<String> outcomes = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            int round = r;
            String tag = "/branches/race/t" + round + "/";
            assertEquals(201, s.upload(tag + "j/fmt/seed.txt", seed).statusCode());
            byte[] data = Robust.bytes(round, 50_000 + round * 4000);
            String path = tag + "j/fmt/dir/up" + round + ".bin";
            CyclicBarrier go = new CyclicBarrier(2);
            Future<Integer> up = pool.submit(() -> {
                go.await(10, TimeUnit.SECONDS);
                return s.upload(path, data).statusCode();
            });
            Future<Integer> del = pool.submit(() -> {
                go.await(10, TimeUnit.SECONDS);
                if (round % 2 == 1) {
                    Thread.sleep(round % 4); // shift the overlap around
                }
                return s.delete(tag).statusCode();
            });
            int upStatus = up.get(60, TimeUnit.SECONDS);
            int delStatus = del.get(60, TimeUnit.SECONDS);
            assertEquals(201, upStatus, "upload");
            assertEquals(200, delStatus, "tag deletion");

            Path tagDir = s.root().resolve(tag.substring(1));
            Path fmt = tagDir.resolve("j/fmt");
            Path file = fmt.resolve("dir/up" + round + ".bin");
            Map<String, String> digests = Robust.digests(fmt);
            boolean fileThere = Files.exists(file);
            boolean entryThere = digests.containsKey("dir/up" + round + ".bin");
            if (Files.exists(tagDir)) {
                // the upload came last: it recreated the tag with its file, completely
                assertTrue(fileThere && entryThere, "half state: file " + fileThere + ", entry " + entryThere);
                assertEquals("sha256:" + Robust.hex(data), digests.get("dir/up" + round + ".bin"));
                assertArrayEquals(data, Files.readAllBytes(file));
                assertEquals(new TreeSet<>(List.of("dir/up" + round + ".bin")), Robust.visibleFiles(fmt),
                        "the deleted seed file came back");
                assertTrue(Files.exists(tagDir.resolve(".stamp")), "recreated tag has no .stamp");
                assertEquals(200, s.get(tag).statusCode());
                outcomes.add("upload-last");
            } else {
                assertEquals(404, s.get(tag).statusCode());
                assertEquals(404, s.getBytes(path).statusCode());
                outcomes.add("delete-last");
            }
            Robust.assertConsistent(s.root());
        }
        // what happened is up to the scheduler; both outcomes are fine
        System.out.println("upload vs tag deletion: " + outcomes);
        assertEquals(List.of(), Robust.list(s.root().resolve(".uploads")));
    }

    /**
     * Streaming a body takes no lock: clients stuck in the middle of their uploads into a
     * format do not hold up other uploads into the same format, its finalization, or the
     * deletion of another tag. (Each stuck client does hold a worker thread: see the
     * report about read timeouts.)
     */
    @Test
    void stuckUploadsDoNotBlockTheirFormat() throws Exception {
        String format = "/branches/stuck/t/j/fmt/";
        assertEquals(201, s.upload(format + "first", "1\n").statusCode());
        assertEquals(201, s.upload("/branches/stuck/other/j/fmt/x", "x\n").statusCode());
        List<java.net.Socket> stuck = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                java.net.Socket sock = new java.net.Socket("127.0.0.1", s.port());
                sock.getOutputStream().write(("PUT " + format + "stuck" + i + " HTTP/1.1\r\nHost: x\r\nDigest: sha256:"
                        + "0".repeat(64) + "\r\nContent-Length: 1000000\r\n\r\n")
                        .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                sock.getOutputStream().write(new byte[10_000]);
                sock.getOutputStream().flush();
                stuck.add(sock);
            }
            assertTrue(Robust.eventually(10, () -> Robust.listQuietly(s.root().resolve(".uploads")).size() == 8),
                    "the stuck uploads did not start");
            // bounded waits: a hang fails the test instead of blocking the build
            Future<Integer> other = pool.submit(() -> s.upload(format + "second", "2\n").statusCode());
            assertEquals(201, other.get(30, TimeUnit.SECONDS));
            Future<Integer> fin = pool.submit(() -> s.send(s.request(format)
                    .method("PATCH", java.net.http.HttpRequest.BodyPublishers.noBody()).build()).statusCode());
            assertEquals(200, fin.get(30, TimeUnit.SECONDS));
            Future<Integer> del = pool.submit(() -> s.delete("/branches/stuck/other/").statusCode());
            assertEquals(200, del.get(30, TimeUnit.SECONDS));
            assertEquals(Map.of("first", "sha256:" + Robust.hex("1\n".getBytes()),
                    "second", "sha256:" + Robust.hex("2\n".getBytes())),
                    Robust.digests(s.root().resolve(format.substring(1))));
        } finally {
            for (java.net.Socket sock : stuck) {
                sock.close();
            }
        }
        assertTrue(Robust.eventually(10, () -> Robust.listQuietly(s.root().resolve(".uploads")).isEmpty()),
                "uploads of the stuck clients left behind: " + Robust.listQuietly(s.root().resolve(".uploads")));
    }

    /**
     * A user repository under concurrent uploads and deletions: {@code .disk_usage} ends
     * equal to the size of the files, and concurrent uploads never exceed the quota
     * together.
     */
    @Test
    void quotaAccountingUnderConcurrency() throws Exception {
        s.close();
        long quota = 1_000_000;
        s = TestServer.start(Map.of("DLREPO_FSYNC", "0", "DLREPO_USER_QUOTA", Long.toString(quota)));
        int threads = 16;
        CyclicBarrier go = new CyclicBarrier(threads);
        List<Callable<int[]>> tasks = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            tasks.add(() -> {
                go.await(30, TimeUnit.SECONDS);
                int[] counts = new int[2];
                for (int i = 0; i < 6; i++) {
                    // 16 x 6 x ~30 kB: about three times the quota is attempted
                    byte[] data = Robust.bytes(id * 100L + i, 25_000 + id * 500 + i);
                    String tag = "/~alice/branches/q/t" + (id % 4) + "/";
                    int st = s.upload(tag + "j" + id + "/f/file" + i, data).statusCode();
                    assertTrue(st == 201 || st == 413, "upload: " + st);
                    counts[st == 201 ? 0 : 1]++;
                    if (i == 3 && id % 5 == 0) {
                        int d = s.delete("/~alice/branches/q/t" + (id % 4) + "/j" + id + "/").statusCode();
                        assertTrue(d == 200 || d == 404, "delete: " + d);
                    }
                }
                return counts;
            });
        }
        int ok = 0;
        int refused = 0;
        for (int[] c : runAll(tasks)) {
            ok += c[0];
            refused += c[1];
        }
        Path repo = s.root().resolve("users/alice");
        long onDisk = dlrepo.fs.Quota.sizeOf(repo.resolve("branches"));
        long recorded = Long.parseLong(Files.readString(repo.resolve(".disk_usage")).strip());
        System.out.println("quota: " + ok + " stored, " + refused + " refused, " + onDisk + " bytes on disk");
        assertTrue(refused > 0, "the quota never kicked in");
        assertEquals(onDisk, recorded, ".disk_usage drifted from the files");
        assertTrue(onDisk <= quota, "quota overshot: " + onDisk);
        Robust.assertConsistent(repo);
    }

    @Test
    void manyWritersOfOneFileEndConsistent() throws Exception {
        String path = "/branches/w/t/j/fmt/same.bin";
        int threads = 16;
        CyclicBarrier go = new CyclicBarrier(threads);
        List<Callable<Integer>> tasks = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            tasks.add(() -> {
                go.await(30, TimeUnit.SECONDS);
                int st = 0;
                for (int i = 0; i < 4; i++) {
                    st = s.upload(path, Robust.bytes(id * 10L + i, 20_000 + id)).statusCode();
                    assertEquals(201, st);
                }
                return st;
            });
        }
        runAll(tasks);
        Path file = s.root().resolve(path.substring(1));
        String recorded = Robust.digests(file.getParent()).get("same.bin");
        assertEquals(recorded, "sha256:" + Robust.fileHex(file), "content and .digests disagree");
        assertEquals(Robust.inode(Robust.blob(s.root(), recorded.substring(7))), Robust.inode(file));
        assertEquals(1, Robust.assertConsistent(s.root()));
        // every other version is an unreferenced blob now (for the collector)
        int orphans = 0;
        for (String b : Robust.blobFiles(s.root())) {
            if (Robust.nlink(s.root().resolve(".blobs").resolve(b)) == 1) {
                orphans++;
            }
        }
        assertEquals(threads * 4 - 1, orphans);
    }

    /**
     * Locking a job races an upload into it: either the upload came first (the format is
     * dirty, so the lock is refused) or the lock did (the upload is refused). Never a
     * locked job with a dirty format.
     */
    @Test
    void jobLockRacingAnUploadNeverLocksADirtyFormat() throws Exception {
        int[] outcomes = new int[2];
        for (int r = 0; r < 30; r++) {
            int round = r;
            String job = "/branches/lock/t" + round + "/j/";
            // (not TestServer.uploadFinalized: it takes the whole file URL for the format)
            assertEquals(201, s.upload(job + "fmt/a", "a\n").statusCode());
            assertEquals(200, s.send(s.request(job + "fmt/")
                    .method("PATCH", java.net.http.HttpRequest.BodyPublishers.noBody()).build()).statusCode());
            CyclicBarrier go = new CyclicBarrier(2);
            byte[] data = Robust.bytes(round, 40_000);
            Future<HttpResponse<String>> up = pool.submit(() -> {
                go.await(10, TimeUnit.SECONDS);
                return s.upload(job + "fmt/b" + round, data);
            });
            Future<HttpResponse<String>> lock = pool.submit(() -> {
                go.await(10, TimeUnit.SECONDS);
                return s.json("PUT", job, "{\"job\": {\"locked\": true}}");
            });
            HttpResponse<String> u = up.get(60, TimeUnit.SECONDS);
            HttpResponse<String> l = lock.get(60, TimeUnit.SECONDS);
            Path jobDir = s.root().resolve(job.substring(1));
            boolean locked = Files.exists(jobDir.resolve(".locked"));
            boolean dirty = Files.exists(jobDir.resolve("fmt/.dirty"));
            if (u.statusCode() == 201) {
                assertEquals(400, l.statusCode(), "locked a job with a dirty format: " + l.body());
                assertTrue(l.body().contains("dirty"), l.body());
                assertTrue(dirty && !locked);
                outcomes[0]++;
            } else {
                assertEquals(400, u.statusCode(), u.body());
                assertTrue(u.body().contains("locked"), u.body());
                assertEquals(200, l.statusCode(), l.body());
                assertTrue(locked && !dirty);
                assertFalse(Files.exists(jobDir.resolve("fmt/b" + round)));
                outcomes[1]++;
            }
        }
        System.out.println("upload first: " + outcomes[0] + ", lock first: " + outcomes[1]);
        Robust.assertConsistent(s.root());
    }
}
