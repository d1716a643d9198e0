package dlrepo.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.TestServer;
import dlrepo.products.Helpers;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every kind of change made on the writer is seen by the replica's very next read, as
 * JSON and as a page, even right after the same view was read (a listing cache would
 * keep it: the replica keeps none); an ETag of the old view gets 200, not 304. And a
 * reader of a dirty format never sees entries disappear while the writer folds its
 * journal (finalize).
 */
class ReplicaFreshnessTest {
    static Replicas rs;
    static TestServer w;
    static TestServer r;

    @BeforeAll
    static void start() throws Exception {
        // the writer keeps a listing cache: only the replica's reads matter here
        rs = Replicas.start(Map.of("DLREPO_CACHE_SIZE", "8M"),
                Map.of("DLREPO_PRIMARY_URL", Replicas.PRIMARY, "DLREPO_CACHE_SIZE", "8M"));
        w = rs.writer;
        r = rs.replica;
    }

    @AfterAll
    static void stop() throws Exception {
        rs.close();
    }

    interface Change {
        void run() throws Exception;
    }

    /**
     * Reads {@code url} on the replica (JSON and page, twice), makes {@code change} on the
     * writer, then reads again: the JSON must pass {@code seen}, the page must contain
     * {@code inPage} (if not null), the old ETag must get 200.
     */
    static void fresh(String url, Change change, Predicate<JsonNode> seen, String inPage) throws Exception {
        HttpResponse<String> before = r.get(url);
        r.get(url);
        String page = page(url);
        assertFalse(before.statusCode() == 200 && seen.test(Replicas.JSON.readTree(before.body())),
                () -> url + " shows the change before it is made: " + before.body());
        change.run();
        HttpResponse<String> after = r.get(url);
        assertTrue(after.statusCode() == 200 && seen.test(Replicas.JSON.readTree(after.body())),
                () -> url + " on the replica after the change: " + after.statusCode() + " " + after.body());
        if (inPage != null) {
            String newPage = page(url);
            assertNotEquals(page, newPage, url);
            assertTrue(newPage.contains(inPage), () -> url + " page lacks " + inPage);
        }
        before.headers().firstValue("ETag").ifPresent(etag -> {
            try {
                HttpResponse<String> again = r.send(r.request(url).header("If-None-Match", etag).GET().build());
                assertEquals(200, again.statusCode(), url + " with the ETag of the view before the change");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    static String page(String url) throws Exception {
        HttpResponse<String> p = r.send(r.request(url).header("Accept", "text/html").GET().build());
        return p.statusCode() + " " + p.body();
    }

    static List<String> names(JsonNode array) {
        List<String> out = new ArrayList<>();
        if (array != null) {
            array.forEach(n -> out.add(n.isTextual() ? n.asText() : n.get("name").asText()));
        }
        return out;
    }

    static void ok(HttpResponse<String> res) {
        assertTrue(res.statusCode() / 100 == 2, () -> res.request().method() + " " + res.uri() + ": "
                + res.statusCode() + " " + res.body());
    }

    @Test
    void treeChanges() throws Exception {
        String b = "/branches/fresh/";
        String tag = b + "t1/";
        fresh("/branches/", () -> w.uploadFinalized(tag + "j1/f/a.txt", "a"),
                j -> names(j.get("branches")).contains("fresh"), "fresh");
        fresh(tag + "j1/f/", () -> ok(w.upload(tag + "j1/f/b.txt", "b")),
                j -> names(j.get("artifact_format").get("files")).contains("b.txt"), "b.txt");
        // a journal append in a dirty format: no folder changes
        fresh(tag + "j1/f/", () -> ok(w.upload(tag + "j1/f/c.txt", "c")),
                j -> names(j.get("artifact_format").get("files")).contains("c.txt"), "c.txt");
        fresh(tag + "j1/f/", () -> ok(w.anonymous().link(tag + "j1/f/d.txt", TestServer.digest("a"))),
                j -> names(j.get("artifact_format").get("files")).contains("d.txt"), "d.txt");
        fresh(tag + "j1/f/", () -> ok(w.json("PATCH", tag + "j1/f/", "")),
                j -> !j.get("artifact_format").get("dirty").asBoolean(), null);
        fresh(tag + "j1/", () -> ok(w.upload(tag + "j1/g/x.txt", "x")),
                j -> names(j.get("job").get("artifact_formats")).contains("g"), "g");
        fresh(tag, () -> ok(w.upload(tag + "j2/f/x.txt", "x")), j -> names(j.get("tag").get("jobs")).contains("j2"),
                "j2");
        fresh(b, () -> w.uploadFinalized(b + "t2/j/f/x.txt", "x"),
                j -> names(j.get("branch").get("tags")).contains("t2"), "t2");
        // deletes, bottom up
        fresh(tag + "j1/", () -> ok(w.delete(tag + "j1/g/")),
                j -> !names(j.get("job").get("artifact_formats")).contains("g"), null);
        fresh(tag, () -> ok(w.delete(tag + "j2/")), j -> !names(j.get("tag").get("jobs")).contains("j2"), null);
        fresh(b, () -> ok(w.delete(b + "t2/")), j -> !names(j.get("branch").get("tags")).contains("t2"), null);
        fresh("/branches/", () -> ok(w.delete(b)), j -> !names(j.get("branches")).contains("fresh"), null);
        assertEquals(404, r.get(tag).statusCode());
    }

    static JsonNode item(JsonNode list, String name) {
        for (JsonNode n : list) {
            if (n.get("name").asText().equals(name)) {
                return n;
            }
        }
        return Replicas.JSON.createObjectNode();
    }

    @Test
    void metadataFlagsDescriptionStatusAndPolicy() throws Exception {
        String b = "/branches/flags/";
        String tag = b + "t/";
        w.uploadFinalized(tag + "j/f/a.txt", "a");
        fresh(tag, () -> ok(w.json("PATCH", tag + "j/", "{\"job\": {\"arch\": \"arm64\"}}")),
                j -> "arm64".equals(item(j.get("tag").get("jobs"), "j").path("arch").asText()), "arm64");
        fresh(tag + "j/", () -> ok(w.json("PATCH", tag + "j/", "{\"job\": {\"arch\": \"riscv\"}}")),
                j -> "riscv".equals(j.get("job").path("arch").asText()), "riscv");
        fresh(tag, () -> ok(w.json("PUT", tag + "j/", "{\"job\": {\"internal\": true}}")),
                j -> item(j.get("tag").get("jobs"), "j").path("internal").asBoolean(), null);
        fresh(tag + "j/", () -> ok(w.json("PUT", tag + "j/", "{\"job\": {\"locked\": true}}")),
                j -> j.get("job").path("locked").asBoolean() && !j.get("job").path("digest").asText().isEmpty(),
                null);
        fresh(b, () -> ok(w.json("POST", tag, "{\"tag\": {\"stable\": true}}")),
                j -> item(j.get("branch").get("tags"), "t").path("stable").asBoolean(), null);
        fresh(b, () -> ok(w.json("POST", tag, "{\"tag\": {\"description\": \"the first one\"}}")),
                j -> "the first one".equals(item(j.get("branch").get("tags"), "t").path("description").asText()),
                "the first one");
        fresh(tag, () -> ok(w.json("POST", tag, "{\"tag\": {\"locked\": true}}")),
                j -> j.get("tag").path("locked").asBoolean(), null);
        // the publish status, as the writer's publisher writes it
        fresh(tag, () -> Files.writeString(w.root().resolve("branches/flags/t/.publish-status"), "in progress\n"),
                j -> "in progress".equals(j.get("tag").path("publish_status").asText()), "in progress");
        fresh("/branches/", () -> ok(w.json("POST", b, "{\"branch\": {\"max_daily_tags\": 7}}")),
                j -> item(j.get("branches"), "flags").path("max_daily_tags").asInt() == 7, null);
        fresh(b, () -> ok(w.json("POST", b, "{\"branch\": {\"max_released_tags\": 3}}")),
                j -> j.get("branch").get("cleanup_policy").path("max_released_tags").asInt() == 3, null);
        // aliases resolve against the tags as they are now
        assertTrue(r.get(b + "latest/").headers().firstValue("Location").orElse("").endsWith("/t/"));
        w.uploadFinalized(b + "t2/j/f/a.txt", "a2");
        assertTrue(r.get(b + "latest/").headers().firstValue("Location").orElse("").endsWith("/t2/"));
    }

    @Test
    void productLinksRegistryAndUserRepositories() throws Exception {
        String job = "/branches/prodb/t/j/";
        w.uploadFinalized(job + "f/a.txt", "a");
        fresh("/products/", () -> ok(w.json("PATCH", job, Helpers.productMeta("freshprod", "v", "main", "1.0"))),
                j -> names(j.get("products")).contains("freshprod"), "freshprod");
        String versions = "/products/freshprod/v/main/";
        fresh(versions, () -> ok(w.json("PATCH", job, Helpers.productMeta("freshprod", "v", "main", "2.0"))),
                j -> names(j.get("product_branch").get("versions")).equals(List.of("2.0")), "2.0");
        assertEquals(404, r.get(versions + "1.0/f/").statusCode());
        assertEquals("a", r.get(versions + "2.0/f/a.txt").body());

        // registry: a push, then another image under the same tag
        Replicas.Image one = Replicas.push(w, "reg/app", "v1", Replicas.random(1000, 11));
        assertEquals(200, r.get("/v2/reg/app/manifests/v1").statusCode());
        assertEquals(one.manifestDigest(), r.head("/v2/reg/app/manifests/v1").headers()
                .firstValue("Docker-Content-Digest").orElse(null));
        Replicas.Image two = Replicas.push(w, "reg/app", "v1", Replicas.random(1000, 12));
        assertEquals(two.manifestDigest(), r.head("/v2/reg/app/manifests/v1").headers()
                .firstValue("Docker-Content-Digest").orElse(null));
        fresh("/v2/reg/app/tags/list", () -> Replicas.push(w, "reg/app", "v2", Replicas.random(1000, 13)),
                j -> names(j.get("tags")).contains("v2"), null);

        // a user repository and its usage
        w.anonymous().uploadFinalized("/~bob/branches/b/t/j/f/a.txt", "a");
        fresh("/~bob/", () -> ok(w.upload("/~bob/branches/b/t/j/g/big.bin", new byte[100_000])),
                j -> j.get("user").get("disk_usage").asLong() >= 100_000, null);
        fresh("/~bob/branches/", () -> w.anonymous().uploadFinalized("/~bob/branches/c/t/j/f/a.txt", "a"),
                j -> names(j.get("branches")).contains("c"), "c");
    }

    /**
     * The writer uploads into a dirty format and finalizes it again and again (each
     * finalize folds the journal into .digests, then deletes it) while the replica lists
     * the format: the files it lists never decrease.
     */
    @Test
    void aDirtyFormatNeverLosesEntriesWhileTheWriterFoldsItsJournal() throws Exception {
        String fmt = "/branches/fold/t/j/f/";
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<String> failure = new AtomicReference<>();
        int[] reads = {0};
        Thread reader = new Thread(() -> {
            int seen = 0;
            try {
                while (!done.get() && failure.get() == null) {
                    HttpResponse<String> res = r.get(fmt);
                    if (res.statusCode() == 404) {
                        continue;
                    }
                    int n = Replicas.JSON.readTree(res.body()).get("artifact_format").get("files").size();
                    reads[0]++;
                    if (n < seen) {
                        failure.set("listed " + n + " files after " + seen);
                    }
                    seen = n;
                }
            } catch (Exception e) {
                failure.compareAndSet(null, e.toString());
            }
        });
        reader.start();
        try {
            for (int i = 0; i < 200 && failure.get() == null; i++) {
                ok(w.upload(fmt + "f" + i + ".txt", "content " + i));
                if (i % 5 == 4) {
                    ok(w.json("PATCH", fmt, ""));
                }
            }
        } finally {
            done.set(true);
            reader.join();
        }
        assertEquals(null, failure.get());
        assertTrue(reads[0] > 50, "the reader read " + reads[0] + " times");
        assertEquals(200, Replicas.JSON.readTree(r.get(fmt).body()).get("artifact_format").get("files").size());
    }
}
