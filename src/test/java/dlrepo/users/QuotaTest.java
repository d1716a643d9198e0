package dlrepo.users;

import static dlrepo.products.Helpers.artifactBytes;
import static dlrepo.products.Helpers.artifactFiles;
import static dlrepo.products.Helpers.assertError;
import static dlrepo.products.Helpers.blob;
import static dlrepo.products.Helpers.blobs;
import static dlrepo.products.Helpers.eventually;
import static dlrepo.products.Helpers.list;
import static dlrepo.products.Helpers.nlink;
import static dlrepo.products.Helpers.ok;
import static dlrepo.products.Helpers.sha256;
import static dlrepo.products.Helpers.unique;
import static dlrepo.products.Helpers.upload201;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestServer;
import dlrepo.cleanup.CleanupScheduler;
import dlrepo.products.Helpers;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The per-user disk quota (1000 bytes here): the limit itself, refusals that leave nothing
 * behind, links and replacements, racing uploads, and {@code .disk_usage} kept equal to the
 * artifact bytes on disk through deletes, cleanups and restarts.
 */
class QuotaTest {
    static final long QUOTA = 1000;
    static final Map<String, String> ENV = Map.of("DLREPO_USER_QUOTA", String.valueOf(QUOTA),
            "DLREPO_TAG_CLEANUP_PERIOD", "0");
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start(ENV);
        assertTrue(s.daemon().cleanup().awaitIdle(30_000));
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    /** {@code n} bytes that no other upload of this JVM has. */
    private static byte[] data(int n) {
        byte[] tag = (unique("content") + ":").getBytes(StandardCharsets.UTF_8);
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = i < tag.length ? tag[i] : (byte) ('a' + i % 26);
        }
        return b;
    }

    private static Path userDir(TestServer srv, String user) {
        return srv.root().resolve("users").resolve(user);
    }

    /** The usage as the API reports it. */
    private static long apiUsage(TestServer srv, String user) throws Exception {
        return ok(srv.get("/~" + user + "/")).at("/user/disk_usage").asLong();
    }

    /** Asserts that the API, {@code .disk_usage} and the files on disk agree on {@code expected}. */
    private static void assertUsage(TestServer srv, String user, long expected) throws Exception {
        Path dir = userDir(srv, user);
        assertEquals(expected, artifactBytes(dir.resolve("branches")), "artifact bytes on disk");
        assertEquals(expected, apiUsage(srv, user), "disk_usage of GET /~" + user + "/");
        String file = Files.readString(dir.resolve(".disk_usage"));
        assertTrue(file.matches("\\d+\n"), "decimal + newline: '" + file + "'");
        assertEquals(expected + "\n", file, ".disk_usage");
        assertEquals(QUOTA, ok(srv.get("/~" + user + "/")).at("/user/disk_quota").asLong());
    }

    /** Every path below a folder, dot files included, with the size of regular files. */
    private static List<String> snapshot(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        try (var st = Files.walk(dir)) {
            st.forEach(p -> {
                try {
                    out.add(dir.relativize(p) + (Files.isRegularFile(p) ? " " + Files.size(p) : ""));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
        out.sort(null);
        return out;
    }

    private static boolean uploadsEmpty() {
        try {
            return list(s.root().resolve(".uploads")).isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    /** A PUT whose body is sent chunked (no Content-Length): the server only knows the size at the end. */
    private static HttpResponse<String> uploadChunked(TestServer srv, String path, byte[] data) throws Exception {
        return srv.send(srv.request(path).header("Digest", TestServer.digest(data))
                .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(data))).build());
    }

    private static void assertQuotaError(HttpResponse<String> r, String user, long wouldUse) throws Exception {
        String msg = assertError(r, 413, null);
        assertEquals("User " + user + " quota exceeded (" + wouldUse + "/" + QUOTA + ")", msg);
    }

    @Test
    void uploadAtTheLimitThenOneByteOverLeavesNothingBehind() throws Exception {
        String u = unique("alice");
        String fmt = "/~" + u + "/branches/b/t/j/f/";
        upload201(s, fmt + "big.bin", data((int) QUOTA));
        assertUsage(s, u, QUOTA);
        Path dir = userDir(s, u);
        List<String> tree = snapshot(dir);
        List<String> store = blobs(s);
        Map<String, String> digests = dlrepo.Layout.digests(dir.resolve("branches/b/t/j/f"));
        byte[] one = data(1);
        String[] targets = {fmt + "more.bin", "/~" + u + "/branches/b/t/j2/f/x", "/~" + u + "/branches/b/t2/j/f/x",
            "/~" + u + "/branches/b2/t/j/f/x", fmt + "sub/dir/deep.bin"};
        for (String target : targets) {
            for (boolean chunked : new boolean[] {false, true}) {
                HttpResponse<String> r = chunked ? uploadChunked(s, target, one) : s.upload(target, one);
                assertQuotaError(r, u, QUOTA + 1);
                assertEquals(tree, snapshot(dir), target + (chunked ? " (chunked)" : "") + ": tree unchanged");
                assertEquals(digests, dlrepo.Layout.digests(dir.resolve("branches/b/t/j/f")));
                assertEquals(store, blobs(s), "no new blob");
                assertFalse(Files.exists(blob(s, sha256(one))));
                assertTrue(eventually(2000, QuotaTest::uploadsEmpty), ".uploads empty: " + list(s.root().resolve(".uploads")));
            }
        }
        assertUsage(s, u, QUOTA);
        assertEquals(404, s.get(fmt + "more.bin").statusCode());
        // an empty file still fits
        upload201(s, fmt + "empty", new byte[0]);
        assertUsage(s, u, QUOTA);
        // other users and the root repository are not limited by alice's usage
        String bob = unique("bob");
        upload201(s, "/~" + bob + "/branches/b/t/j/f/x", data(999));
        assertUsage(s, bob, 999);
        upload201(s, "/branches/" + unique("noquota") + "/t/j/f/x", data(3000));
    }

    @Test
    void linkingAnExistingBlobCountsItsFullSize() throws Exception {
        String u = unique("alice");
        byte[] shared = data(400);
        String hex = sha256(shared);
        upload201(s, "/branches/" + unique("src") + "/t/j/f/shared.bin", shared);
        upload201(s, "/~" + u + "/branches/b/t/j/f/own.bin", data(500));
        String digest = "sha256:" + hex;
        HttpResponse<String> r = Helpers.put(s, "/~" + u + "/branches/b/t/j/f/linked.bin", new byte[0],
                "Digest", digest, "X-Dlrepo-Link", digest);
        assertEquals(201, r.statusCode(), r.body());
        assertUsage(s, u, 900);
        assertEquals(3, nlink(blob(s, hex)));
        List<String> tree = snapshot(userDir(s, u));
        List<String> store = blobs(s);
        // a second link would reach 1300
        r = Helpers.put(s, "/~" + u + "/branches/b/t/j/f/linked2.bin", new byte[0], "Digest", digest,
                "X-Dlrepo-Link", digest);
        assertQuotaError(r, u, 1300);
        r = Helpers.put(s, "/~" + u + "/branches/b/t9/j/f/linked2.bin", new byte[0], "Digest", digest,
                "X-Dlrepo-Link", digest);
        assertQuotaError(r, u, 1300);
        assertEquals(tree, snapshot(userDir(s, u)));
        assertEquals(store, blobs(s));
        assertEquals(3, nlink(blob(s, hex)), "no new link");
        assertUsage(s, u, 900);
    }

    @Test
    void replacingAFileCountsTheSizeDifference() throws Exception {
        String u = unique("alice");
        String f = "/~" + u + "/branches/b/t/j/f/";
        upload201(s, f + "a.bin", data(600));
        upload201(s, f + "b.bin", data(400));
        assertUsage(s, u, 1000);
        // at the limit, a file of the same size can be replaced
        byte[] same = data(400);
        upload201(s, f + "b.bin", same);
        assertUsage(s, u, 1000);
        assertArrayEquals(same, Files.readAllBytes(userDir(s, u).resolve("branches/b/t/j/f/b.bin")));
        HttpResponse<String> chunked = uploadChunked(s, f + "b.bin", data(400));
        assertEquals(201, chunked.statusCode(), chunked.body());
        assertUsage(s, u, 1000);
        // smaller
        upload201(s, f + "b.bin", data(300));
        assertUsage(s, u, 900);
        // bigger: 900 - 300 + 401 = 1001
        byte[] current = Files.readAllBytes(userDir(s, u).resolve("branches/b/t/j/f/b.bin"));
        assertQuotaError(s.upload(f + "b.bin", data(401)), u, 1001);
        assertQuotaError(uploadChunked(s, f + "b.bin", data(401)), u, 1001);
        assertArrayEquals(current, Files.readAllBytes(userDir(s, u).resolve("branches/b/t/j/f/b.bin")));
        assertUsage(s, u, 900);
        upload201(s, f + "b.bin", data(400));
        assertUsage(s, u, 1000);
        // replacing by a link of an existing blob: the difference too
        byte[] small = data(100);
        upload201(s, "/branches/" + unique("src") + "/t/j/f/small", small);
        String d = TestServer.digest(small);
        HttpResponse<String> r = Helpers.put(s, f + "a.bin", new byte[0], "Digest", d, "X-Dlrepo-Link", d);
        assertEquals(201, r.statusCode(), r.body());
        assertUsage(s, u, 500);
    }

    @Test
    void parallelUploadsCannotOvershootTheQuota() throws Exception {
        String u = unique("racer");
        int threads = 20;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Integer>> results = new ArrayList<>();
        try {
            for (int i = 0; i < threads; i++) {
                int n = i;
                byte[] body = data(100);
                String path = "/~" + u + "/branches/b/t" + (n % 2) + "/j" + (n % 3) + "/f" + (n % 4) + "/file" + n;
                results.add(pool.submit(() -> {
                    go.await();
                    HttpResponse<String> r = n % 2 == 0 ? s.upload(path, body) : uploadChunked(s, path, body);
                    if (r.statusCode() == 413) {
                        assertTrue(r.body().contains("quota exceeded"), r.body());
                    }
                    return r.statusCode();
                }));
            }
            go.countDown();
            int created = 0;
            int refused = 0;
            for (Future<Integer> f : results) {
                int status = f.get();
                if (status == 201) {
                    created++;
                } else if (status == 413) {
                    refused++;
                } else {
                    throw new AssertionError("unexpected status " + status);
                }
            }
            assertEquals(10, created, "exactly the uploads that fit");
            assertEquals(10, refused);
        } finally {
            pool.shutdownNow();
        }
        Path branches = userDir(s, u).resolve("branches");
        assertEquals(10, artifactFiles(branches).size(), artifactFiles(branches).toString());
        assertUsage(s, u, 1000);
        // every file on disk is listed in its format's .digests, and nothing else is
        int listed = 0;
        try (var st = Files.walk(branches)) {
            for (Path p : st.filter(p -> p.getFileName().toString().equals(".dirty")).toList()) {
                for (String rel : dlrepo.Layout.digests(p.getParent()).keySet()) {
                    assertTrue(Files.isRegularFile(p.resolveSibling(rel)));
                    listed++;
                }
            }
        }
        assertEquals(10, listed);
        assertTrue(eventually(2000, QuotaTest::uploadsEmpty), ".uploads empty");
    }

    @Test
    void usageFollowsEveryKindOfDelete() throws Exception {
        String u = unique("alice");
        String r = "/~" + u + "/branches/";
        byte[] dup = data(100);
        upload201(s, r + "b1/t1/j1/f1/a", dup);
        upload201(s, r + "b1/t1/j1/f2/b", data(50));
        upload201(s, r + "b1/t1/j2/f/c", data(70));
        upload201(s, r + "b1/t2/j/f/d", data(30));
        upload201(s, r + "b2/t/j/f/e", dup); // the same content again: counted again
        upload201(s, r + "b2/t/j/f/sub/g", data(20));
        assertUsage(s, u, 370);
        Helpers.finalizeFormat(s, r + "b1/t1/j1/f1/");
        ok(s.delete(r + "b1/t1/j1/f2/"));
        assertUsage(s, u, 320);
        ok(s.delete(r + "b1/t1/j2/"));
        assertUsage(s, u, 250);
        ok(s.delete(r + "b1/t2/"));
        assertUsage(s, u, 220);
        ok(s.delete(r + "b2/"));
        assertUsage(s, u, 100);
        ok(s.delete(r + "b1/"));
        assertUsage(s, u, 0);
        // the freed space can be used again
        upload201(s, r + "b3/t/j/f/x", data((int) QUOTA));
        assertUsage(s, u, QUOTA);
    }

    @Test
    void fullCleanupRecountsTheUsage() throws Exception {
        String u = unique("alice");
        String f = "/~" + u + "/branches/b/t/j/f/";
        upload201(s, f + "a", data(600));
        upload201(s, f + "b", data(300));
        assertUsage(s, u, 900);
        // a file removed behind the daemon's back: its count is now too high
        Files.delete(userDir(s, u).resolve("branches/b/t/j/f/a"));
        assertEquals(900, apiUsage(s, u));
        assertQuotaError(s.upload(f + "c", data(200)), u, 1100);
        Helpers.fullCleanup(s);
        assertUsage(s, u, 300);
        upload201(s, f + "c", data(200));
        assertUsage(s, u, 500);
        // a user whose .disk_usage says too little is corrected as well
        Files.writeString(userDir(s, u).resolve(".disk_usage"), "7\n");
        Helpers.fullCleanup(s);
        assertUsage(s, u, 500);
    }

    /** A daemon on {@code root} whose cleanup does nothing (no start-up recount). */
    private static TestServer startWithoutCleanup(Path root) throws IOException {
        return TestServer.start(root, ENV, w -> (tags, stopping) -> new CleanupScheduler.Report(0, 0, 0));
    }

    @Test
    void aMissingOrBrokenDiskUsageIsRecomputed() throws Exception {
        Path root = Files.createTempDirectory("dlrepo-quota-");
        String u = "carol";
        TestServer first = startWithoutCleanup(root);
        try {
            upload201(first, "/~" + u + "/branches/b/t/j/f/a", data(300));
            upload201(first, "/~" + u + "/branches/b/t/j/f/b", data(200));
            assertUsage(first, u, 500);
        } finally {
            first.daemon().close(); // keeps the root
        }
        for (String broken : new String[] {null, "garbage\n", ""}) {
            Path file = root.resolve("users/" + u + "/.disk_usage");
            if (broken == null) {
                Files.delete(file);
            } else {
                Files.writeString(file, broken);
            }
            TestServer again = startWithoutCleanup(root);
            try {
                assertEquals(500, apiUsage(again, u), "recomputed from " + broken);
                // the recomputed value is the one the quota is checked against
                assertQuotaError(again.upload("/~" + u + "/branches/b/t/j/f/c", data(501)), u, 1001);
                upload201(again, "/~" + u + "/branches/b/t/j/f/c", data(100));
                assertUsage(again, u, 600);
                ok(again.delete("/~" + u + "/branches/b/t/j/f/"));
                upload201(again, "/~" + u + "/branches/b/t/j/f/a", data(300));
                upload201(again, "/~" + u + "/branches/b/t/j/f/b", data(200));
                assertUsage(again, u, 500);
            } finally {
                again.daemon().close();
            }
        }
        TestServer last = TestServer.start(root, ENV);
        last.close(); // deletes the root
        assertFalse(Files.exists(root));
    }

    @Test
    void quotaErrorStatusAndBodyForAnAnnouncedOversizeBody() throws Exception {
        // a Content-Length over the quota is refused before the body is read
        String u = unique("alice");
        byte[] big = data((int) QUOTA + 500);
        HttpResponse<String> r = s.upload("/~" + u + "/branches/b/t/j/f/x", big);
        assertQuotaError(r, u, QUOTA + 500);
        assertFalse(Files.exists(userDir(s, u).resolve("branches")), "nothing created: " +
                (Files.exists(userDir(s, u)) ? snapshot(userDir(s, u)) : "[]"));
        assertFalse(Files.exists(blob(s, sha256(big))));
        assertTrue(eventually(2000, QuotaTest::uploadsEmpty), ".uploads empty");
        assertTrue(Arrays.asList(0L, -1L).contains(usageIfAny(u)));
    }

    private static long usageIfAny(String u) throws Exception {
        HttpResponse<String> r = s.get("/~" + u + "/");
        return r.statusCode() == 404 ? -1 : ok(r).at("/user/disk_usage").asLong();
    }
}
