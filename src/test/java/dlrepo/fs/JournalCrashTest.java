package dlrepo.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dlrepo.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A crash between an upload's journal line and its file (the line is written first) must
 * not make that upload appear after the restart: it was never acknowledged. Simulated by
 * appending the line of a content the store holds, as the upload would have, and no file.
 */
class JournalCrashTest {
    @Test
    void anUploadCutBetweenItsEntryAndItsFileIsTakenBack() throws Exception {
        Path root = Files.createTempDirectory("dlrepo-journal-crash-");
        String format = "/branches/b/t/j/f/";
        TestServer s = TestServer.start(root, Map.of());
        assertEquals(201, s.upload(format + "kept.txt", "kept").statusCode());
        assertEquals(201, s.upload(format + "replaced.txt", "old").statusCode());
        assertEquals(201, s.upload("/branches/b/t/j/other/new.txt", "new").statusCode());
        s.stop();
        Path dir = root.resolve("branches/b/t/j/f");
        // the crash: the line of the next upload is durable, its link never happened
        new FormatJournal(dir, new Disk(true, root.resolve(".trash")))
                .append("never.txt", Digest.parse(TestServer.digest("new")));
        s = TestServer.start(root, Map.of());
        assertEquals(404, s.get(format + "never.txt").statusCode());
        assertEquals("kept", s.get(format + "kept.txt").body());
        assertFalse(Files.exists(dir.resolve("never.txt")));
        assertFalse(s.get(format).body().contains("never.txt"));
        s.stop();
        Path replacedDir = root.resolve("branches/b/t/j/f");
        new FormatJournal(replacedDir, new Disk(true, root.resolve(".trash")))
                .append("replaced.txt", Digest.parse(TestServer.digest("new")));
        s = TestServer.start(root, Map.of());
        try {
            assertEquals("old", s.get(format + "replaced.txt").body());
            assertEquals(200, s.send(s.request(format).method("PATCH",
                    java.net.http.HttpRequest.BodyPublishers.noBody()).build()).statusCode());
            assertEquals("old", s.get(format + "replaced.txt").body());
        } finally {
            s.close();
        }
    }
}
