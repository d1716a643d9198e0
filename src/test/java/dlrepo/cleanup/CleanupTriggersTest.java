package dlrepo.cleanup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dlrepo.DaemonProcess;
import dlrepo.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What starts a cleanup: deletes, start-up, the timer, SIGUSR1. */
class CleanupTriggersTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode status(String body) throws Exception {
        return JSON.readTree(body).get("cleanup");
    }

    @Test
    void deleteAnswersBeforeTheCollectionEnds() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Path root = Files.createTempDirectory("dlrepo-test-");
        try (TestServer s = TestServer.start(root, Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"), work -> (tags, stop) -> {
            if (!tags) {
                entered.countDown();
                assertTrue(release.await(60, TimeUnit.SECONDS));
            }
            return work.run(tags, stop);
        })) {
            assertTrue(s.daemon().cleanup().awaitIdle(10_000), "start-up run done");
            assertEquals(201, s.upload("/branches/main/t1/job/fmt/a.txt", "a").statusCode());
            assertEquals(201, s.upload("/branches/main/t2/job/fmt/a.txt", "b").statusCode());
            long t0 = System.nanoTime();
            assertEquals(200, s.delete("/branches/main/t1/").statusCode());
            assertTrue(entered.await(10, TimeUnit.SECONDS), "the delete scheduled a collection");
            assertEquals(200, s.delete("/branches/main/t2/").statusCode());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
            JsonNode st = status(s.get("/cleanup").body());
            assertTrue(st.get("running").asBoolean(), "the collection is still running");
            assertTrue(st.get("pending").asBoolean(), "the second delete is coalesced into one more run");
            assertEquals(404, s.get("/branches/main/t1/").statusCode());
            release.countDown();
            assertTrue(s.daemon().cleanup().awaitIdle(10_000));
            st = status(s.get("/cleanup").body());
            assertFalse(st.get("running").asBoolean());
            assertEquals("delete", st.at("/runs/0/trigger").asText());
            assertFalse(st.at("/runs/0/tags").asBoolean());
        }
    }

    @Test
    void startupRunAndTimer() throws Exception {
        try (TestServer s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "1"))) {
            long deadline = System.currentTimeMillis() + 15_000;
            JsonNode st;
            do {
                Thread.sleep(100);
                st = status(s.get("/cleanup").body());
            } while (st.get("runs").size() < 3 && System.currentTimeMillis() < deadline);
            JsonNode runs = st.get("runs");
            assertTrue(runs.size() >= 3);
            assertEquals("startup", runs.get(runs.size() - 1).get("trigger").asText());
            assertEquals("timer", runs.get(0).get("trigger").asText());
            assertTrue(runs.get(0).get("tags").asBoolean());
            assertTrue(st.get("next_timer_run").isNumber());
        }
    }

    @Test
    void sigusr1RunsAFullCleanupInARealProcess() throws Exception {
        Path root = Files.createTempDirectory("dlrepo-sig-");
        try (DaemonProcess d = DaemonProcess.start(root, Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0",
                "DLREPO_LOG_LEVEL", "INFO"))) {
            HttpClient c = HttpClient.newHttpClient();
            long deadline = System.currentTimeMillis() + 15_000;
            JsonNode st;
            do {
                st = status(c.send(HttpRequest.newBuilder(URI.create(d.url("/cleanup"))).build(),
                        HttpResponse.BodyHandlers.ofString()).body());
            } while (st.get("runs").size() < 1 && System.currentTimeMillis() < deadline);
            for (int i = 0; i < 3; i++) {
                d.signal("USR1");
                Thread.sleep(300);
            }
            deadline = System.currentTimeMillis() + 15_000;
            do {
                Thread.sleep(100);
                st = status(c.send(HttpRequest.newBuilder(URI.create(d.url("/cleanup"))).build(),
                        HttpResponse.BodyHandlers.ofString()).body());
            } while (!st.at("/runs/0/trigger").asText().equals("signal") && System.currentTimeMillis() < deadline);
            assertEquals("signal", st.at("/runs/0/trigger").asText());
            assertTrue(st.at("/runs/0/tags").asBoolean());
            assertTrue(d.process().isAlive(), "SIGUSR1 must not kill the daemon");
            assertTrue(d.log().contains("cleanup (signal, tags) done"), d.log());
            d.signal("TERM");
            assertEquals(0, d.waitFor(30));
        } finally {
            deleteTree(root);
        }
    }

    static void deleteTree(Path p) throws Exception {
        try (var w = Files.walk(p)) {
            w.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
