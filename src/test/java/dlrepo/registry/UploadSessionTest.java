package dlrepo.registry;

import static dlrepo.registry.Reg.assertError;
import static dlrepo.registry.Reg.assertStatus;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Check;
import dlrepo.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An upload session while a client sends a chunk slowly: status requests are answered at
 * once and a second chunk is refused at once, rather than waiting (a worker thread each)
 * for as long as the slow client likes.
 */
class UploadSessionTest {
    private static final int CHUNK = 65536;
    /** Far more than a local request takes, far less than the slow chunk is held. */
    private static final Duration PROMPT = Duration.ofSeconds(5);
    private static TestServer s;

    @BeforeAll
    static void start() throws IOException {
        s = TestServer.start(Map.of("DLREPO_CHUNK_SIZE", Integer.toString(CHUNK)));
    }

    @AfterAll
    static void stop() throws IOException {
        s.close();
    }

    static String uploadUrl(String name) throws Exception {
        HttpResponse<String> start = Reg.post(s, "/v2/" + name + "/blobs/uploads/", new byte[0]);
        assertStatus(202, start);
        return Reg.location(start);
    }

    /** The {@code Range} of a status request on the upload, which must be answered promptly. */
    static String rangeNow(String location) {
        HttpResponse<String> r = assertTimeoutPreemptively(PROMPT, () -> Reg.send(s, "GET", location, null),
                "status of an upload while a chunk trickles in");
        assertStatus(204, r);
        return r.headers().firstValue("Range").orElse("");
    }

    @Test
    void aSlowChunkHoldsNeitherStatusRequestsNorOtherChunks() throws Exception {
        String name = "main/" + Check.unique("slow");
        String location = uploadUrl(name);
        byte[] data = Reg.data(3 * CHUNK);
        try (SlowPatch slow = new SlowPatch(s, location, data)) {
            // one whole chunk and part of the next: the server appended the first and waits
            slow.sendUpTo(CHUNK + 1000);
            long deadline = System.currentTimeMillis() + 10_000;
            String range;
            while (!(range = rangeNow(location)).equals("0-" + (CHUNK - 1))) {
                assertTrue(System.currentTimeMillis() < deadline, "the first chunk was not appended: " + range);
                Thread.sleep(50);
            }
            assertEquals("0-" + (CHUNK - 1), rangeNow(location));
            // HEAD too
            HttpResponse<String> head = assertTimeoutPreemptively(PROMPT,
                    () -> Reg.send(s, "HEAD", location, null));
            assertStatus(204, head);
            // a second chunk, with or without Content-Range, and a final PUT: refused at once
            for (String[] headers : new String[][] {{}, {"Content-Range", CHUNK + "-" + (CHUNK + 99)}}) {
                HttpResponse<String> other = assertTimeoutPreemptively(PROMPT,
                        () -> Reg.send(s, "PATCH", location, Reg.data(100), headers));
                assertError(other, 416, "BLOB_UPLOAD_INVALID");
                assertTrue(other.body().contains("another chunk"), other.body());
            }
            HttpResponse<String> put = assertTimeoutPreemptively(PROMPT, () -> Reg.send(s, "PUT",
                    Reg.withParam(location, "digest=" + TestServer.digest(data)), new byte[0]));
            assertError(put, 416, "BLOB_UPLOAD_INVALID");
            // the slow chunk ends normally, with none of the refused bytes
            String answer = slow.finish();
            assertTrue(answer.startsWith("HTTP/1.1 202"), answer);
            assertTrue(answer.contains("Range: 0-" + (data.length - 1)), answer);
        }
        assertEquals("0-" + (data.length - 1), rangeNow(location));
        assertStatus(201, Reg.send(s, "PUT", Reg.withParam(location, "digest=" + TestServer.digest(data)),
                new byte[0]));
        assertArrayEquals(data, Reg.sendBytes(s, "GET", "/v2/" + name + "/blobs/" + TestServer.digest(data)).body());
    }

    /**
     * A chunk that streams in for longer than the idle timeout keeps its session: the
     * session is in use as long as bytes arrive. An untouched one is dropped.
     */
    @Test
    void aLongChunkKeepsItsSessionAlive() throws Exception {
        try (TestServer idle2s = TestServer.start(Map.of("DLREPO_CHUNK_SIZE", Integer.toString(CHUNK),
                "DLREPO_REGISTRY_IDLE_TIMEOUT", "2"))) {
            String name = "main/" + Check.unique("long");
            HttpResponse<String> start = Reg.post(idle2s, "/v2/" + name + "/blobs/uploads/", new byte[0]);
            String location = Reg.location(start);
            HttpResponse<String> forgotten = Reg.post(idle2s, "/v2/" + name + "/blobs/uploads/", new byte[0]);
            byte[] data = Reg.data(5 * CHUNK);
            try (SlowPatch slow = new SlowPatch(idle2s, location, data)) {
                // 5 s in all, no other request on the session meanwhile
                for (int i = 1; i <= 20; i++) {
                    Thread.sleep(250);
                    slow.sendUpTo(data.length * i / 20);
                }
                String answer = slow.finish();
                assertTrue(answer.startsWith("HTTP/1.1 202"), answer);
            }
            assertStatus(201, Reg.send(idle2s, "PUT",
                    Reg.withParam(location, "digest=" + TestServer.digest(data)), new byte[0]));
            assertArrayEquals(data,
                    Reg.sendBytes(idle2s, "GET", "/v2/" + name + "/blobs/" + TestServer.digest(data)).body());
            assertError(Reg.send(idle2s, "GET", Reg.location(forgotten), null), 404, "BLOB_UPLOAD_UNKNOWN");
        }
    }
}
