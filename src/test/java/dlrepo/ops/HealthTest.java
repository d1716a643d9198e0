package dlrepo.ops;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.Check;
import dlrepo.TestServer;
import dlrepo.Tmpfs;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * GET /health on a small tmpfs root: 200 while the root is writable with enough space,
 * 503 with the reason when it fills up or turns read-only, 200 again once repaired.
 */
class HealthTest {
    private static final Pattern NO_SPACE = Pattern.compile(
            "no space left on the root folder's file system: \\d+(\\.\\d)? (bytes|KiB) free, "
                    + "DLREPO_HEALTH_MIN_FREE is 1 MiB");

    private static HttpResponse<String> awaitStatus(TestServer s, int status) throws Exception {
        @SuppressWarnings("unchecked")
        HttpResponse<String>[] last = new HttpResponse[1];
        Check.eventually(5000, () -> {
            try {
                last[0] = s.anonymous().get("/health");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return last[0].statusCode() == status;
        });
        assertStatus(status, last[0]);
        assertEquals("no-store", last[0].headers().firstValue("Cache-Control").orElse(""));
        assertTrue(last[0].headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        return last[0];
    }

    private static void assertHealthy(TestServer s) throws Exception {
        JsonNode j = Check.JSON.readTree(awaitStatus(s, 200).body());
        assertEquals("ok", j.get("status").asText());
        assertTrue(j.get("ready").asBoolean());
        assertEquals(dlrepo.Version.get(), j.get("version").asText());
        assertTrue(j.get("uptime_seconds").asLong() >= 0);
        assertTrue(j.at("/root/writable").asBoolean());
        assertTrue(j.at("/root/free_bytes").asLong() >= 1 << 20);
        assertEquals(1 << 20, j.at("/root/min_free_bytes").asLong());
        assertFalse(j.at("/cleanup/running").isMissingNode());
        assertFalse(j.at("/cleanup/last_run_failed").asBoolean(true));
        assertFalse(j.has("reason"));
        // the metric checks on its own, also at most once a second
        Check.eventually(3000, () -> {
            try {
                return Scrape.of(s.anonymous()).value("dlrepo_health_ok") == 1;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(1, Scrape.of(s.anonymous()).value("dlrepo_health_ok"));
    }

    private static JsonNode assertUnhealthy(TestServer s) throws Exception {
        JsonNode j = Check.JSON.readTree(awaitStatus(s, 503).body());
        assertEquals("unavailable", j.get("status").asText());
        assertFalse(j.get("ready").asBoolean());
        assertEquals(j.get("reason").asText(), j.get("error").asText());
        assertFalse(j.get("reason").asText().contains(s.root().toString()), "no path in an open answer");
        Check.eventually(3000, () -> {
            try {
                return Scrape.of(s.anonymous()).value("dlrepo_health_ok") == 0;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(0, Scrape.of(s.anonymous()).value("dlrepo_health_ok"));
        return j;
    }

    @Test
    void aFullRootThenAReadOnlyOneAreUnhealthyUntilRepaired() throws Exception {
        try (Tmpfs fs = Tmpfs.mount(4096)) {
            Path root = fs.path().resolve("root");
            try (TestServer s = TestServer.start(root, Map.of("DLREPO_HEALTH_MIN_FREE", "1M",
                    "DLREPO_TAG_CLEANUP_PERIOD", "0"))) {
                assertHealthy(s);
                assertStatus(200, s.anonymous().head("/health"));

                Path filler = fs.path().resolve("filler");
                Tmpfs.fill(filler);
                JsonNode j = assertUnhealthy(s);
                assertTrue(NO_SPACE.matcher(j.get("reason").asText()).matches(), j.toString());
                assertFalse(j.at("/root/writable").asBoolean());
                assertTrue(j.at("/root/free_bytes").asLong() < 1 << 20);
                Files.delete(filler);
                assertHealthy(s);

                // the daemon holds <root>/.lock open for writing, which keeps the tmpfs from
                // being remounted read-only: the root is bound onto itself, and that mount
                // (which nothing has open) turned read-only, then removed
                Tmpfs.run("mount", "--bind", root.toString(), root.toString());
                try {
                    Tmpfs.run("mount", "-o", "remount,bind,ro", root.toString());
                    j = assertUnhealthy(s);
                    assertEquals("the root folder is on a read-only file system", j.get("reason").asText());
                    assertFalse(j.at("/root/writable").asBoolean());
                } finally {
                    Tmpfs.run("umount", root.toString());
                }
                assertHealthy(s);
                assertStatus(405, s.anonymous().send("POST", "/health"));
            }
        }
    }

    @Test
    void aReplicaOnlyNeedsToListItsRoot() throws Exception {
        try (Tmpfs fs = Tmpfs.mount(4096)) {
            Path root = fs.path().resolve("root");
            try (TestServer writer = TestServer.start(root, Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0",
                    "DLREPO_HEALTH_MIN_FREE", "1M"))) {
                awaitStatus(writer, 200);
                Tmpfs.run("mount", "--bind", root.toString(), root.toString());
                try {
                    Tmpfs.run("mount", "-o", "remount,bind,ro", root.toString());
                    // read-only, and less free space than asked: neither matters to a replica
                    try (TestServer replica = TestServer.start(root, Map.of("DLREPO_READ_ONLY", "1",
                            "DLREPO_HEALTH_MIN_FREE", "1G"))) {
                        JsonNode j = Check.JSON.readTree(awaitStatus(replica, 200).body());
                        assertTrue(j.get("ready").asBoolean());
                        assertTrue(j.at("/root/read_only_replica").asBoolean());
                    }
                    assertUnhealthy(writer);
                } finally {
                    Tmpfs.run("umount", root.toString());
                }
            }
        }
    }

    @Test
    void aMissingRootIsUnhealthy() throws Exception {
        Path root = Files.createTempDirectory("dlrepo-health-");
        try (TestServer s = TestServer.start(root, Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"))) {
            awaitStatus(s, 200);
            Path moved = root.resolveSibling(root.getFileName() + "-moved");
            Files.move(root, moved);
            try {
                JsonNode j = assertUnhealthy(s);
                assertEquals("the root folder is missing", j.get("reason").asText());
            } finally {
                Files.move(moved, root);
            }
            awaitStatus(s, 200);
        }
    }
}
