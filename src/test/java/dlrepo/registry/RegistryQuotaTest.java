package dlrepo.registry;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Check;
import dlrepo.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Pushes to a user's images count against her quota before any manifest links them: an
 * upload session is cut at the quota while it streams, and blobs that no manifest uses yet
 * count until one does, so they cannot fill the disk past the quota.
 */
class RegistryQuotaTest {
    private static final int QUOTA = 1_000_000;
    private static TestServer s;

    @BeforeAll
    static void start() throws IOException {
        s = TestServer.start(Map.of("DLREPO_USER_QUOTA", Integer.toString(QUOTA), "DLREPO_CHUNK_SIZE", "65536"));
    }

    @AfterAll
    static void stop() throws IOException {
        s.close();
    }

    private static long staged() throws IOException {
        try (Stream<Path> files = Files.list(s.root().resolve(".uploads"))) {
            return files.mapToLong(p -> p.toFile().length()).sum();
        }
    }

    @Test
    void aChunkedBlobUploadIsCutAtTheQuota() throws Exception {
        String name = "u/" + Check.unique("alice") + "/b/j";
        HttpResponse<String> start = Reg.post(s, "/v2/" + name + "/blobs/uploads/", new byte[0]);
        assertStatus(202, start);
        String location = Reg.location(start);
        HttpResponse<String> ok = Reg.send(s, "PATCH", location, Reg.data(600_000));
        assertStatus(202, ok);
        HttpResponse<String> over = Reg.send(s, "PATCH", Reg.location(ok), Reg.data(600_000));
        assertStatus(403, over);
        assertTrue(over.body().contains("DENIED") && over.body().contains("quota"), over.body());
        assertTrue(staged() <= QUOTA, "at most the quota staged: " + staged());
        assertStatus(204, Reg.send(s, "DELETE", Reg.location(ok), new byte[0]));
        // once the session is gone, its bytes no longer count
        Reg.pushBlob(s, name, Reg.Blob.of(Reg.data(900_000), Reg.OCI_LAYER));
    }

    /**
     * An upload cancelled (DELETE) while a chunk still streams in: the chunk stops and what
     * it counted is released. Before, the chunk went on counting after the cancel released
     * the session's bytes, and those bytes counted against the quota until a restart.
     */
    @Test
    void aCancelledUploadStopsCountingWhileItsChunkStreams() throws Exception {
        String name = "u/" + Check.unique("frank") + "/b/j";
        HttpResponse<String> start = Reg.post(s, "/v2/" + name + "/blobs/uploads/", new byte[0]);
        assertStatus(202, start);
        String location = Reg.location(start);
        Path staged = s.root().resolve(".uploads").resolve(location.substring(location.lastIndexOf('/') + 1));
        byte[] data = Reg.data(500_000);
        try (SlowPatch chunk = new SlowPatch(s, location, data)) {
            chunk.sendUpTo(200_000);
            assertTrue(Check.eventually(10_000, () -> staged.toFile().length() >= 3 * 65536),
                    "the first chunks were not received: " + staged.toFile().length());
            assertStatus(204, Reg.send(s, "DELETE", location, null));
            String answer = chunk.finish();
            // the answer may be lost when the server closes the connection on the unread rest
            assertTrue(answer.isEmpty() || answer.startsWith("HTTP/1.1 404") && answer.contains("BLOB_UPLOAD_UNKNOWN"),
                    answer);
        }
        assertStatus(404, Reg.send(s, "GET", location, null));
        assertFalse(Files.exists(staged));
        // nothing of it counts any more: 900 KB fit under the 1 MB quota
        Reg.pushBlob(s, name, Reg.Blob.of(Reg.data(900_000), Reg.OCI_LAYER));
    }

    @Test
    void pushedBlobsCountUntilAManifestLinksThem() throws Exception {
        String user = Check.unique("bob");
        String name = "u/" + user + "/b/j";
        Reg.Blob config = Reg.config("amd64", Reg.OCI_CONFIG);
        Reg.Blob layer = Reg.Blob.of(Reg.data(600_000), Reg.OCI_LAYER);
        Reg.pushBlob(s, name, config);
        Reg.pushBlob(s, name, layer);
        // a second large blob nobody uses yet does not fit beside the first
        Reg.Blob other = Reg.Blob.of(Reg.data(600_000), Reg.OCI_LAYER);
        HttpResponse<String> refused = Reg.post(s, "/v2/" + name + "/blobs/uploads/?digest=" + other.digest(),
                other.data());
        assertStatus(403, refused);
        assertTrue(refused.body().contains("quota"), refused.body());
        // the manifest links the first: counted by the usage, once
        Reg.Image img = Reg.manifest(Reg.OCI_MANIFEST, config, List.of(layer));
        assertStatus(201, Reg.putManifest(s, name, "t1", img));
        String usage = s.anonymous().ok("/~" + user + "/").toString();
        assertTrue(usage.contains("\"disk_usage\":" + (600_000 + config.data().length + img.bytes().length)), usage);
        Reg.pushBlob(s, name, Reg.Blob.of(Reg.data(300_000), Reg.OCI_LAYER));
    }

    @Test
    void anUploadIsReachedOnlyThroughItsImageName() throws Exception {
        String name = "u/" + Check.unique("carol") + "/b/j";
        HttpResponse<String> start = Reg.post(s, "/v2/" + name + "/blobs/uploads/", new byte[0]);
        String uuid = Reg.location(start).substring(Reg.location(start).lastIndexOf('/') + 1);
        HttpResponse<String> elsewhere = Reg.send(s, "PATCH", "/v2/main/other/blobs/uploads/" + uuid,
                Reg.data(1000));
        assertStatus(404, elsewhere);
        assertTrue(elsewhere.body().contains("BLOB_UPLOAD_UNKNOWN"), elsewhere.body());
        assertEquals(202, Reg.send(s, "PATCH", Reg.location(start), Reg.data(1000)).statusCode());
    }

    /**
     * What a user's pushes count is kept while no request holds her repository: before,
     * the count lived in an object the garbage collector dropped between two requests.
     */
    @Test
    void pushedBlobsKeepCountingBetweenRequests() throws Exception {
        String name = "u/" + Check.unique("dave") + "/b/j";
        Reg.pushBlob(s, name, Reg.Blob.of(Reg.data(600_000), Reg.OCI_LAYER));
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(50);
        }
        Reg.Blob other = Reg.Blob.of(Reg.data(600_000), Reg.OCI_LAYER);
        assertStatus(403, Reg.post(s, "/v2/" + name + "/blobs/uploads/?digest=" + other.digest(), other.data()));
    }

    /** A manifest refused by the tree (a locked job) leaves its blobs counted. */
    @Test
    void blobsOfARefusedManifestKeepCounting() throws Exception {
        String user = Check.unique("erin");
        String name = "u/" + user + "/b/j";
        s.anonymous().uploadFinalized("/~" + user + "/branches/b/t1/j/other/x", "x");
        assertStatus(200, s.json("PUT", "/~" + user + "/branches/b/t1/j/", "{\"job\": {\"locked\": true}}"));
        Reg.Blob config = Reg.config("amd64", Reg.OCI_CONFIG);
        Reg.Blob layer = Reg.Blob.of(Reg.data(600_000), Reg.OCI_LAYER);
        Reg.pushBlob(s, name, config);
        Reg.pushBlob(s, name, layer);
        assertStatus(403, Reg.putManifest(s, name, "t1", Reg.manifest(Reg.OCI_MANIFEST, config, List.of(layer))));
        Reg.Blob other = Reg.Blob.of(Reg.data(600_000), Reg.OCI_LAYER);
        assertStatus(403, Reg.post(s, "/v2/" + name + "/blobs/uploads/?digest=" + other.digest(), other.data()));
    }
}
