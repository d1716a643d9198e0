package dlrepo.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.TestServer;
import dlrepo.registry.Reg.Blob;
import dlrepo.registry.Reg.Image;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Referrers pushed from 4 threads while their subject is pushed to more tags, and one of
 * those tags deleted and pushed again, through the HTTP API and through the registry, with
 * orphan cleanups running: afterwards every referrer that got its 201 is listed and stored
 * in every tag holding its subject, no {@code .referrers} entry lacks its files, and a
 * cleanup keeps them all.
 */
class ReferrersConcurrencyTest {
    static final int THREADS = 4;
    static final int PER_THREAD = 25;
    static final Map<String, String> ENV = Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0", "DLREPO_ORPHAN_BLOB_LIFETIME", "0");

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void referrersPushedWhileTheSubjectsTagsChangeAreAllKept() throws Exception {
        Path root = Files.createTempDirectory("dlrepo-refconc-");
        String branch = Reg.unique("conc");
        String name = branch + "/app";
        Map<String, String> pushed = new ConcurrentHashMap<>();
        String subject;
        TestServer s = TestServer.start(root, ENV);
        try {
            Image img = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 2, 2000);
            subject = img.digest();
            // pushed: referrer digest -> its subject (the image, or an earlier referrer: a signature of an SBOM)
            List<String> failures = Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean done = new AtomicBoolean();
            AtomicInteger rounds = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(THREADS + 1);
            try {
                List<Future<?>> pushers = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int thread = t;
                    pushers.add(pool.submit(() -> {
                        OciClient c = new OciClient(s);
                        ObjectNode previous = null;
                        for (int i = 0; i < PER_THREAD; i++) {
                            boolean chained = previous != null && i % 5 == 4;
                            ObjectNode on = chained ? previous : OciClient.descriptor(img);
                            String type = chained ? ReferrerClientsTest.NOTARY : ReferrerClientsTest.SPDX;
                            Blob layer = Blob.of(Reg.data(200 + thread), type);
                            c.pushBlobOras(name, layer);
                            c.pushBlobOras(name, OciClient.EMPTY);
                            Image r = ReferrerClientsTest.orasArtifact(type, List.of(layer.descriptor()), List.of(layer),
                                    on, Map.of("thread", String.valueOf(thread)));
                            HttpResponse<String> resp = c.send("PUT", "/v2/" + name + "/manifests/" + r.digest(),
                                    r.bytes(), "Content-Type", r.mediaType());
                            if (resp.statusCode() == 201
                                    && on.get("digest").asText().equals(resp.headers().firstValue("OCI-Subject").orElse(null))) {
                                pushed.put(r.digest(), on.get("digest").asText());
                                previous = OciClient.descriptor(r);
                            } else {
                                failures.add("PUT " + r.digest() + ": " + resp.statusCode() + " " + resp.headers().map()
                                        + " " + resp.body());
                            }
                        }
                        return null;
                    }));
                }
                Future<?> mutator = pool.submit(() -> {
                    do {
                        mutate(s, name, branch, img, failures);
                        rounds.incrementAndGet();
                        s.daemon().cleanup().scheduleCleanup(false);
                    } while (!done.get());
                    return null;
                });
                for (Future<?> f : pushers) {
                    f.get(180, TimeUnit.SECONDS);
                }
                done.set(true);
                mutator.get(60, TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
            assertEquals(List.of(), failures);
            assertEquals(THREADS * PER_THREAD, pushed.size());
            assertTrue(rounds.get() >= 1);
            // the last round left v1, v2 and v3 holding the image
            assertAllKept(s, name, subject, pushed);
        } catch (Throwable e) {
            s.close();
            throw e;
        }
        s.stop();
        // a cleanup on a fresh daemon (nothing protected by recent pushes any more) keeps them all
        try (TestServer again = TestServer.start(root, ENV)) {
            assertTrue(again.daemon().cleanup().awaitIdle(30_000));
            again.daemon().cleanup().scheduleCleanup(false);
            assertTrue(again.daemon().cleanup().awaitIdle(30_000));
            assertAllKept(again, name, subject, pushed);
        }
    }

    /** One round: the image pushed to v2 and v3, v2 deleted by the HTTP API, pushed, deleted by the registry, pushed. */
    private static void mutate(TestServer s, String name, String branch, Image img, List<String> failures)
            throws Exception {
        expect(failures, 201, Reg.putManifest(s, name, "v2", img));
        expect(failures, 201, Reg.putManifest(s, name, "v3", img));
        expect(failures, 200, s.delete("/branches/" + branch + "/v2/"));
        expect(failures, 201, Reg.putManifest(s, name, "v2", img));
        expect(failures, 202, Reg.send(s, "DELETE", "/v2/" + name + "/manifests/v2", null));
        expect(failures, 201, Reg.putManifest(s, name, "v2", img));
    }

    private static void expect(List<String> failures, int status, HttpResponse<String> r) {
        if (r.statusCode() != status) {
            failures.add(r.request().method() + " " + r.uri() + ": " + r.statusCode() + " (expected " + status + ") "
                    + r.body());
        }
    }

    /**
     * Listed by the API, stored in each of v1, v2, v3 (manifest and blobs linked, in {@code
     * .digests}), and every {@code .referrers} entry backed by its files.
     */
    private static void assertAllKept(TestServer s, String name, String subject, Map<String, String> pushed)
            throws Exception {
        Map<String, List<String>> bySubject = new TreeMap<>();
        pushed.forEach((r, on) -> bySubject.computeIfAbsent(on, k -> new ArrayList<>()).add(r));
        bySubject.values().forEach(Collections::sort);
        OciClient c = new OciClient(s);
        for (Map.Entry<String, List<String>> e : bySubject.entrySet()) {
            assertEquals(e.getValue(), c.referrerDigests(name, e.getKey(), null), "referrers of " + e.getKey());
        }
        assertTrue(bySubject.containsKey(subject));
        for (String tag : List.of("v1", "v2", "v3")) {
            Path container = OciClient.container(s, name, tag);
            assertEquals(subject, c.resolve(name, tag).get("digest").asText());
            Map<String, List<JsonNode>> file = OciClient.referrersFile(container);
            Map<String, List<String>> onDisk = new TreeMap<>();
            file.forEach((k, v) -> onDisk.put(k, v.stream().map(d -> d.get("digest").asText()).toList()));
            assertEquals(bySubject, onDisk, ".referrers of " + tag);
            for (List<JsonNode> entries : file.values()) {
                for (JsonNode d : entries) {
                    OciClient.assertLinked(container, d.get("digest").asText());
                }
            }
        }
        for (String r : pushed.keySet()) {
            JsonNode m = c.fetchManifest(name, OciClient.descriptor(Reg.OCI_MANIFEST, r,
                    Files.size(OciClient.container(s, name, "v1").resolve(OciClient.rel("manifests", r)))));
            c.fetchBlob(name, m.at("/layers/0"));
        }
    }
}
