package dlrepo.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestServer;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Upload bodies around and across many chunk boundaries ({@code DLREPO_CHUNK_SIZE} 4096):
 * each chunk is read into one of two buffers and hashed a chunk behind while the next is
 * read and written, so a chunk hashed twice, skipped, or overwritten before its hash would
 * give a wrong file or a wrong digest here.
 */
class UploadChunksTest {
    static final int CHUNK = 4096;
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_CHUNK_SIZE", Integer.toString(CHUNK)));
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    static byte[] random(int seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private void assertStored(String path, byte[] data) throws Exception {
        assertArrayEquals(data, Files.readAllBytes(s.root().resolve(path.substring(1))), path);
        HttpResponse<String> h = s.head(path, "Digest", TestServer.digest(data));
        assertEquals(200, h.statusCode(), path);
        assertEquals(List.of(), Api.list(s.root().resolve(".uploads")));
    }

    @Test
    void sizesAroundChunkBoundaries() throws Exception {
        int[] sizes = {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK - 1, 257 * CHUNK + 13, 3_000_017};
        for (int size : sizes) {
            byte[] data = random(size, size);
            String path = "/branches/chunks/t/j/f/len-" + size + ".bin";
            HttpResponse<String> r = s.upload(path, data);
            assertEquals(201, r.statusCode(), size + ": " + r.body());
            assertEquals(TestServer.digest(data), r.headers().firstValue("Digest").orElse(""));
            assertStored(path, data);
            // chunked transfer encoding: no length known in advance
            path = "/branches/chunks/t/j/f/chunked-" + size + ".bin";
            r = s.send(s.request(path).header("Digest", TestServer.digest(data))
                    .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(data))).build());
            assertEquals(201, r.statusCode(), size + " chunked: " + r.body());
            assertStored(path, data);
        }
    }

    @Test
    void wrongDigestOfAManyChunkBodyKeepsNothing() throws Exception {
        byte[] data = random(5, 100 * CHUNK + 7);
        byte[] other = data.clone();
        other[other.length - 1] ^= 1; // differs in the last chunk only
        String path = "/branches/chunks/t/j/f/bad.bin";
        HttpResponse<String> r = s.anonymous().put(path, data, "Digest", TestServer.digest(other));
        assertEquals(422, r.statusCode(), r.body());
        assertTrue(r.body().contains("Received data does not match digest"), r.body());
        assertFalse(Files.exists(s.root().resolve(path.substring(1))));
        assertEquals(List.of(), Api.list(s.root().resolve(".uploads")));
    }

    /** A body arriving in small uneven pieces: the chunks are filled across many reads. */
    @Test
    void bodyArrivingInSmallPieces() throws Exception {
        byte[] data = random(9, 40 * CHUNK + 333);
        String path = "/branches/chunks/t/j/f/trickle.bin";
        String head = "PUT " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nDigest: "
                + TestServer.digest(data) + "\r\nContent-Length: " + data.length + "\r\n\r\n";
        String answer;
        try (Socket sock = new Socket("127.0.0.1", s.port())) {
            sock.setTcpNoDelay(true);
            OutputStream out = sock.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            Random sizes = new Random(3);
            for (int off = 0; off < data.length; ) {
                int n = Math.min(data.length - off, 1 + sizes.nextInt(3 * CHUNK / 2));
                out.write(data, off, n);
                out.flush();
                off += n;
                if (sizes.nextInt(8) == 0) {
                    Thread.sleep(2);
                }
            }
            InputStream in = sock.getInputStream();
            answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
        assertTrue(answer.startsWith("HTTP/1.1 201"), answer);
        assertStored(path, data);
    }

    @Test
    void concurrentManyChunkUploads() throws Exception {
        int n = 6;
        byte[][] bodies = new byte[n][];
        List<Thread> threads = new java.util.ArrayList<>();
        int[] status = new int[n];
        for (int i = 0; i < n; i++) {
            int k = i;
            bodies[k] = random(100 + k, 200 * CHUNK + 17 * k);
            Thread t = new Thread(() -> {
                try {
                    status[k] = s.upload("/branches/chunks/t/j/par/" + k + ".bin", bodies[k]).statusCode();
                } catch (Exception e) {
                    status[k] = -1;
                }
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        for (int i = 0; i < n; i++) {
            assertEquals(201, status[i], "upload " + i);
            assertStored("/branches/chunks/t/j/par/" + i + ".bin", bodies[i]);
        }
    }
}
