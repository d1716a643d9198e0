package dlrepo.publish;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.Check;
import dlrepo.CountingProxy;
import dlrepo.DaemonProcess;
import dlrepo.TestServer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Retention policies and publishing: a released tag beyond {@code max_released_tags} is
 * deleted from the public servers before it is deleted here; if one cannot be reached, the
 * tag is kept (released, with the error as its status) and the next run tries again. A tag
 * being published is neither deleted by a policy nor through the API.
 */
class CleanupPublishTest {
    static void job(Sites sites, String tag, int size) throws Exception {
        byte[] b = new byte[size];
        new Random(tag.hashCode()).nextBytes(b);
        assertStatus(201, sites.ci().upload("/branches/main/" + tag + "/build/iso/image-" + tag + ".iso", b));
        assertStatus(200, sites.ci().send("PATCH", "/branches/main/" + tag + "/build/iso/"));
        assertStatus(200, sites.ci().json("PUT", "/branches/main/" + tag + "/build/", "{\"job\": {\"locked\": true}}"));
    }

    static void released(Sites sites, String tag) throws Exception {
        job(sites, tag, 5000);
        assertStatus(200, sites.release("main", tag, true));
        assertTrue(sites.awaitDone("main", tag, 60_000).startsWith("published to "));
    }

    /** One cleanup run with the tag policies; its report in {@code GET /cleanup}. */
    static JsonNode cleanupRun(Sites sites) throws Exception {
        TestServer s = sites.internal();
        s.daemon().cleanup().schedule(true, "test");
        assertTrue(s.daemon().cleanup().awaitIdle(60_000));
        JsonNode last = null;
        for (JsonNode r : sites.ci().ok("/cleanup").at("/cleanup/runs")) {
            if (last == null || r.get("end").asDouble() > last.get("end").asDouble()) {
                last = r;
            }
        }
        return last;
    }

    static int status(TestServer s, String path) throws Exception {
        return Sites.publisher(s).get(path).statusCode();
    }

    @Test
    void olderReleasedTagIsDeletedHereAndOnTheRemotes() throws Exception {
        try (Sites sites = Sites.start()) {
            released(sites, "r1");
            released(sites, "r2");
            for (TestServer pub : sites.publics()) {
                assertEquals(200, status(pub, "/branches/main/r1/"));
            }
            assertStatus(200, sites.ci().json("POST", "/branches/main/", "{\"branch\": {\"max_released_tags\": 1}}"));
            JsonNode run = cleanupRun(sites);
            assertEquals(1, run.get("tags_deleted").asInt(), run.toString());
            assertStatus(404, sites.ci().get("/branches/main/r1/"));
            for (TestServer pub : sites.publics()) {
                assertEquals(404, status(pub, "/branches/main/r1/"), "r1 on " + pub.port());
                assertEquals(200, status(pub, "/branches/main/r2/"), "r2 on " + pub.port());
            }
            assertTrue(sites.tag("main", "r2").get("released").asBoolean());
        }
    }

    @Test
    void remoteDownKeepsTheTagReleasedUntilTheNextRun() throws Exception {
        try (CountingProxy toPublic1 = new CountingProxy(1);
                CountingProxy toPublic2 = new CountingProxy(1);
                Sites sites = sitesWith(toPublic1, toPublic2)) {
            released(sites, "r1");
            released(sites, "r2");
            int dead = DaemonProcess.freePort();
            toPublic2.target(dead); // public2 is down
            toPublic2.dropConnections();
            assertStatus(200, sites.ci().json("POST", "/branches/main/", "{\"branch\": {\"max_released_tags\": 1}}"));
            JsonNode run = cleanupRun(sites);
            assertEquals(0, run.get("tags_deleted").asInt(), run.toString());
            JsonNode r1 = sites.tag("main", "r1");
            assertTrue(r1.get("released").asBoolean(), "kept released: " + r1);
            assertTrue(r1.get("publish_status").asText().startsWith("error: cannot unpublish from " + toPublic2.url()),
                    r1.toString());
            assertEquals(200, status(sites.public2, "/branches/main/r1/"), "still on the server that was down");

            toPublic2.target(sites.public2.port()); // back
            run = cleanupRun(sites);
            assertEquals(1, run.get("tags_deleted").asInt(), run.toString());
            assertStatus(404, sites.ci().get("/branches/main/r1/"));
            assertEquals(404, status(sites.public1, "/branches/main/r1/"));
            assertEquals(404, status(sites.public2, "/branches/main/r1/"));
            assertEquals(200, status(sites.public2, "/branches/main/r2/"));
        }
    }

    @Test
    void tagBeingPublishedIsNotDeleted() throws Exception {
        try (CountingProxy toPublic1 = new CountingProxy(1);
                CountingProxy toPublic2 = new CountingProxy(1);
                Sites sites = sitesWith(toPublic1, toPublic2)) {
            job(sites, "d1", 3 << 20);
            job(sites, "d2", 1000);
            toPublic2.throttleMillis = 200;
            assertStatus(200, sites.release("main", "d1", true));
            assertTrue(Check.eventually(30_000, () -> toPublic2.bodies().size() > 0), "d1 is being sent to public2");
            // d1 is the older of two daily tags, beyond max_daily_tags=1, but busy
            assertStatus(200, sites.ci().json("POST", "/branches/main/", "{\"branch\": {\"max_daily_tags\": 1}}"));
            JsonNode run = cleanupRun(sites);
            assertEquals(0, run.get("tags_deleted").asInt(), run.toString());
            assertStatus(200, sites.ci().get("/branches/main/d1/"));
            Check.assertError(sites.ci().delete("/branches/main/d1/"), 400, "is being published");
            Check.assertError(sites.ci().delete("/branches/main/"), 400, "is being published");
            assertStatus(200, sites.ci().get("/branches/main/d1/"));

            toPublic2.throttleMillis = 0;
            assertTrue(sites.awaitDone("main", "d1", 60_000).startsWith("published to "));
            assertStatus(200, Sites.publisher(sites.public2).get("/branches/main/d1/build/"));
            // released now: the daily limit no longer applies to it
            assertEquals(0, cleanupRun(sites).get("tags_deleted").asInt());
            assertStatus(200, sites.ci().get("/branches/main/d1/"));
        }
    }

    /** Sites publishing to public1 and public2 through these proxies (which can play a server down). */
    static Sites sitesWith(CountingProxy toPublic1, CountingProxy toPublic2) throws Exception {
        Sites sites = Sites.start("DLREPO_PUBLISH_URL", toPublic1.url() + "," + toPublic2.url());
        toPublic1.target(sites.public1.port());
        toPublic2.target(sites.public2.port());
        return sites;
    }
}
