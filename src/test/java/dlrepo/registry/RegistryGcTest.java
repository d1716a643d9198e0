package dlrepo.registry;

import static dlrepo.registry.Reg.assertStatus;
import static dlrepo.registry.Reg.location;
import static dlrepo.registry.Reg.send;
import static dlrepo.registry.Reg.withParam;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestServer;
import dlrepo.products.Helpers;
import dlrepo.registry.Reg.Blob;
import dlrepo.registry.Reg.Image;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The orphan collector runs while images are pushed (here with an orphan lifetime of 0):
 * layers waiting for their manifest, and uploads between their chunks, must survive it,
 * so that the manifest PUT that follows still finds every blob.
 */
class RegistryGcTest {
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0", "DLREPO_ORPHAN_BLOB_LIFETIME", "0"));
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    /** An orphan cleanup (what an upload-triggered run does), awaited. */
    private static void cleanup() throws Exception {
        assertTrue(s.daemon().cleanup().awaitIdle(30_000));
        s.daemon().cleanup().scheduleCleanup(false);
        assertTrue(s.daemon().cleanup().awaitIdle(30_000));
    }

    /** A real orphan of the store (old, linked nowhere): the cleanups of these tests must delete it. */
    private static Path plantOrphan() throws Exception {
        byte[] data = Reg.data(100);
        String hex = Helpers.sha256(data);
        Path p = Helpers.blob(s, hex);
        Files.createDirectories(p.getParent());
        Files.write(p, data);
        Files.setLastModifiedTime(p, FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
        return p;
    }

    @Test
    void layersWaitingForTheirManifestSurviveCleanups() throws Exception {
        String name = "main/" + Reg.unique("gc");
        Path orphan = plantOrphan();
        Blob config = Reg.config("amd64", Reg.OCI_CONFIG);
        List<Blob> layers = new ArrayList<>();
        Reg.pushBlob(s, name, config);
        cleanup();
        for (int i = 0; i < 3; i++) {
            Blob b = Blob.of(Reg.data(10_000 + i), Reg.OCI_LAYER);
            Reg.pushBlob(s, name, b);
            layers.add(b);
            cleanup();
        }
        assertFalse(Files.exists(orphan), "the cleanups ran and collected a real orphan");
        Image img = Reg.manifest(Reg.OCI_MANIFEST, config, layers);
        assertStatus(201, Reg.putManifest(s, name, "v1", img));
        cleanup();
        for (Blob b : layers) {
            HttpResponse<byte[]> r = Reg.sendBytes(s, "GET", "/v2/" + name + "/blobs/" + b.digest());
            assertStatus(200, r);
            assertArrayEquals(b.data(), r.body());
            assertTrue(Files.isRegularFile(s.root().resolve("branches/" + name.replace("main/", "main/v1/")
                    + "/container/blobs/sha256/" + b.hex().substring(0, 2) + "/" + b.hex())));
        }
    }

    @Test
    void chunkedUploadSurvivesCleanupsBetweenItsChunks() throws Exception {
        String name = "main/" + Reg.unique("gc");
        Path orphan = plantOrphan();
        Blob config = Reg.config("amd64", Reg.OCI_CONFIG);
        Reg.pushBlob(s, name, config);
        Blob layer = Blob.of(Reg.data(300_000), Reg.OCI_LAYER);
        HttpResponse<String> r = send(s, "POST", "/v2/" + name + "/blobs/uploads/", null);
        assertStatus(202, r);
        String loc = location(r);
        String file = loc.substring(loc.lastIndexOf('/') + 1);
        cleanup();
        for (int off = 0; off < 300_000; off += 100_000) {
            r = send(s, "PATCH", loc, Arrays.copyOfRange(layer.data(), off, off + 100_000), "Content-Type",
                    "application/octet-stream", "Content-Range", off + "-" + (off + 99_999));
            assertStatus(202, r);
            loc = location(r);
            cleanup();
            // the session's file is still there, with every byte received so far
            Path upload = s.root().resolve(".uploads").resolve(file);
            assertTrue(Files.exists(upload), "upload file kept by the cleanup");
            assertEquals(off + 100_000, Files.size(upload));
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(upload)), "uploads in progress are private (layout.md)");
            HttpResponse<String> status = s.get(loc);
            assertStatus(204, status);
            assertEquals("0-" + (off + 99_999), status.headers().firstValue("Range").orElse(null));
        }
        assertFalse(Files.exists(orphan), "the cleanups ran");
        assertStatus(201, send(s, "PUT", withParam(loc, "digest=" + layer.digest()), null));
        cleanup();
        Image img = Reg.manifest(Reg.OCI_MANIFEST, config, List.of(layer));
        assertStatus(201, Reg.putManifest(s, name, "v1", img));
        HttpResponse<byte[]> b = Reg.sendBytes(s, "GET", "/v2/" + name + "/blobs/" + layer.digest());
        assertArrayEquals(layer.data(), b.body());
    }

    /** Children of an index pushed by digest wait in the store like layers do. */
    @Test
    void childManifestsWaitingForTheirIndexSurviveCleanups() throws Exception {
        String name = "main/" + Reg.unique("gc");
        List<Image> children = new ArrayList<>();
        for (String arch : List.of("amd64", "arm64")) {
            Image c = Reg.pushBlobs(s, name, Reg.OCI_MANIFEST, arch, 1, 1000);
            cleanup();
            assertStatus(201, Reg.putManifest(s, name, c.digest(), c));
            cleanup();
            children.add(c);
        }
        Image index = Reg.index(Reg.OCI_INDEX, children, List.of("amd64", "arm64"));
        assertStatus(201, Reg.putManifest(s, name, "v1", index));
        cleanup();
        for (Image c : children) {
            HttpResponse<byte[]> r = Reg.sendBytes(s, "GET", "/v2/" + name + "/manifests/" + c.digest());
            assertStatus(200, r);
            assertArrayEquals(c.bytes(), r.body());
        }
    }

    /**
     * A client skips a layer the registry already has (HEAD 200): a blob that was an orphan
     * (its tag deleted) must then stay until the manifest that reuses it arrives.
     */
    @Test
    void layerFoundByHeadIsKeptForTheManifest() throws Exception {
        String b = Reg.unique("gcb");
        Image first = Reg.pushImage(s, b + "/app", "v1", Reg.OCI_MANIFEST, 2, 5000);
        assertEquals(200, s.delete("/branches/" + b + "/v1/").statusCode());
        // now an orphan: make it old, as if the deletion had been long ago
        for (Blob l : first.layers()) {
            Files.setLastModifiedTime(Helpers.blob(s, l.hex()), FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
        }
        // a new push: the client asks before uploading, the registry says it has the layers
        for (Blob l : first.layers()) {
            assertStatus(200, s.head("/v2/" + b + "/app/blobs/" + l.digest()));
        }
        cleanup();
        Blob config = Reg.config("amd64", Reg.OCI_CONFIG);
        Reg.pushBlob(s, b + "/app", config);
        Image again = Reg.manifest(Reg.OCI_MANIFEST, config, first.layers());
        assertStatus(201, Reg.putManifest(s, b + "/app", "v2", again));
        for (Blob l : first.layers()) {
            assertArrayEquals(l.data(), Reg.sendBytes(s, "GET", "/v2/" + b + "/app/blobs/" + l.digest()).body());
        }
    }
}
