package dlrepo.api;

import static dlrepo.api.Api.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The listing cache: every kind of change is seen by the next read (each level is read
 * first, so that its answer is cached, then changed through the API, then read again),
 * also under concurrent writers and readers; ETags and 304; the size bound; the cache off.
 */
class ListingCacheTest {
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_CACHE_SIZE", "8M"));
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    /** The names listed under {@code field} of {@code level} in the answer to {@code url}. */
    static Set<String> names(String url, String level, String field) throws Exception {
        Set<String> names = new TreeSet<>();
        list(url, level, field).forEach(n -> names.add(n.isTextual() ? n.asText() : n.get("name").asText()));
        return names;
    }

    /** {@code {level: {field: [...]}}}, or {@code {field: [...]}} when both are the same. */
    static JsonNode list(String url, String level, String field) throws Exception {
        JsonNode body = ok(s.get(url));
        return level.equals(field) ? body.get(field) : body.get(level).get(field);
    }

    static JsonNode item(String url, String level, String field, String name) throws Exception {
        for (JsonNode n : list(url, level, field)) {
            if (n.get("name").asText().equals(name)) {
                return n;
            }
        }
        return null;
    }

    static HttpResponse<String> get(String url, String... headers) throws Exception {
        HttpRequest.Builder b = s.request(url).GET();
        if (headers.length > 0) {
            b.headers(headers);
        }
        return s.send(b.build());
    }

    static void assertOk(HttpResponse<String> r) {
        assertTrue(r.statusCode() / 100 == 2, () -> r.request().method() + " " + r.uri() + ": " + r.statusCode() + " "
                + r.body());
    }

    @Test
    void uploadsLinksAndDeletesOfFilesJobsTagsAndBranches() throws Exception {
        String b = Api.unique("cache-tree");
        String tag = "/branches/" + b + "/t1/";
        s.uploadFinalized(tag + "j1/f/a.txt", "a");
        assertTrue(names("/branches/", "branches", "branches").contains(b));
        assertEquals(Set.of("t1"), names("/branches/" + b + "/", "branch", "tags"));
        assertEquals(Set.of("j1"), names(tag, "tag", "jobs"));
        assertEquals(Set.of("f"), names(tag + "j1/", "job", "artifact_formats"));
        assertEquals(Set.of("a.txt"), fileNames(tag + "j1/f/"));

        // a new job, a new format, a new file, a link
        assertOk(s.upload(tag + "j2/f/b.txt", "b"));
        assertEquals(Set.of("j1", "j2"), names(tag, "tag", "jobs"));
        assertOk(s.upload(tag + "j1/g/c.txt", "c"));
        assertEquals(Set.of("f", "g"), names(tag + "j1/", "job", "artifact_formats"));
        assertEquals(Set.of("c.txt"), fileNames(tag + "j1/g/"));
        assertOk(s.upload(tag + "j1/g/sub/d.txt", "d"));
        assertEquals(Set.of("c.txt", "sub/d.txt"), fileNames(tag + "j1/g/"));
        // below a sub-folder: the format folder itself does not change
        assertOk(s.upload(tag + "j1/g/sub/d2.txt", "d2"));
        assertEquals(Set.of("c.txt", "sub/d.txt", "sub/d2.txt"), fileNames(tag + "j1/g/"));
        assertOk(s.anonymous().link(tag + "j1/g/sub/e.txt", TestServer.digest("d")));
        assertEquals(Set.of("c.txt", "sub/d.txt", "sub/d2.txt", "sub/e.txt"), fileNames(tag + "j1/g/"));
        assertTrue(ok(s.get(tag + "j1/g/")).get("artifact_format").get("dirty").asBoolean());
        assertOk(Api.patch(s, tag + "j1/g/"));
        assertFalse(ok(s.get(tag + "j1/g/")).get("artifact_format").get("dirty").asBoolean());

        // a new tag, a new branch
        s.uploadFinalized("/branches/" + b + "/t2/j/f/a.txt", "a");
        assertEquals(Set.of("t1", "t2"), names("/branches/" + b + "/", "branch", "tags"));
        String b2 = Api.unique("cache-tree2");
        names("/branches/", "branches", "branches");
        s.uploadFinalized("/branches/" + b2 + "/t/j/f/a.txt", "a");
        assertTrue(names("/branches/", "branches", "branches").contains(b2));

        // deletes, bottom up
        assertOk(s.delete(tag + "j1/g/"));
        assertEquals(Set.of("f"), names(tag + "j1/", "job", "artifact_formats"));
        assertOk(s.delete(tag + "j2/"));
        assertEquals(Set.of("j1"), names(tag, "tag", "jobs"));
        assertOk(s.delete("/branches/" + b + "/t2/"));
        assertEquals(Set.of("t1"), names("/branches/" + b + "/", "branch", "tags"));
        assertOk(s.delete("/branches/" + b2 + "/"));
        assertFalse(names("/branches/", "branches", "branches").contains(b2));
        assertEquals(404, s.get("/branches/" + b2 + "/").statusCode());
    }

    static Set<String> fileNames(String format) throws Exception {
        Set<String> names = new TreeSet<>();
        ok(s.get(format)).get("artifact_format").get("files").forEach(n -> names.add(n.asText()));
        return names;
    }

    @Test
    void metadataFlagsDescriptionAndPolicy() throws Exception {
        String b = Api.unique("cache-flags");
        String tag = "/branches/" + b + "/t/";
        s.uploadFinalized(tag + "j/f/a.txt", "a");
        assertEquals(null, item(tag, "tag", "jobs", "j").get("arch"));
        assertOk(s.json("PATCH", tag + "j/", "{\"job\": {\"arch\": \"arm64\"}}"));
        assertEquals("arm64", item(tag, "tag", "jobs", "j").get("arch").asText());
        assertEquals("arm64", ok(s.get(tag + "j/")).get("job").get("arch").asText());

        assertFalse(item(tag, "tag", "jobs", "j").get("internal").asBoolean());
        assertOk(s.json("PUT", tag + "j/", "{\"job\": {\"internal\": true}}"));
        assertTrue(item(tag, "tag", "jobs", "j").get("internal").asBoolean());
        assertOk(s.json("PUT", tag + "j/", "{\"job\": {\"locked\": true}}"));
        assertTrue(item(tag, "tag", "jobs", "j").get("locked").asBoolean());
        assertNotEquals("", ok(s.get(tag + "j/")).get("job").get("digest").asText());

        String branch = "/branches/" + b + "/";
        JsonNode t = item(branch, "branch", "tags", "t");
        assertFalse(t.get("stable").asBoolean());
        assertTrue(t.get("description").isNull());
        assertOk(s.json("POST", tag, "{\"tag\": {\"stable\": true, \"locked\": true, \"description\": \"first\"}}"));
        t = item(branch, "branch", "tags", "t");
        assertTrue(t.get("stable").asBoolean());
        assertTrue(t.get("locked").asBoolean());
        assertEquals("first", t.get("description").asText());
        assertEquals("first", ok(s.get(tag)).get("tag").get("description").asText());

        JsonNode listed = item("/branches/", "branches", "branches", b);
        assertEquals(0, listed.get("max_daily_tags").asInt());
        assertEquals(1, listed.get("locked_tags").asInt());
        assertOk(s.json("POST", branch, "{\"branch\": {\"max_daily_tags\": 7}}"));
        assertEquals(7, item("/branches/", "branches", "branches", b).get("max_daily_tags").asInt());
        assertEquals(7, ok(s.get(branch)).get("branch").get("cleanup_policy").get("max_daily_tags").asInt());
    }

    @Test
    void productRelinks() throws Exception {
        String b = Api.unique("cache-prod");
        String p = Api.unique("prod");
        String job = "/branches/" + b + "/t/j/";
        s.uploadFinalized(job + "f/a.txt", "a");
        String versions = "/products/" + p + "/v/main/";
        assertEquals(404, s.get(versions).statusCode());
        names("/products/", "products", "products");
        assertOk(s.json("PATCH", job, dlrepo.products.Helpers.productMeta(p, "v", "main", "1.0")));
        assertTrue(names("/products/", "products", "products").contains(p));
        assertEquals(Set.of("1.0"), names(versions, "product_branch", "versions"));
        // a format reached through the product tree: its answer depends on the links too
        assertEquals(Set.of("a.txt"), fileNames(versions + "1.0/f/"));
        assertEquals(Set.of("a.txt"), fileNames(versions + "1.0/f/"));
        assertOk(s.json("PATCH", job, dlrepo.products.Helpers.productMeta(p, "v", "main", "2.0")));
        assertEquals(Set.of("2.0"), names(versions, "product_branch", "versions"));
        assertEquals(404, s.get(versions + "1.0/f/").statusCode());
        assertEquals(Set.of("a.txt"), fileNames(versions + "2.0/f/"));
        assertOk(s.delete(job));
        assertFalse(names("/products/", "products", "products").contains(p));
    }

    @Test
    void cleanupDeletesTagsAndTheListingsShowIt() throws Exception {
        String b = Api.unique("cache-clean");
        String branch = "/branches/" + b + "/";
        for (String t : List.of("t1", "t2", "t3")) {
            s.uploadFinalized(branch + t + "/j/f/a.txt", t);
            Thread.sleep(20); // distinct creation times
        }
        assertEquals(Set.of("t1", "t2", "t3"), names(branch, "branch", "tags"));
        assertOk(s.json("POST", branch, "{\"branch\": {\"max_daily_tags\": 1}}"));
        assertTrue(s.daemon().cleanup().awaitIdle(10_000));
        s.daemon().cleanup().schedule(true, "test");
        Thread.sleep(50);
        assertTrue(s.daemon().cleanup().awaitIdle(10_000));
        assertEquals(Set.of("t3"), names(branch, "branch", "tags"));
        assertEquals(1, item("/branches/", "branches", "branches", b).get("daily_tags").asInt());
    }

    @Test
    void userRepositoryUsageAndListings() throws Exception {
        String user = Api.unique("cacheuser");
        String home = "/~" + user + "/";
        assertOk(s.upload(home + "branches/b/t/j/f/a.txt", "a"));
        long before = ok(s.get(home)).get("user").get("disk_usage").asLong();
        assertEquals(Set.of("b"), names(home + "branches/", "branches", "branches"));
        assertOk(s.upload(home + "branches/c/t/j/f/b.txt", "0123456789"));
        assertEquals(before + 10, ok(s.get(home)).get("user").get("disk_usage").asLong());
        assertEquals(Set.of("b", "c"), names(home + "branches/", "branches", "branches"));
        assertOk(s.delete(home + "branches/c/"));
        assertEquals(before, ok(s.get(home)).get("user").get("disk_usage").asLong());
        assertEquals(Set.of("b"), names(home + "branches/", "branches", "branches"));
    }

    @Test
    void etagsAndNotModified() throws Exception {
        String tag = "/branches/" + Api.unique("cache-etag") + "/t/";
        s.uploadFinalized(tag + "j1/f/a.txt", "a");
        HttpResponse<String> first = get(tag);
        assertEquals(200, first.statusCode());
        String etag = first.headers().firstValue("ETag").orElseThrow();
        assertTrue(etag.matches("\"[0-9a-f]{32}\""), etag);
        assertEquals("no-cache", first.headers().firstValue("Cache-Control").orElse(null));
        assertEquals("Accept", first.headers().firstValue("Vary").orElse(null));

        HttpResponse<String> again = get(tag);
        assertEquals(first.body(), again.body());
        assertEquals(etag, again.headers().firstValue("ETag").orElse(null));

        for (String inm : List.of(etag, "W/" + etag, "\"other\", " + etag, "*")) {
            HttpResponse<String> nm = get(tag, "If-None-Match", inm);
            assertEquals(304, nm.statusCode(), inm);
            assertEquals("", nm.body());
            assertEquals(etag, nm.headers().firstValue("ETag").orElse(null));
        }
        assertEquals(200, get(tag, "If-None-Match", "\"other\"").statusCode());
        HttpResponse<String> head = s.head(tag);
        assertEquals(200, head.statusCode());
        assertEquals(etag, head.headers().firstValue("ETag").orElse(null));
        assertEquals(304, s.head(tag, "If-None-Match", etag).statusCode());

        HttpResponse<String> page = get(tag, "Accept", "text/html");
        String pageTag = page.headers().firstValue("ETag").orElseThrow();
        assertNotEquals(etag, pageTag, "the page and the JSON are two representations");
        assertTrue(page.headers().firstValue("Content-Security-Policy").isPresent(), "the page's headers are kept");
        assertEquals(304, get(tag, "Accept", "text/html", "If-None-Match", pageTag).statusCode());
        assertEquals(200, get(tag, "If-None-Match", pageTag).statusCode());

        assertOk(s.upload(tag + "j2/f/a.txt", "a"));
        HttpResponse<String> changed = get(tag, "If-None-Match", etag);
        assertEquals(200, changed.statusCode(), "a change makes a new ETag");
        assertTrue(changed.body().contains("\"j2\""));
        assertNotEquals(etag, changed.headers().firstValue("ETag").orElse(null));

        // errors are not listings: no ETag
        HttpResponse<String> missing = get("/branches/" + Api.unique("nope") + "/");
        assertEquals(404, missing.statusCode());
        assertTrue(missing.headers().firstValue("ETag").isEmpty());
    }

    @Test
    void handChangesAreSeenInTheFolderListedAtOnceAndEverywhereAfterSighup() throws Exception {
        String b = Api.unique("cache-hand");
        String tag = "/branches/" + b + "/t/";
        s.uploadFinalized(tag + "j/f/a.txt", "a");
        Path tagDir = s.root().resolve("branches/" + b + "/t");
        assertEquals(Set.of("j"), names(tag, "tag", "jobs"));
        // a folder made by hand in the folder listed: its mtime changed
        Files.createDirectories(tagDir.resolve("k"));
        assertEquals(Set.of("j", "k"), names(tag, "tag", "jobs"));
        // a file rewritten in place below it: not seen by the tag's listing until SIGHUP
        assertEquals(null, item(tag, "tag", "jobs", "j").get("arch"));
        Files.writeString(tagDir.resolve("j/.metadata"), "{\"arch\": \"riscv\"}");
        Files.setLastModifiedTime(tagDir, Files.getLastModifiedTime(tagDir)); // nothing else moves
        s.daemon().reload();
        assertEquals("riscv", item(tag, "tag", "jobs", "j").get("arch").asText());
    }

    /**
     * Writers change the metadata of their job (a file below the tag's folder, whose own
     * modification time does not move) while readers list the tag: after a write is
     * answered, its writer and every read started later see it.
     */
    @Test
    void readYourWritesUnderConcurrentWritersAndReaders() throws Exception {
        String tag = "/branches/" + Api.unique("cache-race") + "/t/";
        int writers = 2;
        int rounds = 60;
        java.util.concurrent.atomic.AtomicIntegerArray acknowledged = new java.util.concurrent.atomic.AtomicIntegerArray(writers);
        for (int w = 0; w < writers; w++) {
            s.uploadFinalized(tag + "j" + w + "/f/a.txt", "a");
        }
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            threads.add(started(() -> {
                try {
                    for (int i = 1; i <= rounds && failures.isEmpty(); i++) {
                        HttpResponse<String> r = s.json("PATCH", tag + "j" + writer + "/", "{\"job\": {\"n\": " + i + "}}");
                        if (r.statusCode() != 200) {
                            failures.add("PATCH " + i + ": " + r.statusCode());
                        }
                        acknowledged.set(writer, i);
                        int listed = item(tag, "tag", "jobs", "j" + writer).get("n").asInt();
                        if (listed != i) {
                            failures.add("writer " + writer + " wrote " + i + " and read back " + listed);
                        }
                    }
                } catch (Exception e) {
                    failures.add(e.toString());
                }
            }));
        }
        AtomicInteger reads = new AtomicInteger();
        for (int r = 0; r < 2; r++) {
            threads.add(started(() -> {
                try {
                    while (!stop.get()) {
                        int[] before = new int[writers];
                        for (int w = 0; w < writers; w++) {
                            before[w] = acknowledged.get(w);
                        }
                        for (int w = 0; w < writers; w++) {
                            JsonNode n = item(tag, "tag", "jobs", "j" + w).get("n");
                            int listed = n == null ? 0 : n.asInt();
                            if (listed < before[w]) {
                                failures.add("j" + w + ": " + before[w] + " acknowledged, " + listed + " listed");
                            }
                        }
                        reads.incrementAndGet();
                    }
                } catch (Exception e) {
                    failures.add(e.toString());
                }
            }));
        }
        for (Thread t : threads.subList(0, writers)) {
            t.join();
        }
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(List.of(), List.copyOf(failures));
        assertTrue(reads.get() > 10, "readers ran: " + reads.get());
    }

    /** Many callers asking at once for a listing that just changed: one computes it, the others wait. */
    @Test
    void concurrentMissesComputeOnce() throws Exception {
        String tag = "/branches/" + Api.unique("cache-herd") + "/t/";
        for (int i = 0; i < 30; i++) {
            s.uploadFinalized(tag + "j" + i + "/f/a.txt", "a");
        }
        for (int round = 0; round < 3; round++) {
            assertOk(s.json("PATCH", tag + "j0/", "{\"job\": {\"round\": " + round + "}}"));
            long before = s.daemon().listings().counts()[1];
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(16);
            ConcurrentLinkedQueue<String> bodies = new ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                threads.add(started(() -> {
                    try {
                        start.await();
                        bodies.add(s.get(tag).body());
                    } catch (Exception e) {
                        bodies.add(e.toString());
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            long computed = s.daemon().listings().counts()[1] - before;
            assertEquals(1, Set.copyOf(bodies).size(), "one answer for all");
            assertTrue(bodies.peek().contains("\"round\":\"" + round + "\""), bodies.peek());
            assertTrue(computed >= 1 && computed <= 4, "computed " + computed + " times for 16 callers");
        }
    }

    static Thread started(Runnable r) {
        Thread t = new Thread(r);
        t.start();
        return t;
    }

    @Test
    void theSizeBoundHolds() throws Exception {
        try (TestServer small = TestServer.start(Map.of("DLREPO_CACHE_SIZE", "64K"))) {
            String tag = "/branches/b/t/";
            for (int i = 0; i < 40; i++) {
                small.uploadFinalized(tag + "job-with-a-long-name-" + i + "/f/a.txt", "a");
            }
            for (int i = 0; i < 40; i++) {
                assertEquals(200, small.get(tag + "job-with-a-long-name-" + i + "/f/").statusCode());
                assertEquals(200, small.get(tag + "job-with-a-long-name-" + i + "/").statusCode());
                assertEquals(200, small.get(tag + "?n=" + i).statusCode());
            }
            long held = small.daemon().listings().bytesHeld();
            // half of the size for the answers, half for the states they are made from
            assertTrue(held > 0 && held <= 32 * 1024, "held " + held);
        }
    }

    @Test
    void cacheOffServesTheSameAnswers() throws Exception {
        try (TestServer off = TestServer.start(Map.of("DLREPO_CACHE_SIZE", "0"))) {
            String tag = "/branches/b/t/";
            off.uploadFinalized(tag + "j1/f/a.txt", "a");
            HttpResponse<String> r = off.get(tag);
            String etag = r.headers().firstValue("ETag").orElseThrow();
            assertEquals(304, off.send(off.request(tag).header("If-None-Match", etag).build()).statusCode());
            off.uploadFinalized(tag + "j2/f/a.txt", "a");
            assertTrue(off.get(tag).body().contains("\"j2\""));
            assertEquals(0, off.daemon().listings().bytesHeld());
        }
    }
}
