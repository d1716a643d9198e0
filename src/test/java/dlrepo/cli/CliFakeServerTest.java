package dlrepo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Answers a real dlrepo would never give: archives whose members try to leave the target
 * folder, wrong checksums, a publication in progress then done or failed.
 */
class CliFakeServerTest {
    private static final String TAR = "/branches/b/t/j/f.tar";

    private HttpServer server;
    private String url;
    private Path work;
    private Path out;
    private final Map<String, byte[]> bodies = new ConcurrentHashMap<>();
    /** Successive JSON answers of GET on a path (the last one repeats). */
    private final Map<String, Deque<String>> sequences = new ConcurrentHashMap<>();
    private final List<String> requests = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
        url = "http://127.0.0.1:" + server.getAddress().getPort();
        work = Files.createTempDirectory("dlrepo-cli-fake-");
        out = work.resolve("target/out");
    }

    @AfterEach
    void stop() throws Exception {
        server.stop(0);
        Cli.deleteTree(work);
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        requests.add(ex.getRequestMethod() + " " + path);
        ex.getRequestBody().readAllBytes();
        byte[] body;
        int status = 200;
        String type = "application/json";
        Deque<String> seq = sequences.get(path);
        if (ex.getRequestMethod().equals("POST")) {
            body = "{}".getBytes(StandardCharsets.UTF_8);
        } else if (seq != null) {
            String next = seq.size() > 1 ? seq.poll() : seq.peek();
            body = next.getBytes(StandardCharsets.UTF_8);
        } else if (bodies.containsKey(path)) {
            body = bodies.get(path);
            type = "application/x-tar";
        } else {
            status = 404;
            body = "{\"error\": \"Nothing here\"}".getBytes(StandardCharsets.UTF_8);
        }
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        ex.getResponseBody().write(body);
        ex.close();
    }

    private static String sums(Map<String, String> files) throws Exception {
        StringBuilder b = new StringBuilder();
        for (var e : files.entrySet()) {
            b.append(Cli.sha256(e.getValue().getBytes(StandardCharsets.UTF_8))).append("  ").append(e.getKey())
                    .append('\n');
        }
        return b.toString();
    }

    private Cli.Result download() throws Exception {
        return Cli.run(url, "download", "-o", out.toString(), "b", "t", "j", "f");
    }

    /** Everything below work, except what is inside out. */
    private List<String> outside() throws IOException {
        List<String> found = new ArrayList<>();
        try (var s = Files.walk(work)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (!p.startsWith(out) && !p.equals(work) && !p.equals(out.getParent())) {
                    found.add(work.relativize(p).toString());
                }
            }
        }
        return found;
    }

    @Test
    void wellFormedArchive() throws Exception {
        bodies.put(TAR, new Cli.Tar().file("j-t-f/ok.txt", "fine").file("j-t-f/d/e.txt", "e")
                .file("j-t-f/SHA256SUMS.txt", sums(Map.of("ok.txt", "fine", "d/e.txt", "e"))).bytes());
        download().ok();
        assertEquals("fine", Files.readString(out.resolve("ok.txt")));
        assertEquals("e", Files.readString(out.resolve("d/e.txt")));
        assertFalse(Files.exists(out.resolve("SHA256SUMS.txt")), "checked, not written");
    }

    @Test
    void dotDotMemberRefused() throws Exception {
        for (String evil : List.of("j-t-f/../evil", "../evil", "j-t-f/d/../../../evil")) {
            Cli.deleteTree(out);
            bodies.put(TAR, new Cli.Tar().file("j-t-f/ok.txt", "fine").file(evil, "pwned")
                    .file("j-t-f/SHA256SUMS.txt", sums(Map.of("ok.txt", "fine"))).bytes());
            Cli.Result r = download().exit(1);
            assertTrue(r.err().contains("refusing") && r.err().contains(evil), r.all());
            assertEquals(List.of(), outside(), r.all());
        }
    }

    @Test
    void absoluteMemberRefused() throws Exception {
        Path target = work.resolve("abs-evil");
        bodies.put(TAR, new Cli.Tar().file(target.toString(), "pwned").bytes());
        Cli.Result r = download().exit(1);
        assertTrue(r.err().contains("refusing") && r.err().contains("absolute"), r.all());
        assertFalse(Files.exists(target));
        assertEquals(List.of(), outside(), r.all());
    }

    @Test
    void linksAndDevicesRefused() throws Exception {
        Map<String, Cli.Tar> cases = Map.of(
                "symbolic", new Cli.Tar().file("j-t-f/ok.txt", "fine").entry("j-t-f/link", '2', "../../evil")
                        .file("j-t-f/link", "through the link"),
                "hard", new Cli.Tar().file("j-t-f/ok.txt", "fine").entry("j-t-f/hard", '1', "/etc/passwd"),
                "device", new Cli.Tar().entry("j-t-f/dev", '3', ""),
                "fifo", new Cli.Tar().entry("j-t-f/fifo", '6', ""));
        for (var c : cases.entrySet()) {
            Cli.deleteTree(out);
            bodies.put(TAR, c.getValue().bytes());
            Cli.Result r = download().exit(1);
            assertTrue(r.err().contains("refusing"), c.getKey() + ": " + r.all());
            assertTrue(r.err().contains(c.getKey().equals("device") || c.getKey().equals("fifo") ? "device" : "link"),
                    r.all());
            assertEquals(List.of(), outside(), r.all());
            if (Files.exists(out)) {
                try (var s = Files.walk(out)) {
                    assertTrue(s.noneMatch(p -> Files.isSymbolicLink(p)), "no link created");
                }
            }
        }
    }

    @Test
    void existingSymlinkInTargetIsNotFollowed() throws Exception {
        Files.createDirectories(out);
        Path elsewhere = Files.createDirectories(work.resolve("elsewhere"));
        Files.createSymbolicLink(out.resolve("sub"), elsewhere);
        bodies.put(TAR, new Cli.Tar().file("j-t-f/sub/deeper/x.txt", "x")
                .file("j-t-f/SHA256SUMS.txt", sums(Map.of("sub/deeper/x.txt", "x"))).bytes());
        // the target folder is not empty: the CLI looks for a previous run first
        bodies.put("/branches/b/t/j/f.sha256", sums(Map.of("sub/deeper/x.txt", "x")).getBytes(StandardCharsets.UTF_8));
        Cli.Result r = download().exit(1);
        assertTrue(r.err().contains("refusing") && r.err().contains("outside"), r.all());
        try (var s = Files.list(elsewhere)) {
            assertEquals(0, s.count(), r.all());
        }
        // the same when the file seems to be there already (file by file resumption)
        Files.createDirectories(elsewhere.resolve("deeper"));
        Files.writeString(elsewhere.resolve("deeper/x.txt"), "old");
        r = download().exit(1);
        assertTrue(r.err().contains("refusing") && r.err().contains("outside"), r.all());
        assertEquals("old", Files.readString(elsewhere.resolve("deeper/x.txt")));
        try (var s = Files.walk(elsewhere)) {
            assertEquals(3, s.count(), r.all());
        }
    }

    @Test
    void checksumMismatchRefused() throws Exception {
        bodies.put(TAR, new Cli.Tar().file("j-t-f/ok.txt", "fine").file("j-t-f/bad.txt", "tampered")
                .file("j-t-f/SHA256SUMS.txt", sums(Map.of("ok.txt", "fine", "bad.txt", "original", "gone.txt", "g")))
                .bytes());
        Cli.Result r = download().exit(1);
        assertTrue(r.err().contains("checksum mismatch") && r.err().contains("bad.txt"), r.all());
        assertTrue(r.err().contains("missing") && r.err().contains("gone.txt"), r.all());
        assertFalse(Files.exists(out.resolve("bad.txt"), LinkOption.NOFOLLOW_LINKS), "a wrong file is not kept");
        // no checksums at all
        bodies.put(TAR, new Cli.Tar().file("j-t-f/ok.txt", "fine").bytes());
        Cli.deleteTree(out);
        r = download().exit(1);
        assertTrue(r.err().contains("SHA256SUMS.txt"), r.all());
        // not a tar
        bodies.put(TAR, "<html>proxy error</html>".getBytes(StandardCharsets.UTF_8));
        Cli.deleteTree(out);
        r = download().exit(1);
        assertTrue(r.err().contains("not a tar"), r.all());
    }

    @Test
    void fileNamedLikeTheChecksumsIsKept() throws Exception {
        // a format may hold its own SHA256SUMS.txt: only the last one is the archive's
        String own = "my own sums\n";
        bodies.put(TAR, new Cli.Tar().file("j-t-f/SHA256SUMS.txt", own)
                .file("j-t-f/SHA256SUMS.txt", sums(Map.of("SHA256SUMS.txt", own))).bytes());
        download().ok();
        assertEquals(own, Files.readString(out.resolve("SHA256SUMS.txt")));
    }

    private static String tag(String status, boolean released) {
        return "{\"tag\": {\"name\": \"t\", \"released\": " + released + ", \"locked\": true, \"stable\": false,"
                + " \"description\": \"\", \"publish_status\": " + (status == null ? "null" : "\"" + status + "\"")
                + ", \"jobs\": []}}";
    }

    @Test
    void releaseWaitsForPublication() throws Exception {
        sequences.put("/branches/b/t/", new ConcurrentLinkedDeque<>(List.of(tag(null, false),
                tag("in progress", false), tag("uploading j to http://public", false),
                tag("published to http://public", true))));
        Cli.Result r = Cli.run(url, "release", "-w", "--interval", "0.05", "b", "t").ok();
        assertEquals("published to http://public\n", r.out());
        assertTrue(r.err().contains("uploading j to http://public"), r.all());
        assertTrue(requests.contains("POST /branches/b/t/"), requests.toString());
    }

    @Test
    void releaseWaitFailsOnError() throws Exception {
        sequences.put("/branches/b/t/", new ConcurrentLinkedDeque<>(List.of(tag("in progress", false),
                tag("error: http://public answered 403 Forbidden", false))));
        Cli.Result r = Cli.run(url, "release", "--wait", "--interval", "0.05", "b", "t").exit(1);
        assertTrue(r.err().contains("error: http://public answered 403 Forbidden"), r.all());
        // and gives up when told to
        sequences.put("/branches/b/t/", new ConcurrentLinkedDeque<>(List.of(tag("in progress", false))));
        r = Cli.run(url, "release", "-w", "--interval", "0.05", "--timeout", "0.5", "b", "t").exit(1);
        assertTrue(r.err().contains("gave up"), r.all());
    }

    @Test
    void errorBodyOfANonDlrepoServer() throws Exception {
        Cli.Result r = Cli.run(url, "ls", "nothing").exit(1);
        assertTrue(r.err().contains("404") && r.err().contains("Nothing here"), r.all());
    }
}
