package dlrepo.api;

import static dlrepo.api.Api.assertError;
import static dlrepo.api.Api.finalizeFormat;
import static dlrepo.api.Api.upload201;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Names that may not reach the disk: reserved, dot segments, control characters, encoded slashes. */
class BadNamesTest {
    static TestServer s;
    static Path outside;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start();
        upload201(s, "/branches/main/t/job/deb/ok.txt", "ok");
        finalizeFormat(s, "/branches/main/t/job/deb/");
        outside = s.root().getParent();
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    private static String putRaw(String path) {
        return "PUT " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nDigest: " + TestServer.digest("x")
                + "\r\nContent-Length: 1\r\n\r\nx";
    }

    private static int rawPutStatus(String path) throws Exception {
        String resp = s.raw(putRaw(path));
        return Integer.parseInt(resp.substring(9, 12));
    }

    @Test
    void dotNames() throws Exception {
        for (String path : List.of("/branches/.hidden/", "/branches/main/.t/", "/branches/main/t/.job/",
                "/branches/main/t/job/.deb/", "/branches/main/t/job/deb/.digests", "/branches/main/t/job/deb/.dirty",
                "/branches/main/t/job/deb/sub/.secret", "/branches/main/t/job/deb/.x/ok.txt",
                "/branches/main/t/.stamp", "/branches/main/.cleanup_policy")) {
            assertError(s.get(path), 400, null);
        }
        for (String path : List.of("/branches/.b/t/j/f/x", "/branches/b/.t/j/f/x", "/branches/b/t/.j/f/x",
                "/branches/b/t/j/.f/x", "/branches/main/t/job/deb/.digests", "/branches/main/t/job/deb/a/.b")) {
            assertError(s.upload(path, "x"), 400, null);
        }
        assertEquals("{\"ok.txt\": \"sha256:" + Api.sha256("ok") + "\"}",
                Api.read(s.root().resolve("branches/main/t/job/deb/.digests")), ".digests not overwritten");
        assertFalse(Files.exists(s.root().resolve("branches/.b")));
        assertFalse(Files.exists(s.root().resolve("branches/b")));
        assertError(s.json("POST", "/branches/.x/", "{\"branch\": {\"max_daily_tags\": 1}}"), 400, null);
        assertFalse(Files.exists(s.root().resolve("branches/.x")));
        assertError(s.delete("/branches/main/t/job/.deb/"), 400, null);
    }

    @Test
    void dotDotSegments() throws Exception {
        for (String path : List.of("/branches/main/t/job/deb/../../../../../x", "/branches/../x/",
                "/branches/main/../main/t/", "/branches/main/t/job/deb/sub/../ok.txt",
                "/branches/main/t/job/deb/%2e%2e/x", "/branches/main/t/job/deb/./ok.txt",
                "/branches/%2E%2E/t/")) {
            assertEquals(400, s.rawStatus("GET", path), path);
            assertEquals(400, rawPutStatus(path), path);
        }
        assertFalse(Files.exists(outside.resolve("x")));
        assertFalse(Files.exists(s.root().resolve("x")));
        assertFalse(Files.exists(s.root().resolve("branches/x")));
    }

    @Test
    void controlCharactersAndEncodedSlashes() throws Exception {
        for (String path : List.of("/branches/a%01b/", "/branches/main/t%0a/", "/branches/main/t/j%7f/",
                "/branches/main/t/job/deb/a%00b", "/branches/main/t/job/deb/line%0d%0abreak",
                "/branches/a%2fb/", "/branches/main/t/job/deb/a%2F..%2F..%2Fx", "/branches//t/",
                "/branches/main/t/job/deb//x", "/branches/main/t/job/deb/%ff", "/branches/main/t/job/deb/%zz")) {
            assertEquals(400, s.rawStatus("GET", path), path);
            assertEquals(400, rawPutStatus(path), path);
        }
        try (var st = Files.walk(s.root().resolve("branches"))) {
            st.forEach(p -> {
                String n = p.getFileName().toString();
                assertTrue(n.chars().noneMatch(c -> c < 0x20 || c == 0x7f), p.toString());
            });
        }
        assertEquals(List.of("main"), Api.list(s.root().resolve("branches")));
    }

    @Test
    void aliasesAreNotTagNames() throws Exception {
        // an alias cannot be created as a tag
        assertEquals(405, s.upload("/branches/main/latest/job/deb/x", "x").statusCode());
        assertFalse(Files.exists(s.root().resolve("branches/main/latest")));
    }
}
