package dlrepo.cleanup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The race of the seed patch, hammered: uploads and dedup links of a small set of
 * contents, tag deletes, and orphan collections with lifetime 0, all at once. Nothing
 * acknowledged may be lost, and a blob a probe announced must be linkable.
 */
class SoakTest {
    private static final int CONTENTS = 6;
    private static final long SECONDS = 6;

    @Test
    void uploadsLinksDeletesAndCollectionsNeverLoseData() throws Exception {
        try (TestServer s = TestServer.start(Map.of("DLREPO_ORPHAN_BLOB_LIFETIME", "0",
                "DLREPO_TAG_CLEANUP_PERIOD", "0", "DLREPO_FSYNC", "0"))) {
            // a small set of contents that changes every 250 ms: each content lives for a while
            // in deleted tags only (an orphan the collector races for) before a kept file holds it
            long t0 = System.currentTimeMillis();
            java.util.function.IntFunction<byte[]> content = c -> ("generation " + (System.currentTimeMillis() - t0) / 250
                    + " content " + c + "\n").repeat(40 + c).getBytes(StandardCharsets.UTF_8);
            Map<String, byte[]> acknowledged = new ConcurrentHashMap<>();
            AtomicLong bodies = new AtomicLong();
            AtomicLong links = new AtomicLong();
            AtomicLong probeHits = new AtomicLong();
            AtomicLong brokenPromises = new AtomicLong();
            AtomicLong deletes = new AtomicLong();
            AtomicLong collections = new AtomicLong();
            List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(11);
            List<Future<?>> tasks = new ArrayList<>();
            for (int w = 0; w < 8; w++) {
                int worker = w;
                tasks.add(pool.submit(() -> {
                    int n = 0;
                    while (!stop.get()) {
                        n++;
                        int c = ThreadLocalRandom.current().nextInt(CONTENTS);
                        byte[] data = content.apply(c);
                        String digest = TestServer.digest(data);
                        // most writes go into tags the deleter removes, some into kept tags
                        boolean victim = n % 8 != 0;
                        String path = victim
                                ? "/branches/soak/victim" + ThreadLocalRandom.current().nextInt(4) + "/w" + worker + "/fmt/f" + n
                                : "/branches/soak/keep" + worker + "/job/fmt/f" + n;
                        HttpResponse<String> head = s.head(path, "Digest", digest);
                        HttpResponse<String> put;
                        if (head.statusCode() == 200) {
                            probeHits.incrementAndGet();
                            put = s.send(s.request(path).header("Digest", digest).header("X-Dlrepo-Link", digest)
                                    .PUT(HttpRequest.BodyPublishers.noBody()).build());
                            links.incrementAndGet();
                            if (put.statusCode() == 404) {
                                brokenPromises.incrementAndGet();
                                continue;
                            }
                        } else {
                            put = s.send(s.request(path).header("Digest", digest)
                                    .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build());
                            bodies.incrementAndGet();
                        }
                        if (put.statusCode() != 201) {
                            // a PUT racing the delete of its own victim tag may legitimately fail
                            if (!victim) {
                                failures.add(path + " -> " + put.statusCode() + " " + put.body());
                            }
                            continue;
                        }
                        if (!victim) {
                            acknowledged.put(path, data);
                        }
                    }
                    return null;
                }));
            }
            tasks.add(pool.submit(() -> {
                while (!stop.get()) {
                    HttpResponse<String> r = s.delete("/branches/soak/victim" + ThreadLocalRandom.current().nextInt(4) + "/");
                    if (r.statusCode() == 200) {
                        deletes.incrementAndGet();
                    }
                    Thread.sleep(5);
                }
                return null;
            }));
            for (int g = 0; g < 2; g++) {
                tasks.add(pool.submit(() -> {
                    while (!stop.get()) {
                        s.daemon().cleanup().scheduleCleanup(false);
                        collections.incrementAndGet();
                        Thread.sleep(1);
                    }
                    return null;
                }));
            }
            Thread.sleep(SECONDS * 1000);
            stop.set(true);
            for (Future<?> f : tasks) {
                f.get();
            }
            pool.shutdown();
            assertTrue(s.daemon().cleanup().awaitIdle(30_000));
            int runs = s.daemon().cleanup().status().runs().size();
            System.out.printf("soak: %d acknowledged kept files, %d body uploads, %d links (%d probe hits), "
                    + "%d tag deletes, %d collection requests, %d broken probe promises, last runs %d%n",
                    acknowledged.size(), bodies.get(), links.get(), probeHits.get(), deletes.get(),
                    collections.get(), brokenPromises.get(), runs);
            assertEquals(List.of(), failures);
            assertEquals(0, brokenPromises.get(), "a blob announced by HEAD could not be linked");
            assertTrue(acknowledged.size() > 50, "the soak did some work");
            assertTrue(deletes.get() > 10);
            for (Map.Entry<String, byte[]> e : acknowledged.entrySet()) {
                byte[] onDisk = Files.readAllBytes(s.root().resolve(e.getKey().substring(1)));
                assertTrue(java.util.Arrays.equals(e.getValue(), onDisk), e.getKey());
                String hex = TestServer.digest(e.getValue()).substring(7);
                assertTrue(Files.exists(s.root().resolve(".blobs/sha256/" + hex.substring(0, 2) + "/" + hex)),
                        "the blob of a kept file exists");
            }
            // and through HTTP, a sample
            int checked = 0;
            for (Map.Entry<String, byte[]> e : acknowledged.entrySet()) {
                if (checked++ > 200) {
                    break;
                }
                HttpResponse<byte[]> r = s.getBytes(e.getKey());
                assertEquals(200, r.statusCode());
                assertTrue(java.util.Arrays.equals(e.getValue(), r.body()));
            }
        }
    }
}
