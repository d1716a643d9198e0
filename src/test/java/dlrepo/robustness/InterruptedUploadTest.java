package dlrepo.robustness;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A client that goes away in the middle of its body leaves nothing visible: no file, no
 * {@code .digests} entry, no blob; at most an orphan in {@code .uploads}. The server goes
 * on serving.
 */
class InterruptedUploadTest {
    private static final int DECLARED = 10 << 20;
    private static final int SENT = 1 << 20;

    private TestServer s;

    @BeforeEach
    void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_FSYNC", "0"));
    }

    @AfterEach
    void stop() throws Exception {
        s.close();
    }

    /** Sends the head and {@code SENT} bytes of a {@code DECLARED}-byte body, then closes. */
    private void abortedPut(String path, boolean chunked, boolean reset) throws Exception {
        byte[] full = Robust.bytes(99, DECLARED);
        String head = "PUT " + path + " HTTP/1.1\r\nHost: x\r\n"
                + "Digest: sha256:" + Robust.hex(full) + "\r\n"
                + (chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + DECLARED + "\r\n")
                + "\r\n";
        try (Socket sock = new Socket("127.0.0.1", s.port())) {
            OutputStream out = sock.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            if (chunked) {
                for (int off = 0; off < SENT; off += 65536) {
                    out.write((Integer.toHexString(65536) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    out.write(full, off, 65536);
                    out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
                }
            } else {
                out.write(full, 0, SENT);
            }
            out.flush();
            // let the server start streaming the body into .uploads
            Robust.eventually(5, () -> !listQuietly(s.root().resolve(".uploads")).isEmpty());
            if (reset) {
                sock.setSoLinger(true, 0); // RST instead of FIN
            }
        }
    }

    private static List<String> listQuietly(Path dir) {
        try {
            return Robust.list(dir);
        } catch (IOException e) {
            return List.of();
        }
    }

    private void assertNothingLeft(String path) throws Exception {
        // the handler notices the abort and deletes its upload; allow it a moment
        Path uploads = s.root().resolve(".uploads");
        Robust.eventually(10, () -> listQuietly(uploads).isEmpty());
        assertTrue(Robust.list(uploads).size() <= 1, "more than one orphan: " + Robust.list(uploads));
        assertEquals(List.of(), Robust.blobFiles(s.root()), "a blob of an incomplete body");
        Path file = s.root().resolve(path.substring(1));
        assertFalse(Files.exists(file), "file of an incomplete body is in the tree");
        Path format = file.getParent();
        assertFalse(Robust.digests(format).containsKey(file.getFileName().toString()), ".digests entry");
        assertEquals(List.of(), Robust.list(s.root().resolve("branches")), "nothing created in the tree");
        assertEquals(404, s.getBytes(path).statusCode());
    }

    private void assertStillServing() throws Exception {
        assertEquals(200, s.get("/branches/").statusCode());
        byte[] data = Robust.bytes(5, 200_000);
        assertEquals(201, s.upload("/branches/after/t/j/f/ok.bin", data).statusCode());
        assertArrayEquals(data, s.getBytes("/branches/after/t/j/f/ok.bin").body());
    }

    @Test
    void closedMidBodyLeavesNothingVisible() throws Exception {
        String path = "/branches/cut/t/j/fmt/big.bin";
        abortedPut(path, false, false);
        assertNothingLeft(path);
        assertStillServing();
    }

    @Test
    void resetMidBodyLeavesNothingVisible() throws Exception {
        String path = "/branches/cut/t/j/fmt/big.bin";
        abortedPut(path, false, true);
        assertNothingLeft(path);
        assertStillServing();
    }

    @Test
    void chunkedBodyCutShortLeavesNothingVisible() throws Exception {
        String path = "/branches/cut/t/j/fmt/chunked.bin";
        abortedPut(path, true, false);
        assertNothingLeft(path);
        assertStillServing();
    }

    @Test
    void interruptedReplacementKeepsThePreviousFile() throws Exception {
        String path = "/branches/keep/t/j/fmt/file.bin";
        byte[] v1 = Robust.bytes(1, 100_000);
        assertEquals(201, s.upload(path, v1).statusCode());
        Path fmt = s.root().resolve("branches/keep/t/j/fmt");
        Map<String, String> before = Robust.digests(fmt);

        abortedPut(path, false, false);

        Robust.eventually(10, () -> listQuietly(s.root().resolve(".uploads")).isEmpty());
        assertTrue(Robust.list(s.root().resolve(".uploads")).size() <= 1);
        assertEquals(before, Robust.digests(fmt));
        assertArrayEquals(v1, Files.readAllBytes(fmt.resolve("file.bin")));
        assertArrayEquals(v1, s.getBytes(path).body());
        assertEquals(List.of("sha256/" + Robust.hex(v1).substring(0, 2) + "/" + Robust.hex(v1)),
                Robust.blobFiles(s.root()));
        assertEquals(1, Robust.assertConsistent(s.root()));
        assertStillServing();
    }

    @Test
    void manyAbortedUploadsInARowDoNotExhaustTheServer() throws Exception {
        // more aborted uploads than a small worker pool would survive if each leaked a thread
        for (int i = 0; i < 20; i++) {
            String path = "/branches/many/t/j/fmt/f" + i;
            byte[] head = ("PUT " + path + " HTTP/1.1\r\nHost: x\r\nDigest: sha256:" + "0".repeat(64)
                    + "\r\nContent-Length: " + DECLARED + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
            try (Socket sock = new Socket("127.0.0.1", s.port())) {
                sock.getOutputStream().write(head);
                sock.getOutputStream().write(new byte[4096]);
                sock.getOutputStream().flush();
            }
        }
        // the server may not have started every one of them yet: an empty .uploads right
        // away proves nothing, so give the requests time to begin (and fail) first
        Thread.sleep(1500);
        Robust.eventually(10, () -> listQuietly(s.root().resolve(".uploads")).isEmpty());
        assertEquals(List.of(), Robust.list(s.root().resolve(".uploads")));
        assertEquals(List.of(), Robust.list(s.root().resolve("branches")));
        assertStillServing();
    }

    /** Downloads abandoned half-way (FIN and RST) cost nothing lasting. */
    @Test
    void abortedDownloadsLeaveTheServerServing() throws Exception {
        byte[] data = Robust.bytes(77, 30 << 20);
        String path = "/branches/dl/t/j/fmt/big.bin";
        assertEquals(201, s.upload(path, data).statusCode());
        for (int i = 0; i < 20; i++) {
            try (Socket sock = new Socket()) {
                sock.setReceiveBufferSize(8192);
                sock.connect(new java.net.InetSocketAddress("127.0.0.1", s.port()));
                sock.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n"
                        + (i % 3 == 0 ? "Range: bytes=1000-\r\n" : "") + "\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                sock.getInputStream().readNBytes(100_000);
                if (i % 2 == 0) {
                    sock.setSoLinger(true, 0);
                }
            }
        }
        assertArrayEquals(data, s.getBytes(path).body());
        assertStillServing();
    }
}
