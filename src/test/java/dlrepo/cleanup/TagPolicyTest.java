package dlrepo.cleanup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dlrepo.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Branch retention policies applied by a full cleanup, and their preview. */
class TagPolicyTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Creates tags t0..t(n-1) of {@code branch}, t0 the oldest. */
    private static void tags(TestServer s, String branch, int n) throws Exception {
        long now = System.currentTimeMillis();
        for (int i = 0; i < n; i++) {
            String tag = "t" + i;
            assertEquals(201, s.upload("/branches/" + branch + "/" + tag + "/job/fmt/f.txt", "same").statusCode());
            Files.setLastModifiedTime(s.root().resolve("branches/" + branch + "/" + tag + "/.stamp"),
                    FileTime.fromMillis(now - (n - i) * 60_000L));
        }
    }

    private static void flag(TestServer s, String branch, String tag, String flag) throws Exception {
        Files.createFile(s.root().resolve("branches/" + branch + "/" + tag + "/." + flag));
    }

    private static List<String> remaining(TestServer s, String branch) throws Exception {
        List<String> names = new ArrayList<>();
        JsonNode tags = JSON.readTree(s.get("/branches/" + branch + "/").body()).at("/branch/tags");
        tags.forEach(t -> names.add(t.get("name").asText()));
        return names;
    }

    private static List<String> preview(TestServer s, String branch) throws Exception {
        List<String> names = new ArrayList<>();
        JsonNode p = JSON.readTree(s.get("/branches/" + branch + "/?cleanup_preview").body())
                .at("/branch/cleanup_preview");
        p.forEach(t -> names.add(t.get("name").asText()));
        return names;
    }

    private static void policy(TestServer s, String branch, int daily, int released) throws Exception {
        assertEquals(200, s.json("POST", "/branches/" + branch + "/",
                "{\"branch\": {\"max_daily_tags\": " + daily + ", \"max_released_tags\": " + released + "}}")
                .statusCode());
    }

    private static void fullCleanup(TestServer s) throws Exception {
        s.daemon().cleanup().schedule(true, "test");
        assertTrue(s.daemon().cleanup().awaitIdle(30_000));
    }

    @Test
    void keepsTheNewestDailyAndReleasedTagsAndEveryLockedOne() throws Exception {
        try (TestServer s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"))) {
            tags(s, "main", 8);
            flag(s, "main", "t1", "released");
            flag(s, "main", "t3", "released");
            flag(s, "main", "t6", "released");
            flag(s, "main", "t0", "locked");
            flag(s, "main", "t2", "locked");
            // daily, unlocked, newest first: t7 t5 t4 ; released unlocked: t6 t3 t1
            policy(s, "main", 2, 1);
            assertEquals(List.of("t4", "t3", "t1"), preview(s, "main"));
            fullCleanup(s);
            assertEquals(List.of("t0", "t2", "t5", "t6", "t7"), remaining(s, "main"));
            assertTrue(Files.notExists(s.root().resolve("branches/main/t4")));
            assertEquals(List.of(), preview(s, "main"));
            JsonNode last = JSON.readTree(s.get("/cleanup").body()).at("/cleanup/runs/0");
            assertEquals("test", last.get("trigger").asText());
            assertEquals(3, last.get("tags_deleted").asInt());
        }
    }

    @Test
    void zeroKeepsEverythingAndEqualLimitsDeleteNothing() throws Exception {
        try (TestServer s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"))) {
            tags(s, "a", 4);
            tags(s, "b", 4);
            tags(s, "c", 3);
            flag(s, "b", "t0", "released");
            policy(s, "a", 0, 0);
            policy(s, "b", 3, 1);
            // no policy at all on c
            fullCleanup(s);
            assertEquals(List.of("t0", "t1", "t2", "t3"), remaining(s, "a"));
            assertEquals(List.of("t0", "t1", "t2", "t3"), remaining(s, "b"));
            assertEquals(List.of("t0", "t1", "t2"), remaining(s, "c"));
            policy(s, "b", 1, 0);
            assertEquals(List.of("t2", "t1"), preview(s, "b"));
            fullCleanup(s);
            assertEquals(List.of("t0", "t3"), remaining(s, "b"), "released t0 kept: 0 = keep all");
        }
    }

    @Test
    void orphanBlobsOfDeletedTagsAreCollected() throws Exception {
        try (TestServer s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0",
                "DLREPO_ORPHAN_BLOB_LIFETIME", "0"))) {
            long now = System.currentTimeMillis();
            for (int i = 0; i < 3; i++) {
                assertEquals(201, s.upload("/branches/main/t" + i + "/job/fmt/f.txt", "content " + i).statusCode());
                Files.setLastModifiedTime(s.root().resolve("branches/main/t" + i + "/.stamp"),
                        FileTime.fromMillis(now - (3 - i) * 60_000L));
            }
            policy(s, "main", 1, 0);
            fullCleanup(s);
            assertEquals(List.of("t2"), remaining(s, "main"));
            Path blobs = s.root().resolve(".blobs/sha256");
            try (var w = Files.walk(blobs)) {
                assertEquals(1, w.filter(Files::isRegularFile).count(), "only t2's blob is left");
            }
            JsonNode last = JSON.readTree(s.get("/cleanup").body()).at("/cleanup/runs/0");
            assertEquals(2, last.get("blobs_freed").asInt());
            assertEquals("content 0".length() * 2, last.get("bytes_freed").asInt());
        }
    }
}
