package dlrepo.registry;

import static dlrepo.registry.Reg.assertError;
import static dlrepo.registry.Reg.assertStatus;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Check;
import dlrepo.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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

    /** A PATCH of {@code body} whose bytes the test sends when it likes, over a raw socket. */
    static final class SlowPatch implements AutoCloseable {
        private final Socket socket;
        private final OutputStream out;
        private final byte[] body;
        private int sent;

        SlowPatch(TestServer s, String location, byte[] body) throws IOException {
            this.body = body;
            socket = new Socket("127.0.0.1", s.port());
            socket.setSoTimeout(30_000);
            out = socket.getOutputStream();
            out.write(("PATCH " + location + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                    + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        /** Sends the body up to byte {@code end}. */
        void sendUpTo(int end) throws IOException {
            out.write(body, sent, end - sent);
            out.flush();
            sent = end;
        }

        /** Sends the rest of the body (as far as the server takes it) and returns the whole answer. */
        String finish() throws IOException {
            try {
                sendUpTo(body.length);
            } catch (IOException e) {
                // the server answered (and closed) before the end: its answer is still there
            }
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            try {
                in.transferTo(answer);
            } catch (IOException e) {
                // a reset after the answer
            }
            return answer.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
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
}
