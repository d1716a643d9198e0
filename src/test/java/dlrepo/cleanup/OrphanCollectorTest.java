package dlrepo.cleanup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the orphan collector may and may not delete. */
class OrphanCollectorTest {
    private static final FileTime OLD = FileTime.fromMillis(System.currentTimeMillis() - 3_600_000);

    private static Path blob(TestServer s, String content) {
        String hex = TestServer.digest(content).substring(7);
        return s.root().resolve(".blobs/sha256/" + hex.substring(0, 2) + "/" + hex);
    }

    private static void collect(TestServer s) throws Exception {
        s.daemon().cleanup().scheduleCleanup(false);
        assertTrue(s.daemon().cleanup().awaitIdle(30_000));
    }

    @Test
    void deletesOnlyOldUnlinkedFilesOfBlobsAndUploads() throws Exception {
        try (TestServer s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0",
                "DLREPO_ORPHAN_BLOB_LIFETIME", "600"))) {
            assertTrue(s.daemon().cleanup().awaitIdle(10_000));
            for (String c : new String[] {"linked", "young", "old"}) {
                assertEquals(201, s.upload("/branches/main/" + c + "/job/fmt/f", c).statusCode());
            }
            assertEquals(200, s.delete("/branches/main/young/").statusCode());
            assertEquals(200, s.delete("/branches/main/old/").statusCode());
            assertTrue(s.daemon().cleanup().awaitIdle(10_000));
            Files.setLastModifiedTime(blob(s, "old"), OLD);
            Files.setLastModifiedTime(blob(s, "linked"), OLD);
            Path staleUpload = Files.writeString(s.root().resolve(".uploads/0123456789abcdef0123456789abcdef"), "x");
            Files.setLastModifiedTime(staleUpload, OLD);
            Path freshUpload = Files.writeString(s.root().resolve(".uploads/fedcba9876543210fedcba9876543210"), "y");
            // old, unlinked files outside .blobs and .uploads are none of the collector's business
            Path outside = Files.writeString(s.root().resolve("notes.txt"), "keep");
            Files.setLastModifiedTime(outside, OLD);
            Path treeFile = s.root().resolve("branches/main/linked/job/fmt/stray");
            Files.writeString(treeFile, "keep");
            Files.setLastModifiedTime(treeFile, OLD);

            collect(s);

            assertTrue(Files.notExists(blob(s, "old")), "old orphan collected");
            assertTrue(Files.exists(blob(s, "young")), "young orphan kept for its lifetime");
            assertTrue(Files.exists(blob(s, "linked")), "linked blob kept");
            assertTrue(Files.notExists(staleUpload), "stale upload collected");
            assertTrue(Files.exists(freshUpload), "upload in progress kept");
            assertTrue(Files.exists(outside));
            assertTrue(Files.exists(treeFile));
            assertEquals("linked", s.get("/branches/main/linked/job/fmt/f").body());
        }
    }

    @Test
    void aBlobAnnouncedByAProbeSurvivesUntilItsLinkEvenWithLifetimeZero() throws Exception {
        try (TestServer s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0",
                "DLREPO_ORPHAN_BLOB_LIFETIME", "0"))) {
            assertEquals(201, s.upload("/branches/main/a/job/fmt/f", "probed").statusCode());
            assertEquals(201, s.upload("/branches/main/b/job/fmt/f", "unprobed").statusCode());
            assertEquals(200, s.delete("/branches/main/a/").statusCode());
            assertEquals(200, s.delete("/branches/main/b/").statusCode());
            assertTrue(s.daemon().cleanup().awaitIdle(10_000));
            // the deletes' collection ran with lifetime 0: both orphans are gone
            assertTrue(Files.notExists(blob(s, "unprobed")));
            assertTrue(Files.notExists(blob(s, "probed")));

            String d = TestServer.digest("probed");
            assertEquals(404, s.head("/branches/main/d/job/fmt/f", "Digest", d).statusCode());
            // uploaded again, announced to a client, orphaned again before the client links it
            assertEquals(201, s.upload("/branches/main/e/job/fmt/f", "probed").statusCode());
            assertEquals(200, s.head("/branches/main/d/job/fmt/f", "Digest", d).statusCode());
            assertEquals(200, s.delete("/branches/main/e/").statusCode());
            collect(s);
            collect(s);
            assertTrue(Files.exists(blob(s, "probed")), "protected after the probe");
            var link = s.send(s.request("/branches/main/d/job/fmt/f").header("Digest", d).header("X-Dlrepo-Link", d)
                    .PUT(java.net.http.HttpRequest.BodyPublishers.noBody()).build());
            assertEquals(201, link.statusCode(), link.body());
            assertEquals("probed", s.get("/branches/main/d/job/fmt/f").body());
        }
    }
}
