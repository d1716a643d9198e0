package dlrepo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void uploadListDownload() throws Exception {
        try (TestServer s = TestServer.start()) {
            assertEquals(201, s.upload("/branches/main/t1/build/deb/a.txt", "hello\n").statusCode());
            assertEquals("hello\n", s.get("/branches/main/t1/build/deb/a.txt").body());
            assertTrue(s.get("/branches/").body().contains("\"name\":\"main\""));
            assertTrue(Files.exists(s.root().resolve("branches/main/t1/build/deb/a.txt")));
        }
    }
}
