package dlrepo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.CountingProxy;
import dlrepo.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Uploads and downloads of a real tree (nested folders, empty files, non-ASCII names, dot
 * files, one 200 MiB file) through a byte-counting proxy: what the CLI puts on the wire,
 * interrupted transfers and their resumption.
 */
class CliTransferTest {
    private static final long BIG = 200L << 20;
    private static final String BIG_REL = "big/big.bin";
    private static Path tree;
    private static TreeMap<String, String> expected;
    private static long treeSize;

    private TestServer s;
    private CountingProxy proxy;
    private Path work;

    @BeforeAll
    static void makeTree() throws Exception {
        tree = Files.createTempDirectory("dlrepo-cli-tree-");
        Cli.write(tree.resolve("top.txt"), "top\n");
        Cli.write(tree.resolve("a/one.txt"), "one\n");
        Cli.write(tree.resolve("a/b/c/deep.txt"), "deep down\n");
        Cli.write(tree.resolve("empty.txt"), "");
        Cli.write(tree.resolve("a/b/empty2"), "");
        Cli.write(tree.resolve("ünïcödé/日本語 ファイル.txt"), "こんにちは\n");
        Cli.write(tree.resolve("emoji-🎉 & 50% #1?.txt"), "party\n");
        Cli.write(tree.resolve(".hidden"), "not uploaded\n");
        Cli.write(tree.resolve(".git/config"), "not uploaded either\n");
        Cli.write(tree.resolve("a/.env"), "secret\n");
        Cli.bigFile(tree.resolve(BIG_REL), BIG, 42);
        expected = Cli.digests(tree, true);
        treeSize = Cli.size(tree);
        assertEquals(8, expected.size(), expected::toString);
    }

    @AfterAll
    static void removeTree() throws Exception {
        Cli.deleteTree(tree);
    }

    @BeforeEach
    void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_FSYNC", "0", "DLREPO_TAG_CLEANUP_PERIOD", "0"));
        proxy = new CountingProxy(s.port());
        work = Files.createTempDirectory("dlrepo-cli-work-");
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        s.close();
        Cli.deleteTree(work);
    }

    private TreeMap<String, String> serverSums(String format) throws Exception {
        HttpResponse<String> r = s.get(format.substring(0, format.length() - 1) + ".sha256");
        assertEquals(200, r.statusCode(), r::body);
        return Cli.sums(r.body());
    }

    @Test
    void uploadTreeThenAgainSendsOnlyHeaders() throws Exception {
        Cli.Result first = Cli.run(proxy.url(), "upload", "main", "t1", "build", "deb", tree.toString()).ok();
        long firstBytes = proxy.up.get();
        assertTrue(firstBytes >= treeSize, "first upload sent " + firstBytes + " bytes for " + treeSize);
        assertEquals(expected, serverSums("/branches/main/t1/build/deb/"));
        assertEquals(200, s.head("/branches/main/t1/build/deb/").statusCode(), "finalized");
        // one line per file (no terminal), dot files skipped with a warning
        for (String rel : expected.keySet()) {
            assertTrue(first.out().contains(rel), rel + " not reported:\n" + first.all());
        }
        for (String dot : List.of(".hidden", ".git", ".env")) {
            assertTrue(first.err().contains(dot) && first.err().contains("warning"), first.all());
        }
        assertFalse(Files.exists(s.root().resolve("branches/main/t1/build/deb/.hidden")));

        proxy.reset();
        Cli.Result second = Cli.run(proxy.url(), "upload", "main", "t1", "build", "deb", tree.toString()).ok();
        long secondBytes = proxy.up.get();
        System.out.println("second upload of a " + treeSize + "-byte tree (" + expected.size()
                + " files): " + secondBytes + " bytes from the CLI to the server (first: " + firstBytes + ")");
        assertTrue(secondBytes < 16 * 1024, "second upload sent " + secondBytes + " bytes");
        for (String rel : expected.keySet()) {
            assertTrue(second.out().lines().anyMatch(l -> l.startsWith("linked") && l.contains(rel)), second.all());
        }
        assertEquals(expected, serverSums("/branches/main/t1/build/deb/"));

        // the same content into another job: linked too, nothing sent again
        proxy.reset();
        Cli.run(proxy.url(), "upload", "-p", "1", "main", "t1", "other", "deb", tree.toString()).ok();
        assertTrue(proxy.up.get() < 16 * 1024, "upload into another job sent " + proxy.up.get() + " bytes");
        assertEquals(expected, serverSums("/branches/main/t1/other/deb/"));
    }

    @Test
    void interruptedUploadIsResumed() throws Exception {
        proxy.throttleMillis = 2; // about 30 MiB/s: time to stop it in the middle of the big file
        Process p = Cli.builder(proxy.url(), Map.of(), "upload", "-p", "2", "main", "t2", "build", "iso",
                tree.toString()).redirectErrorStream(true)
                .redirectOutput(work.resolve("killed.log").toFile()).start();
        Cli.eventually(120, () -> proxy.up.get() > (30L << 20), "30 MiB sent");
        p.destroyForcibly().waitFor();
        proxy.throttleMillis = 0;
        // not all there, not finalized
        assertEquals(404, s.head("/branches/main/t2/build/iso/" + BIG_REL).statusCode());
        assertEquals(404, s.head("/branches/main/t2/build/iso/").statusCode(), "dirty while incomplete");

        proxy.awaitQuiet();
        proxy.reset();
        Cli.Result again = Cli.run(proxy.url(), "upload", "-p", "2", "main", "t2", "build", "iso",
                tree.toString()).ok();
        long bytes = proxy.up.get();
        System.out.println("upload resumed after a kill: " + bytes + " bytes sent for a " + treeSize + "-byte tree");
        assertEquals(expected, serverSums("/branches/main/t2/build/iso/"));
        assertEquals(200, s.head("/branches/main/t2/build/iso/").statusCode(), "finalized");
        assertTrue(bytes >= BIG && bytes < BIG + (1 << 20), "resumed upload sent " + bytes + "\n" + again.all());
        assertTrue(again.out().lines().anyMatch(l -> l.startsWith("sent") && l.contains(BIG_REL)), again.all());
        // the big file's bytes on the server are the right ones
        assertEquals(expected.get(BIG_REL),
                Cli.sha256(s.root().resolve("branches/main/t2/build/iso/" + BIG_REL)));
    }

    @Test
    void downloadRoundTripAndResume() throws Exception {
        Cli.run("http://127.0.0.1:" + s.port(), "upload", "main", "t3", "build", "deb", tree.toString()).ok();

        Path out = work.resolve("out");
        Cli.Result r = Cli.run(proxy.url(), "download", "-o", out.toString(), "main", "t3", "build", "deb").ok();
        assertEquals(expected, Cli.digests(out, false), "byte-identical tree, no extra file\n" + r.all());
        assertEquals(-1L, Files.mismatch(tree.resolve(BIG_REL), out.resolve(BIG_REL)));
        assertTrue(proxy.down.get() >= BIG && proxy.down.get() < BIG + (1 << 20), "one tar: " + proxy.down.get());

        // a download stopped in the middle of the big file keeps the part it got...
        Path out2 = work.resolve("out2");
        proxy.reset();
        proxy.throttleMillis = 2;
        Process p = Cli.builder(proxy.url(), Map.of(), "download", "-o", out2.toString(), "main", "t3", "build",
                "deb").redirectErrorStream(true).redirectOutput(work.resolve("killed.log").toFile()).start();
        Cli.eventually(120, () -> proxy.down.get() > (60L << 20), "60 MiB received");
        p.destroyForcibly().waitFor();
        proxy.throttleMillis = 0;
        Path part = out2.resolve("big/.big.bin.dlrepo-part");
        assertTrue(Files.isRegularFile(part), "partial file kept: " + Cli.digests(out2, false));
        long partSize = Files.size(part);
        assertTrue(partSize > (20L << 20) && partSize < BIG, "partial size " + partSize);
        assertFalse(Files.exists(out2.resolve(BIG_REL)));

        // ...and the same command fetches only the rest, with a Range request
        proxy.reset();
        Cli.Result again = Cli.run(proxy.url(), "-v", "download", "-o", out2.toString(), "main", "t3", "build",
                "deb").ok();
        long bytes = proxy.down.get();
        System.out.println("download resumed after a kill: " + bytes + " bytes received, " + partSize
                + " were already on disk");
        assertTrue(bytes < BIG - partSize + (1 << 20), "resumed download received " + bytes + "\n" + again.all());
        assertTrue(again.out().lines().anyMatch(l -> l.startsWith("resumed") && l.contains(BIG_REL)), again.all());
        assertTrue(again.err().contains("206"), again.all());
        assertEquals(expected, Cli.digests(out2, false), again.all());
        assertFalse(Files.exists(part));
    }
}
