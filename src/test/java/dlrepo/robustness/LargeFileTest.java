package dlrepo.robustness;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.DaemonProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * 1 GiB through a daemon whose heap is 64 MiB: the body is generated on the fly (never a
 * 1 GiB array on either side), uploaded, downloaded and hashed while streaming. A server
 * that buffered a body would die of OutOfMemoryError long before.
 */
class LargeFileTest {
    static final long SIZE = 1L << 30;
    static final int BLOCK = 1 << 16;
    static final String PATH = "/branches/big/t/j/iso/image.bin";

    static Path root;
    static DaemonProcess d;
    static String expectedHex;
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    /** The deterministic content: block {@code i} is {@code BLOCK} bytes seeded by {@code i}. */
    static final class Generated extends InputStream {
        private final long end;
        private long pos;
        private final byte[] block = new byte[BLOCK];
        private long blockIndex = -1;

        Generated(long start, long end) {
            this.pos = start;
            this.end = end;
        }

        private void load(long index) {
            if (index != blockIndex) {
                new SplittableRandom(0x5eed0000L + index).nextBytes(block);
                blockIndex = index;
            }
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos >= end) {
                return -1;
            }
            long index = pos / BLOCK;
            int inBlock = (int) (pos % BLOCK);
            load(index);
            int n = (int) Math.min(Math.min(len, BLOCK - inBlock), end - pos);
            System.arraycopy(block, inBlock, b, off, n);
            pos += n;
            return n;
        }
    }

    static String hexOf(InputStream in, long[] count) throws IOException {
        MessageDigest md = Robust.sha256();
        byte[] buf = new byte[1 << 20];
        int n;
        long total = 0;
        while ((n = in.read(buf)) != -1) {
            md.update(buf, 0, n);
            total += n;
        }
        count[0] = total;
        return HexFormat.of().formatHex(md.digest());
    }

    @BeforeAll
    static void upload() throws Exception {
        root = Files.createTempDirectory("dlrepo-large-");
        d = DaemonProcess.start(root, Map.of("DLREPO_FSYNC", "0"), "-Xmx64m");
        long[] n = new long[1];
        try (Generated g = new Generated(0, SIZE)) {
            expectedHex = hexOf(g, n);
        }
        assertEquals(SIZE, n[0]);
        String head = rawUpload(PATH);
        assertTrue(head.startsWith("HTTP/1.1 201"), () -> head + "\n" + logQuietly());
    }

    /**
     * Streams the generated content as a PUT body over a plain socket, 1 MiB per write
     * (the JDK client's InputStream publisher copies 16 KiB at a time: 5x slower here).
     * Returns the response (head and body).
     */
    static String rawUpload(String path) throws IOException {
        try (Socket s = new Socket("127.0.0.1", d.port())) {
            s.setSoTimeout(300_000);
            OutputStream out = s.getOutputStream();
            out.write(("PUT " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nDigest: sha256:" + expectedHex
                    + "\r\nContent-Length: " + SIZE + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            byte[] buf = new byte[1 << 20];
            try (Generated g = new Generated(0, SIZE)) {
                int n;
                while ((n = g.readNBytes(buf, 0, buf.length)) > 0) {
                    out.write(buf, 0, n);
                }
            }
            out.flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (d != null) {
                assertTrue(d.process().isAlive(), "the daemon died: " + logQuietly());
                assertTrue(!d.log().contains("OutOfMemoryError"), d.log());
                d.close();
            }
        } finally {
            Robust.deleteTree(root);
        }
    }

    static String logQuietly() {
        try {
            return d.log();
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    void storedOnDiskWithItsDigest() throws Exception {
        Path file = root.resolve(PATH.substring(1));
        assertEquals(SIZE, Files.size(file));
        assertTrue(Robust.nlink(file) >= 2);
        assertEquals(Robust.inode(Robust.blob(root, expectedHex)), Robust.inode(file));
        assertEquals("sha256:" + expectedHex, Robust.digests(file.getParent()).get("image.bin"));
        assertEquals(List.of(), Robust.list(root.resolve(".uploads")));
    }

    @Test
    void downloadStreamsTheSameBytes() throws Exception {
        HttpRequest get = HttpRequest.newBuilder(URI.create(d.url(PATH))).timeout(Duration.ofMinutes(5)).build();
        HttpResponse<InputStream> r = CLIENT.send(get, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        assertEquals(SIZE, r.headers().firstValueAsLong("Content-Length").orElse(-1));
        assertEquals("sha256:" + expectedHex, r.headers().firstValue("Digest").orElse(""));
        long[] n = new long[1];
        String got;
        try (InputStream in = r.body()) {
            got = hexOf(in, n);
        }
        assertEquals(SIZE, n[0]);
        assertEquals(expectedHex, got);
    }

    @Test
    void rangeInTheMiddle() throws Exception {
        long first = SIZE / 2 - 12345;
        long last = SIZE / 2 + 3 * BLOCK + 17;
        HttpRequest get = HttpRequest.newBuilder(URI.create(d.url(PATH))).timeout(Duration.ofMinutes(1))
                .header("Range", "bytes=" + first + "-" + last).build();
        HttpResponse<byte[]> r = CLIENT.send(get, HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(206, r.statusCode());
        assertEquals("bytes " + first + "-" + last + "/" + SIZE, r.headers().firstValue("Content-Range").orElse(""));
        byte[] expected;
        try (Generated g = new Generated(first, last + 1)) {
            expected = g.readAllBytes();
        }
        assertEquals(last - first + 1, expected.length);
        assertArrayEquals(expected, r.body());

        // the last bytes of the file (suffix range), also far from the start
        HttpRequest tail = HttpRequest.newBuilder(URI.create(d.url(PATH))).timeout(Duration.ofMinutes(1))
                .header("Range", "bytes=-1000").build();
        HttpResponse<byte[]> t = CLIENT.send(tail, HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(206, t.statusCode());
        try (Generated g = new Generated(SIZE - 1000, SIZE)) {
            assertArrayEquals(g.readAllBytes(), t.body());
        }
    }

    @Test
    void memoryStayedSmall() throws Exception {
        // peak resident memory of the daemon, for the record and as a loose guard (the JVM
        // itself needs ~100 MiB; a buffered 1 GiB body would be far above)
        String status = Files.readString(Path.of("/proc/" + d.pid() + "/status"));
        long hwmKb = status.lines().filter(l -> l.startsWith("VmHWM:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(-1);
        System.out.println("daemon peak RSS: " + hwmKb / 1024 + " MiB");
        assertTrue(hwmKb > 0 && hwmKb < 700 * 1024, "peak RSS " + hwmKb + " KiB");
    }
}
