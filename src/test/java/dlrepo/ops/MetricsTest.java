package dlrepo.ops;

import static dlrepo.Check.assertStatus;
import static dlrepo.Check.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Caller;
import dlrepo.Check;
import dlrepo.TestServer;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GET /metrics through the real server: the exposition parses, and its values move by what
 * the requests, uploads and cleanups did.
 */
class MetricsTest {
    static TestServer s;
    static Caller c;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0", "DLREPO_ORPHAN_BLOB_LIFETIME", "0"));
        assertTrue(s.daemon().cleanup().awaitIdle(30_000));
        c = s.anonymous();
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    /**
     * The counts move once the answer is complete, which the client may see first: waits
     * until {@code name{labels}} reaches {@code expected}, then checks it stays there.
     */
    private static Scrape await(double expected, String name, String... labels) throws Exception {
        Scrape[] last = new Scrape[1];
        Check.eventually(5000, () -> {
            try {
                last[0] = Scrape.of(c);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return last[0].value(name, labels) >= expected;
        });
        assertEquals(expected, last[0].value(name, labels), name + " " + String.join(",", labels));
        return last[0];
    }

    @Test
    void requestsAreCountedByRouteMethodAndStatus() throws Exception {
        String b = unique("req");
        byte[] data = ("some content " + b).getBytes(StandardCharsets.UTF_8);
        Scrape before = Scrape.of(c);
        assertStatus(201, c.upload("/branches/" + b + "/t/j/deb/a.deb", data));
        long sentBytes = 0;
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = c.get("/branches/" + b + "/?i=" + i);
            assertStatus(200, r);
            sentBytes += r.body().getBytes(StandardCharsets.UTF_8).length;
        }
        assertStatus(404, c.get("/branches/" + b + "/nope/"));
        Scrape after = await(before.value("dlrepo_http_requests_total", "route", "branch", "method", "GET",
                "status", "200") + 3, "dlrepo_http_requests_total", "route", "branch", "method", "GET",
                "status", "200");
        await(before.value("dlrepo_http_requests_total", "route", "tag", "method", "GET", "status", "404") + 1,
                "dlrepo_http_requests_total", "route", "tag", "method", "GET", "status", "404");
        after = await(before.value("dlrepo_http_requests_total", "route", "artifact", "method", "PUT",
                "status", "201") + 1, "dlrepo_http_requests_total", "route", "artifact", "method", "PUT",
                "status", "201");
        assertTrue(after.value("dlrepo_http_request_duration_seconds_count", "route", "branch", "method", "GET")
                >= before.value("dlrepo_http_request_duration_seconds_count", "route", "branch", "method", "GET")
                        + 3);
        assertTrue(after.value("dlrepo_http_request_duration_seconds_bucket", "route", "branch", "method", "GET",
                "le", "+Inf") >= 3);
        assertTrue(after.value("dlrepo_http_sent_bytes_total", "route", "branch")
                - before.value("dlrepo_http_sent_bytes_total", "route", "branch") >= sentBytes);
        assertTrue(after.value("dlrepo_http_received_bytes_total", "route", "artifact")
                - before.value("dlrepo_http_received_bytes_total", "route", "artifact") >= data.length);
        assertEquals("counter", after.types.get("dlrepo_http_requests_total"));
        assertEquals("histogram", after.types.get("dlrepo_http_request_duration_seconds"));
        assertEquals("gauge", after.types.get("dlrepo_http_requests_in_flight"));
        // the scrape counts itself (once complete), and the one request in flight is the scrape
        assertTrue(after.value("dlrepo_http_requests_total", "route", "metrics", "method", "GET", "status", "200")
                >= 1);
        assertEquals(1, after.value("dlrepo_http_requests_in_flight"));
        assertEquals(1, after.value("dlrepo_build_info", "version", dlrepo.Version.get()));
    }

    @Test
    void aListingServedFromMemoryCountsUnderItsRoute() throws Exception {
        String b = unique("mem");
        assertStatus(201, c.upload("/branches/" + b + "/t/j/deb/a.deb", "x"));
        assertStatus(200, c.get("/branches/" + b + "/t/"));
        Scrape before = Scrape.of(c);
        for (int i = 0; i < 5; i++) {
            assertStatus(200, c.get("/branches/" + b + "/t/"));
        }
        Scrape after = await(before.value("dlrepo_http_requests_total", "route", "tag", "method", "GET",
                "status", "200") + 5, "dlrepo_http_requests_total", "route", "tag", "method", "GET", "status", "200");
        assertTrue(after.value("dlrepo_listing_cache_hits_total")
                >= before.value("dlrepo_listing_cache_hits_total") + 5, after.text);
        assertEquals(before.value("dlrepo_http_requests_total", "route", "other", "method", "GET", "status", "200"),
                after.value("dlrepo_http_requests_total", "route", "other", "method", "GET", "status", "200"));
        assertTrue(after.has("dlrepo_listing_cache_misses_total"));
    }

    @Test
    void uploadsAreStoredDuplicateOrLinked() throws Exception {
        String b = unique("up");
        byte[] data = ("unique bytes " + b).getBytes(StandardCharsets.UTF_8);
        Scrape before = Scrape.of(c);
        assertStatus(201, c.upload("/branches/" + b + "/t/j/deb/a.deb", data));
        Scrape after = Scrape.of(c);
        assertEquals(before.value("dlrepo_uploads_total", "result", "stored") + 1,
                after.value("dlrepo_uploads_total", "result", "stored"));
        assertEquals(before.value("dlrepo_upload_bytes_total", "result", "stored") + data.length,
                after.value("dlrepo_upload_bytes_total", "result", "stored"));
        assertStatus(201, c.upload("/branches/" + b + "/t/j2/deb/a.deb", data));
        after = Scrape.of(c);
        assertEquals(before.value("dlrepo_uploads_total", "result", "duplicate") + 1,
                after.value("dlrepo_uploads_total", "result", "duplicate"));
        assertEquals(before.value("dlrepo_uploads_total", "result", "stored") + 1,
                after.value("dlrepo_uploads_total", "result", "stored"));
        assertStatus(201, c.link("/branches/" + b + "/t/j3/deb/a.deb", TestServer.digest(data)));
        after = Scrape.of(c);
        assertEquals(before.value("dlrepo_uploads_total", "result", "linked") + 1,
                after.value("dlrepo_uploads_total", "result", "linked"));
        assertEquals(before.value("dlrepo_upload_bytes_total", "result", "linked") + data.length,
                after.value("dlrepo_upload_bytes_total", "result", "linked"));
        assertEquals(before.value("dlrepo_uploads_total", "result", "duplicate") + 1,
                after.value("dlrepo_uploads_total", "result", "duplicate"));
        // a link to a blob that is not there is no upload
        assertStatus(404, c.link("/branches/" + b + "/t/j4/deb/a.deb", TestServer.digest(new byte[] {1, 2, 3})));
        assertEquals(after.value("dlrepo_uploads_total", "result", "linked"),
                Scrape.of(c).value("dlrepo_uploads_total", "result", "linked"));
    }

    @Test
    void cleanupsAreCounted() throws Exception {
        String b = unique("clean");
        for (int i = 0; i < 3; i++) {
            assertStatus(201, c.upload("/branches/" + b + "/t" + i + "/j/deb/a.deb", "only in t" + i + " " + b));
        }
        assertStatus(200, c.json("POST", "/branches/" + b + "/", "{\"branch\": {\"max_daily_tags\": 1}}"));
        Scrape before = Scrape.of(c);
        s.daemon().cleanup().schedule(true, "test");
        assertTrue(s.daemon().cleanup().awaitIdle(30_000));
        Scrape after = Scrape.of(c);
        assertEquals(before.value("dlrepo_cleanup_runs_total", "result", "ok") + 1,
                after.value("dlrepo_cleanup_runs_total", "result", "ok"));
        assertEquals(0, after.value("dlrepo_cleanup_runs_total", "result", "failed"));
        assertEquals(before.value("dlrepo_cleanup_tags_deleted_total") + 2,
                after.value("dlrepo_cleanup_tags_deleted_total"));
        assertTrue(after.value("dlrepo_cleanup_blobs_freed_total")
                >= before.value("dlrepo_cleanup_blobs_freed_total") + 2);
        assertTrue(after.value("dlrepo_cleanup_freed_bytes_total")
                >= before.value("dlrepo_cleanup_freed_bytes_total") + ("only in t0 " + b).length() * 2);
        assertEquals(before.value("dlrepo_cleanup_duration_seconds_count") + 1,
                after.value("dlrepo_cleanup_duration_seconds_count"));
        double last = after.value("dlrepo_cleanup_last_success_timestamp_seconds");
        assertTrue(Math.abs(last - System.currentTimeMillis() / 1000.0) < 60, "last success " + last);
        // the collector's walk counted the blob store
        long files;
        long bytes = 0;
        try (Stream<Path> w = Files.walk(s.root().resolve(".blobs"))) {
            var list = w.filter(Files::isRegularFile).toList();
            files = list.size();
            for (Path p : list) {
                bytes += Files.size(p);
            }
        }
        assertEquals(files, after.value("dlrepo_blobs"));
        assertEquals(bytes, after.value("dlrepo_blob_bytes"));
        assertTrue(after.value("dlrepo_blobs_counted_timestamp_seconds") > 0);
        // a new blob moves the count without a walk
        assertStatus(201, c.upload("/branches/" + b + "/t9/j/deb/a.deb", "new " + b));
        assertEquals(files + 1, Scrape.of(c).value("dlrepo_blobs"));
    }

    @Test
    void quotaUseOfUserRepositories() throws Exception {
        String u = unique("quser").replaceAll("[^a-z0-9]", "");
        byte[] data = new byte[1234];
        assertStatus(201, c.upload("/~" + u + "/branches/b/t/j/deb/a.deb", data));
        Scrape sc = Scrape.of(c);
        assertEquals(1234, sc.value("dlrepo_user_quota_used_bytes", "user", u), sc.text);
        assertEquals(10737418240.0, sc.value("dlrepo_user_quota_limit_bytes", "user", u));
    }

    /** The names the dashboard and alert rules of etc/ use (dlrepo-api(7), HEALTH AND METRICS). */
    @Test
    void everyDocumentedNameIsExposed() throws Exception {
        String u = unique("names").replaceAll("[^a-z0-9]", "");
        assertStatus(201, c.upload("/~" + u + "/branches/b/t/j/deb/a.deb", "x"));
        Scrape sc = Scrape.of(c);
        for (String name : new String[] {"dlrepo_build_info", "dlrepo_http_requests_total",
                "dlrepo_http_request_duration_seconds_count", "dlrepo_http_request_duration_seconds_bucket",
                "dlrepo_http_requests_in_flight", "dlrepo_http_received_bytes_total", "dlrepo_http_sent_bytes_total",
                "dlrepo_http_malformed_requests_total", "dlrepo_uploads_total", "dlrepo_upload_bytes_total",
                "dlrepo_blobs", "dlrepo_blob_bytes", "dlrepo_blobs_counted_timestamp_seconds",
                "dlrepo_cleanup_runs_total", "dlrepo_cleanup_duration_seconds_count",
                "dlrepo_cleanup_tags_deleted_total", "dlrepo_cleanup_blobs_freed_total",
                "dlrepo_cleanup_freed_bytes_total", "dlrepo_cleanup_last_success_timestamp_seconds",
                "dlrepo_user_quota_used_bytes", "dlrepo_user_quota_limit_bytes", "dlrepo_root_free_bytes",
                "dlrepo_root_size_bytes", "dlrepo_health_ok", "dlrepo_publish_total",
                "dlrepo_listing_cache_hits_total", "dlrepo_listing_cache_misses_total"}) {
            assertTrue(sc.has(name), name + " missing from\n" + sc.text);
        }
    }

    @Test
    void diskHealthPublishAndJvm() throws Exception {
        Scrape sc = Scrape.of(c);
        assertTrue(sc.value("dlrepo_root_free_bytes") > 0);
        assertTrue(sc.value("dlrepo_root_size_bytes") >= sc.value("dlrepo_root_free_bytes"));
        assertEquals(1, sc.value("dlrepo_health_ok"));
        assertNotNull(sc.sample("dlrepo_publish_total", "result", "published"));
        assertNotNull(sc.sample("dlrepo_publish_total", "result", "failed"));
        assertNotNull(sc.sample("dlrepo_http_malformed_requests_total"));
        assertTrue(sc.has("jvm_memory_used_bytes"), sc.text);
        assertTrue(sc.has("jvm_threads_current"));
        assertTrue(sc.has("process_cpu_seconds_total"));
        assertTrue(sc.has("process_resident_memory_bytes"));
        // a second daemon in this JVM has the JVM's metrics too, and its own counts
        try (TestServer other = TestServer.start()) {
            Scrape o = Scrape.of(other.anonymous());
            assertTrue(o.has("jvm_memory_used_bytes"));
            assertEquals(0, o.value("dlrepo_http_requests_total", "route", "artifact", "method", "PUT",
                    "status", "201"));
        }
        // HEAD: the headers only
        HttpResponse<String> h = c.head("/metrics");
        assertStatus(200, h);
        assertEquals("", h.body());
        assertStatus(405, c.send("POST", "/metrics"));
    }
}
