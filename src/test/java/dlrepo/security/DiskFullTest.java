package dlrepo.security;

import static dlrepo.Check.assertStatus;
import static dlrepo.security.FormatJournalTest.strings;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dlrepo.Caller;
import dlrepo.Layout;
import dlrepo.TestServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A full disk, for real: the daemon's root is a small tmpfs, filled up. A write that fails
 * there (answered 507) leaves nothing behind: no file served, none in listings, archives
 * or {@code .digests}, before and after finalizing and restarting. Needs root (mount).
 */
class DiskFullTest {
    private String fmt = "/branches/full/t/j/f/";
    private Path mnt;
    private TestServer server;

    @BeforeEach
    void mount() throws Exception {
        Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        if (!Integer.valueOf(0).equals(uid)) {
            fail("DiskFullTest mounts a tmpfs to fill it: run it as root (the CI does), uid is " + uid);
        }
        mnt = Files.createTempDirectory("dlrepo-diskfull-");
    }

    @AfterEach
    void unmount() throws Exception {
        if (server != null) {
            server.close();
        }
        if (mnt != null) {
            run("umount", "-l", mnt.toString());
            Files.deleteIfExists(mnt);
        }
    }

    /**
     * Fails before the fix: the hard link was made, then rewriting {@code .digests} failed
     * (507), and the file stayed, served but listed nowhere, through finalize and restarts.
     */
    @ParameterizedTest
    @ValueSource(strings = {"", "/~alice"})
    void linksOnAFullDiskLeaveNoGhost(String repository) throws Exception {
        fmt = repository + fmt;
        run("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", mnt.toString());
        Path root = mnt.resolve("r");
        server = TestServer.start(root, Map.of());
        Caller c = server.anonymous();
        byte[] data = "the linked content\n".getBytes(StandardCharsets.UTF_8);
        String digest = TestServer.digest(data);
        assertStatus(201, c.upload(fmt + "first.txt", data));
        fill(mnt.resolve("filler"));

        // link the same blob under new names until the disk refuses one
        List<String> stored = new ArrayList<>(List.of("first.txt"));
        String refused = null;
        for (int i = 0; i < 5000 && refused == null; i++) {
            String name = "link-" + i + "-" + "x".repeat(60) + ".txt";
            HttpResponse<String> r = c.link(fmt + name, digest);
            if (r.statusCode() == 201) {
                stored.add(name);
            } else {
                assertEquals(507, r.statusCode(), r.body());
                refused = name;
            }
        }
        assertTrue(refused != null, "the full disk never refused a link");
        assertNothingOf(refused, stored);
        // also an upload with a body
        HttpResponse<String> body = c.upload(fmt + "body.txt", "new content\n");
        assertEquals(507, body.statusCode(), body.body());
        assertNothingOf("body.txt", stored);
        assertEquals(List.of(), Layout.visibleFiles(root.resolve(".uploads")).stream().toList(), ".uploads");

        // room again: finalize, restart: still nothing
        Files.delete(mnt.resolve("filler"));
        assertStatus(200, c.send("PATCH", fmt));
        assertNothingOf(refused, stored);
        server.daemon().close();
        server = TestServer.start(root, Map.of());
        c = server.anonymous();
        assertNothingOf(refused, stored);
        assertArrayEquals(data, c.getBytes(fmt + stored.get(stored.size() - 1)).body());
    }

    /**
     * The link itself fails (no inode left: tmpfs counts links against its inodes) after
     * the entry was recorded: the entry is taken back.
     */
    @Test
    void aLinkThatFailsAfterItsEntryWasRecordedLeavesNothing() throws Exception {
        run("mount", "-t", "tmpfs", "-o", "size=8m,nr_inodes=400,mode=0700", "tmpfs", mnt.toString());
        Path root = mnt.resolve("r");
        server = TestServer.start(root, Map.of());
        Caller c = server.anonymous();
        byte[] data = "linked\n".getBytes(StandardCharsets.UTF_8);
        String digest = TestServer.digest(data);
        assertStatus(201, c.upload(fmt + "first.txt", data));
        assertStatus(201, c.upload(fmt + "second.txt", "second\n"));
        // use up the inodes
        Path spare = Files.createDirectory(mnt.resolve("spare"));
        for (int i = 0;; i++) {
            try {
                Files.createFile(spare.resolve("i" + i));
            } catch (IOException e) {
                break;
            }
        }
        List<String> stored = List.of("first.txt", "second.txt");
        HttpResponse<String> r = c.link(fmt + "third.txt", digest);
        assertEquals(507, r.statusCode(), r.body());
        assertNothingOf("third.txt", stored);
        // a replacement refused the same way keeps the old file and its entry
        r = c.link(fmt + "second.txt", digest);
        if (r.statusCode() == 507) {
            assertEquals("second\n", c.get(fmt + "second.txt").body());
            assertEquals(TestServer.digest("second\n"), Layout.digests(formatDir()).get("second.txt"));
        } else {
            assertStatus(201, r);
            assertEquals("linked\n", c.get(fmt + "second.txt").body());
        }
        // room again: the format works and stays consistent across a restart
        try (var files = Files.list(spare)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        assertStatus(201, c.link(fmt + "fourth.txt", digest));
        server.daemon().close();
        server = TestServer.start(root, Map.of());
        List<String> after = strings(server.anonymous().ok(fmt).get("artifact_format").get("files"));
        assertEquals(List.of("first.txt", "fourth.txt", "second.txt"), after);
        assertEquals(new TreeSet<>(after), Layout.visibleFiles(formatDir()));
    }

    private Path formatDir() {
        return server.root().resolve(fmt.substring(1).replaceFirst("^~([^/]+)/", "users/$1/"));
    }

    /** {@code name} is nowhere (disk, listing, .digests, checksums, archive) and {@code stored} all there. */
    private void assertNothingOf(String name, List<String> stored) throws Exception {
        Caller c = server.anonymous();
        Path dir = formatDir();
        assertFalse(Files.exists(dir.resolve(name)), name + " is on disk");
        assertStatus(404, c.get(fmt + name));
        Map<String, String> digests = Layout.digests(dir);
        assertFalse(digests.containsKey(name), name + " has an entry");
        List<String> listed = strings(c.ok(fmt).get("artifact_format").get("files"));
        assertEquals(new ArrayList<>(new TreeSet<>(stored)), listed);
        assertEquals(new TreeSet<>(stored), Layout.visibleFiles(dir), "files on disk");
        assertEquals(new TreeSet<>(stored), new TreeSet<>(digests.keySet()), ".digests");
        HttpResponse<String> sums = c.get(fmt.substring(0, fmt.length() - 1) + ".sha256");
        assertStatus(200, sums);
        assertFalse(sums.body().contains(name), sums.body());
        HttpResponse<byte[]> tar = c.getBytes(fmt.substring(0, fmt.length() - 1) + ".tar");
        assertStatus(200, tar);
        assertFalse(FormatJournalTest.tarNames(tar.body()).stream().anyMatch(n -> n.endsWith(name)));
    }

    private static void fill(Path file) throws IOException {
        dlrepo.Tmpfs.fill(file);
    }

    private static void run(String... cmd) throws Exception {
        dlrepo.Tmpfs.run(cmd);
    }
}
