package dlrepo.robustness;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dlrepo.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * overview.md #8: when a blob reached the file system's hard-link limit (EMLINK), an
 * upload or a link by digest still succeeds, through a fresh copy of the blob (a new
 * generation), instead of failing. Needs a file system with a small limit (ext2/3/4:
 * 65,000 links per inode); skipped elsewhere.
 */
class LinkLimitTest {
    /** ext4's EXT4_LINK_MAX. */
    private static final int LIMIT = 65_000;
    private static final Set<String> LIMITED_TYPES = Set.of("ext2", "ext3", "ext4");

    private TestServer s;
    private Path scratch;

    @BeforeEach
    void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_FSYNC", "0"));
        String type = Files.getFileStore(s.root()).type();
        assumeTrue(LIMITED_TYPES.contains(type),
                "the temporary folder is on " + type + ", which has no small hard-link limit: test skipped");
        // inside the root (links cannot cross file systems), a dot-name the daemon ignores
        scratch = Files.createDirectory(s.root().resolve(".scratch-links"));
    }

    @AfterEach
    void stop() throws Exception {
        if (scratch != null) {
            Robust.deleteTree(scratch);
        }
        s.close();
    }

    /** Adds hard links to {@code file} in the scratch folder until it has {@code LIMIT}. */
    private void fillToLimit(Path file, String prefix) throws Exception {
        int have = Robust.nlink(file);
        for (int i = have; i < LIMIT; i++) {
            Files.createLink(scratch.resolve(prefix + i), file);
        }
        assertEquals(LIMIT, Robust.nlink(file));
        // make sure the file system really refuses the next one (else skip: no limit here)
        FileSystemException e;
        try {
            Files.createLink(scratch.resolve(prefix + "over"), file);
            Files.delete(scratch.resolve(prefix + "over"));
            assumeTrue(false, "the file system accepted link " + (LIMIT + 1) + ": no EMLINK to test");
            return;
        } catch (FileSystemException ex) {
            e = ex;
        }
        assertTrue(String.valueOf(e.getReason()).contains("Too many links"), e.toString());
    }

    private HttpResponse<String> linkPut(String path, String digest) throws Exception {
        return s.send(s.request(path).header("Digest", digest).header("X-Dlrepo-Link", digest)
                .PUT(HttpRequest.BodyPublishers.noBody()).build());
    }

    @Test
    void linkByDigestAtTheLimitStoresANewGeneration() throws Exception {
        byte[] data = Robust.bytes(65000, 123_456);
        String hex = Robust.hex(data);
        String first = "/branches/links/t/j/f/first.bin";
        assertEquals(201, s.upload(first, data).statusCode());
        Path blob = Robust.blob(s.root(), hex);
        Object oldInode = Robust.inode(blob);
        fillToLimit(blob, "a");

        String second = "/branches/links/t/j/f/second.bin";
        HttpResponse<String> r = linkPut(second, "sha256:" + hex);
        assertEquals(201, r.statusCode(), r.body());

        Path file = s.root().resolve(second.substring(1));
        assertArrayEquals(data, Files.readAllBytes(file));
        assertArrayEquals(data, s.getBytes(second).body());
        assertEquals("sha256:" + hex, Robust.digests(file.getParent()).get("second.bin"));
        // the new generation holds the new link; the old inode keeps its links
        Object newInode = Robust.inode(blob);
        assertNotEquals(oldInode, newInode, "no new blob generation");
        assertEquals(newInode, Robust.inode(file));
        assertEquals(2, Robust.nlink(blob));
        assertEquals(oldInode, Robust.inode(s.root().resolve(first.substring(1))));
        assertArrayEquals(data, Files.readAllBytes(s.root().resolve(first.substring(1))));
        assertEquals(List.of("sha256/" + hex.substring(0, 2) + "/" + hex), Robust.blobFiles(s.root()));
        assertEquals(List.of(), Robust.list(s.root().resolve(".uploads")), "the copy was left in .uploads");

        // and the next link goes to the new generation without trouble
        assertEquals(201, linkPut("/branches/links/t/j/f/third.bin", "sha256:" + hex).statusCode());
        assertEquals(3, Robust.nlink(blob));
    }

    @Test
    void streamedUploadAtTheLimitStoresANewGeneration() throws Exception {
        byte[] data = Robust.bytes(65001, 54_321);
        String hex = Robust.hex(data);
        assertEquals(201, s.upload("/branches/links/t/j/f/one.bin", data).statusCode());
        Path blob = Robust.blob(s.root(), hex);
        Object oldInode = Robust.inode(blob);
        fillToLimit(blob, "b");

        // same content, streamed: the commit finds the blob existing and must link it
        String path = "/branches/links/t/j2/f/two.bin";
        HttpResponse<String> r = s.upload(path, data);
        assertEquals(201, r.statusCode(), r.body());
        Path file = s.root().resolve(path.substring(1));
        assertArrayEquals(data, Files.readAllBytes(file));
        assertNotEquals(oldInode, Robust.inode(blob));
        assertEquals(Robust.inode(blob), Robust.inode(file));
        assertEquals("sha256:" + hex, Robust.digests(file.getParent()).get("two.bin"));
        assertEquals(List.of(), Robust.list(s.root().resolve(".uploads")));

        // replacing a file whose old content sits on the full inode works as well
        assertEquals(201, s.upload("/branches/links/t/j/f/one.bin", data).statusCode());
        assertArrayEquals(data, s.getBytes("/branches/links/t/j/f/one.bin").body());
    }
}
