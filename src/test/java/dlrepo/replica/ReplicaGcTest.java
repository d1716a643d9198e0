package dlrepo.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TarReader;
import dlrepo.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The writer deletes a tag and collects its blobs (orphan lifetime 0) while a replica is
 * in the middle of sending them slowly: a file, a registry blob, and a format archive
 * whose second member the replica had not reached yet. The blobs are gone from the store,
 * and every download completes with exactly the right bytes (the replica reads from the
 * descriptors it opened before the first byte).
 */
class ReplicaGcTest {
    static final int MIB = 1024 * 1024;

    /** A GET read slowly through a raw socket with a small receive buffer. */
    static final class SlowDownload implements AutoCloseable {
        final Socket socket = new Socket();
        final InputStream in;
        final long length;
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        final String head;

        SlowDownload(TestServer s, String path) throws IOException {
            socket.setReceiveBufferSize(64 * 1024);
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", s.port()));
            socket.setSoTimeout(60_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            in = socket.getInputStream();
            ByteArrayOutputStream h = new ByteArrayOutputStream();
            while (!h.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int c = in.read();
                if (c < 0) {
                    throw new IOException("no answer head: " + h);
                }
                h.write(c);
            }
            head = h.toString(StandardCharsets.ISO_8859_1);
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            long len = -1;
            for (String line : head.split("\r\n")) {
                if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                    len = Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
                }
            }
            assertTrue(len > 0, head);
            length = len;
        }

        /** Reads {@code n} bytes of the body (fewer only at its end). */
        void read(long n) throws IOException {
            byte[] buf = new byte[64 * 1024];
            while (n > 0) {
                int k = in.read(buf, 0, (int) Math.min(buf.length, n));
                if (k < 0) {
                    return;
                }
                body.write(buf, 0, k);
                n -= k;
            }
        }

        /** The rest of the body, then the whole body; it must have its announced length. */
        byte[] finish() throws IOException {
            read(Long.MAX_VALUE);
            assertEquals(length, body.size(), "bytes received of the announced Content-Length");
            return body.toByteArray();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void downloadsInProgressOnTheReplicaSurviveTheWritersCollection() throws Exception {
        Map<String, String> env = Map.of("DLREPO_ORPHAN_BLOB_LIFETIME", "0", "DLREPO_TAG_CLEANUP_PERIOD", "0");
        TestServer first0 = TestServer.start(env);
        try {
            Fixture f = populate(first0);
            // a restart: a pushed blob stays protected for minutes in the memory of the writer
            // that received it (its manifest is expected next)
            first0.stop();
            try (TestServer w = TestServer.start(first0.root(), env)) {
                assertTrue(w.daemon().cleanup().awaitIdle(30_000));
                TestServer replica = Replicas.replica(w.root(), Map.of());
                try {
                    downloadWhileCollecting(w, replica, f);
                } finally {
                    replica.stop();
                }
            }
        } finally {
            TestServer.deleteTree(first0.root());
        }
    }

    record Fixture(byte[] big, byte[] first, byte[] second, String layer, byte[] layerBytes) {
    }

    static final String FMT = "/branches/gc/t/j/f/";

    static Fixture populate(TestServer w) throws Exception {
        byte[] big = Replicas.random(32 * MIB, 21);
        byte[] first = Replicas.random(12 * MIB, 22);
        byte[] second = Replicas.random(6 * MIB, 23);
        assertEquals(201, w.upload(FMT + "big.bin", big).statusCode());
        assertEquals(201, w.upload(FMT + "a-first.bin", first).statusCode());
        assertEquals(201, w.upload(FMT + "b-second.bin", second).statusCode());
        assertEquals(200, w.json("PATCH", FMT, "").statusCode());
        byte[] layer = Replicas.random(16 * MIB, 24);
        Replicas.push(w, "gcreg/app", "v1", layer);
        return new Fixture(big, first, second, TestServer.digest(layer), layer);
    }

    static void downloadWhileCollecting(TestServer w, TestServer replica, Fixture f) throws Exception {
        List<Path> blobs = List.of(blob(w, TestServer.digest(f.big())), blob(w, TestServer.digest(f.first())),
                blob(w, TestServer.digest(f.second())), blob(w, f.layer()));
        blobs.forEach(b -> assertTrue(Files.exists(b), b.toString()));

        try (SlowDownload file = new SlowDownload(replica, FMT + "big.bin");
                SlowDownload tar = new SlowDownload(replica, "/branches/gc/t/j/f.tar");
                SlowDownload reg = new SlowDownload(replica, "/v2/gcreg/app/blobs/" + f.layer())) {
            file.read(MIB);
            tar.read(MIB);
            reg.read(MIB);

            assertEquals(200, w.delete("/branches/gc/t/").statusCode());
            assertEquals(200, w.delete("/branches/gcreg/v1/").statusCode());
            w.daemon().cleanup().schedule(true, "test");
            assertTrue(w.daemon().cleanup().awaitIdle(60_000));
            blobs.forEach(b -> assertFalse(Files.exists(b), b + " still in the store"));

            assertArrayEquals(f.big(), file.finish());
            assertArrayEquals(f.layerBytes(), reg.finish());
            List<TarReader.Member> members = TarReader.read(tar.finish());
            assertEquals(List.of("j-t-f/a-first.bin", "j-t-f/b-second.bin", "j-t-f/big.bin", "j-t-f/SHA256SUMS.txt"),
                    members.stream().map(TarReader.Member::name).toList());
            assertArrayEquals(f.first(), members.get(0).data());
            assertArrayEquals(f.second(), members.get(1).data());
            assertArrayEquals(f.big(), members.get(2).data());
        }
        assertEquals(404, replica.get(FMT + "big.bin").statusCode());
    }

    static Path blob(TestServer s, String digest) {
        String hex = digest.substring("sha256:".length());
        return s.root().resolve(".blobs/sha256").resolve(hex.substring(0, 2)).resolve(hex);
    }
}
