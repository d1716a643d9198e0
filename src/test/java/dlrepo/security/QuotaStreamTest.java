package dlrepo.security;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Check;
import dlrepo.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A user's quota bounds what her uploads put on the disk while they stream, not only what
 * they leave in her tree: a chunked body (no Content-Length) far over the quota is cut at
 * the quota, and nothing of it stays.
 */
class QuotaStreamTest {
    private static final long QUOTA = 1_000_000;
    private static TestServer s;

    @BeforeAll
    static void start() throws IOException {
        s = TestServer.start(Map.of("DLREPO_USER_QUOTA", Long.toString(QUOTA), "DLREPO_CHUNK_SIZE", "65536"));
    }

    @AfterAll
    static void stop() throws IOException {
        s.close();
    }

    /** An endless body that counts what the client was asked for, and the largest .uploads seen. */
    private static final class Body extends InputStream {
        final AtomicLong sent = new AtomicLong();
        final AtomicLong maxStaged = new AtomicLong();
        private final long size;

        Body(long size) {
            this.size = size;
        }

        @Override
        public int read() {
            byte[] b = new byte[1];
            return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            long left = size - sent.get();
            if (left <= 0) {
                return -1;
            }
            int n = (int) Math.min(len, left);
            for (int i = 0; i < n; i++) {
                b[off + i] = (byte) (sent.get() + i);
            }
            if (sent.addAndGet(n) % (1 << 20) < n) {
                maxStaged.accumulateAndGet(staged(), Math::max);
            }
            return n;
        }
    }

    private static long staged() {
        try (Stream<Path> files = Files.list(s.root().resolve(".uploads"))) {
            return files.mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            return 0;
        }
    }

    @Test
    void aChunkedUploadIsCutAtTheQuota() throws Exception {
        String user = Check.unique("u");
        long size = 25L << 20;
        Body body = new Body(size);
        HttpRequest req = s.request("/~" + user + "/branches/b/t/j/f/big.bin")
                .header("Digest", "sha256:" + "0".repeat(64))
                .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> body)).build();
        int status;
        try {
            status = s.send(req).statusCode();
        } catch (IOException e) {
            status = -1; // the server may close before the client reads its answer
        }
        assertTrue(status == 413 || status == -1, "413 expected, got " + status);
        assertTrue(body.maxStaged.get() <= QUOTA + (1 << 20),
                "at most the quota (and a chunk) was ever staged: " + body.maxStaged.get());
        assertTrue(body.sent.get() < size / 2, "the server stopped reading: " + body.sent.get() + " of " + size);
        assertTrue(Check.eventually(5000, () -> staged() == 0), ".uploads emptied");
        assertEquals(0, Files.exists(s.root().resolve("users").resolve(user).resolve("branches/b/t"))
                ? Files.walk(s.root().resolve("users").resolve(user).resolve("branches/b/t")).count() : 0);
    }

    @Test
    void uploadsInParallelShareTheQuota() throws Exception {
        String user = Check.unique("u");
        byte[] data = new byte[400_000];
        var futures = new java.util.ArrayList<java.util.concurrent.CompletableFuture<HttpResponse<String>>>();
        for (int i = 0; i < 6; i++) {
            data[0] = (byte) i;
            byte[] copy = data.clone();
            futures.add(s.client().sendAsync(s.request("/~" + user + "/branches/b/t/j/f/part" + i)
                    .header("Digest", TestServer.digest(copy))
                    .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(copy)))
                    .build(), HttpResponse.BodyHandlers.ofString()));
        }
        int created = 0;
        for (var f : futures) {
            int st = f.get().statusCode();
            assertTrue(st == 201 || st == 413, "201 or 413: " + st);
            created += st == 201 ? 1 : 0;
        }
        assertTrue(created >= 1 && created <= 2, created + " uploads fit in the quota");
        var home = s.anonymous().ok("/~" + user + "/");
        assertTrue(home.toString().contains("\"disk_usage\":" + created * 400_000L), home.toString());
    }

    @Test
    void replacingAFileAtTheQuotaStillWorks() throws Exception {
        String user = Check.unique("u");
        byte[] data = new byte[(int) QUOTA];
        assertStatus(201, s.anonymous().upload("/~" + user + "/branches/b/t/j/f/full", data));
        data[0] = 1;
        HttpRequest req = s.request("/~" + user + "/branches/b/t/j/f/full").header("Digest", TestServer.digest(data))
                .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(data))).build();
        assertStatus(201, s.send(req));
    }

    /**
     * Only one upload at a time is credited with the size of the file it replaces: before,
     * every concurrent upload to the path was, and together they staged many times the quota.
     */
    @Test
    void concurrentReplacementsShareOneCredit() throws Exception {
        String user = Check.unique("u");
        String path = "/~" + user + "/branches/b/t/j/f/big";
        assertEquals(201, s.anonymous().upload(path, new byte[900_000]).statusCode());
        AtomicLong maxStaged = new AtomicLong();
        var futures = new java.util.ArrayList<java.util.concurrent.CompletableFuture<HttpResponse<String>>>();
        for (int i = 0; i < 6; i++) {
            InputStream slow = new InputStream() {
                private int sent;

                @Override
                public int read() {
                    byte[] b = new byte[1];
                    return read(b, 0, 1) < 0 ? -1 : b[0];
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    if (sent >= 900_000) {
                        return -1;
                    }
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    maxStaged.accumulateAndGet(staged(), Math::max);
                    int n = Math.min(Math.min(len, 65536), 900_000 - sent);
                    sent += n;
                    return n;
                }
            };
            futures.add(s.client().sendAsync(s.request(path).header("Digest", "sha256:" + "0".repeat(64))
                    .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> slow)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (var f : futures) {
            try {
                f.get();
            } catch (java.util.concurrent.ExecutionException e) {
                // cut by the server
            }
        }
        assertTrue(maxStaged.get() < 2 * QUOTA, "at most about the quota staged at once: " + maxStaged.get());
    }
}
