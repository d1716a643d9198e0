package dlrepo.robustness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Request paths that try to leave the tree or touch reserved files, sent byte for byte
 * (no client normalizes them on the way). Each is refused, and nothing appears outside
 * {@code DLREPO_ROOT_DIR} nor anywhere unexpected inside it.
 */
class PathTraversalTest {
    private static final String BASE = "/branches/b/t/j/f/";
    private static final String SECRET = "top secret, outside the root\n";

    static Path parent;
    static Path sibling;
    static TestServer s;
    static byte[] control = "control file\n".getBytes(StandardCharsets.UTF_8);

    @BeforeAll
    static void start() throws Exception {
        parent = Files.createTempDirectory("dlrepo-traversal-");
        Path root = Files.createDirectory(parent.resolve("root"));
        sibling = Files.createDirectory(parent.resolve("sibling"));
        Files.writeString(parent.resolve("secret.txt"), SECRET);
        Files.writeString(sibling.resolve("..secret"), SECRET); // a name a bad decoder might reach
        s = TestServer.start(root, Map.of("DLREPO_FSYNC", "0"));
        // a legitimate file next to which the attacks happen: the tree exists, so a
        // refusal cannot be a mere "no such job"
        assertEquals(201, Robust.rawPut(s.port(), BASE + "ok.txt", control));
    }

    @AfterAll
    static void stop() throws Exception {
        if (s != null) {
            s.close();
        }
        Robust.deleteTree(parent);
    }

    /** Targets that escape or touch what the API may not (relative to the server root). */
    static List<String> attacks() {
        List<String> a = new ArrayList<>(List.of(
                // dot segments, plain and encoded in every case
                BASE + "../../../../../../secret.txt",
                BASE + "../../../../../../../secret.txt",
                BASE + "../../../../../../sibling/x",
                BASE + "..",
                BASE + "../g",
                BASE + "x/../../g",
                BASE + "%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt",
                BASE + "%2E%2e/%2e%2E/%2E%2E/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt",
                BASE + ".%2e/x",
                BASE + "%2e./x",
                BASE + "%2e",
                BASE + "./x",
                BASE + "sub/./x",
                "/branches/b/t/j/../../../../secret.txt",
                "/branches/../../secret.txt",
                "/branches/%2e%2e/%2e%2e/secret.txt",
                "/branches/b/%2e%2e/t/j/f/x",
                "/products/../branches/b/t/j/f/x",
                "/~../branches/b/t/j/f/x",
                "/~%2e%2e/branches/b/t/j/f/x",
                "/%7e../branches/b/t/j/f/x",
                "/~.alice/branches/b/t/j/f/x",
                "/~a%2fb/branches/b/t/j/f/x",
                // encoded slashes inside a segment
                BASE + "a%2fb",
                BASE + "a%2Fb",
                BASE + "..%2f..%2f..%2f..%2f..%2f..%2fsecret.txt",
                BASE + "%2f..%2f..%2fsecret.txt",
                "/branches/b%2f..%2f..%2f..%2fsecret.txt/t/j/f/x",
                "/branches/b/t/j%2f..%2f..%2f..%2f..%2fsibling/f/x",
                // empty segments, absolute paths
                BASE + "/x",
                BASE + "//x",
                BASE + "sub//x",
                "/branches//b/t/j/f/x",
                "/branches/b/t/j/f//" + "etc/passwd",
                BASE + "%2fetc%2fpasswd",
                BASE + "%2F" + "tmp",
                // reserved names: dot files anywhere, the bookkeeping files themselves
                BASE + ".digests",
                BASE + ".dirty",
                BASE + "sub/.digests",
                BASE + ".hidden",
                BASE + "%2edigests",
                BASE + "%2Edirty",
                "/branches/b/t/j/.metadata",
                "/branches/b/t/j/.locked",
                "/branches/b/t/.stamp",
                "/branches/.b/t/j/f/x",
                "/branches/b/.t/j/f/x",
                "/branches/b/t/.j/f/x",
                "/branches/b/t/j/.f/x",
                "/branches/b/t/j/f/.git/config",
                "/branches/.blobs/t/j/f/x",
                // control characters, broken encodings
                BASE + "a%00b",
                BASE + "%00",
                BASE + "a%0ab",
                BASE + "a%0db",
                BASE + "a%0d%0aX-Injected:%20yes",
                BASE + "a%09b",
                BASE + "a%7fb",
                "/branches/b%00/t/j/f/x",
                BASE + "a%zzb",
                BASE + "a%",
                BASE + "a%2",
                BASE + "a%g0",
                BASE + "a%e9b",
                BASE + "%c0%ae%c0%ae/%c0%ae%c0%ae/secret.txt",
                BASE + "%ed%a0%80",
                BASE + "%ff%fe",
                // overlong names
                BASE + "a".repeat(256),
                BASE + "dir/" + "b".repeat(300) + "/x",
                BASE + "%c3%a9".repeat(128),
                "/branches/" + "c".repeat(256) + "/t/j/f/x",
                "/branches/b/" + "d".repeat(256) + "/j/f/x",
                "/branches/b/t/" + "e".repeat(256) + "/f/x",
                "/branches/b/t/j/" + "g".repeat(256) + "/x"));
        return a;
    }

    @Test
    void readsAreRefused() throws Exception {
        List<String> failures = new ArrayList<>();
        for (String target : attacks()) {
            for (String method : List.of("GET", "HEAD")) {
                String resp = Robust.rawText(s.port(), method, target);
                int status = Integer.parseInt(resp.substring(9, 12));
                if (status != 400 && status != 404) {
                    failures.add(method + " " + target + " -> " + status);
                }
                if (resp.contains("top secret")) {
                    failures.add(method + " " + target + " leaked the secret");
                }
                int headEnd = resp.indexOf("\r\n\r\n");
                if (resp.substring(0, headEnd < 0 ? resp.length() : headEnd).contains("\r\nX-Injected")) {
                    failures.add(method + " " + target + " injected a header");
                }
            }
        }
        assertEquals(List.of(), failures);
        assertRootUnchanged();
    }

    @Test
    void reservedFilesReadThroughTheirDirectNameAre400() throws Exception {
        // the files exist on disk: refusing them must not depend on their absence
        Path fmt = s.root().resolve("branches/b/t/j/f");
        assertTrue(Files.exists(fmt.resolve(".digests.journal")));
        for (String name : List.of(".digests", ".digests.journal", ".dirty", "%2edigests")) {
            assertEquals(400, s.rawStatus("GET", BASE + name), name);
            assertEquals(400, s.rawStatus("HEAD", BASE + name), name);
        }
        assertEquals(400, s.rawStatus("GET", "/branches/b/t/j/.stamp"));
    }

    @Test
    void writesAreRefused() throws Exception {
        byte[] payload = "payload written by an attack\n".getBytes(StandardCharsets.UTF_8);
        List<String> failures = new ArrayList<>();
        for (String target : attacks()) {
            int status = Robust.rawPut(s.port(), target, payload);
            if (status != 400) {
                failures.add("PUT " + target + " -> " + status);
            }
            // a link by digest of an existing blob is the cheapest way to place a file
            int linked = Robust.rawPut(s.port(), target, new byte[0]);
            int status2 = linkPut(target);
            if (status2 != 400) {
                failures.add("PUT (X-Dlrepo-Link) " + target + " -> " + status2);
            }
            if (linked != 400) {
                failures.add("PUT (empty) " + target + " -> " + linked);
            }
        }
        assertEquals(List.of(), failures);
        assertRootUnchanged();
    }

    @Test
    void otherWriteMethodsAreRefused() throws Exception {
        List<String> failures = new ArrayList<>();
        for (String target : attacks()) {
            for (String method : List.of("DELETE", "PATCH", "POST")) {
                int status = s.rawStatus(method, target);
                if (status != 400 && status != 404 && status != 405) {
                    failures.add(method + " " + target + " -> " + status);
                }
            }
        }
        assertEquals(List.of(), failures);
        // the control file survived every DELETE above
        assertEquals(200, s.rawStatus("GET", BASE + "ok.txt"));
        assertRootUnchanged();
    }

    @Test
    void absoluteFormRequestTargetsAreCheckedToo() throws Exception {
        byte[] payload = "absolute form\n".getBytes(StandardCharsets.UTF_8);
        for (String target : List.of("http://x" + BASE + "../../../../../../secret.txt",
                "http://x" + BASE + "%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt",
                "http://x/branches/b/t/j/f/.digests")) {
            assertEquals(400, Robust.rawPut(s.port(), target, payload), target);
            String resp = Robust.rawText(s.port(), "GET", target);
            assertFalse(resp.contains("top secret"), target);
            assertTrue(resp.startsWith("HTTP/1.1 400") || resp.startsWith("HTTP/1.1 404"), target + ": " + resp);
        }
        assertRootUnchanged();
    }

    /** The container registry's URL space: names, references, digests and upload ids. */
    @Test
    void registryPathsCannotEscape() throws Exception {
        String zeros = "0".repeat(64);
        List<String> targets = List.of(
                "/v2/../branches/b/t/j/f/ok.txt",
                "/v2/%2e%2e/%2e%2e/secret.txt",
                "/v2/%2e%2e/x/manifests/latest",
                "/v2/b/j/manifests/..",
                "/v2/b/j/manifests/%2e%2e",
                "/v2/b/j/manifests/..%2f..%2f..%2f..%2fsecret.txt",
                "/v2/b/j/manifests/.digests",
                "/v2/b/j/manifests/sha256:" + zeros + "%2f..%2f..",
                "/v2/b/j/blobs/sha256:..%2f..%2f..%2fsecret.txt",
                "/v2/b/j/blobs/sha256:%2e%2e",
                "/v2/b/j/blobs/sha256:" + zeros.substring(2) + "%2e%2e",
                "/v2/u/..%2f..%2f/b/j/manifests/latest",
                "/v2/u/../b/j/manifests/latest",
                "/v2/u/%2e%2e/b/j/manifests/latest",
                "/v2/.b/j/manifests/latest",
                "/v2/b/.j/manifests/latest",
                "/v2/B/J/manifests/latest",
                "/v2/b/j/blobs/uploads/..%2f..%2f..%2fsecret.txt",
                "/v2/b/j/blobs/uploads/%2e%2e",
                "/v2/b/j/blobs/uploads/.lock",
                "/v2/b/j/blobs/uploads/%2e%2e%2f.lock",
                "/v2/b/j/blobs/uploads/" + zeros.substring(32),
                "/v2/b/j/blobs/uploads/a%00b",
                "/v2/b%2f..%2f..%2fsecret.txt/j/manifests/latest",
                "/v2/" + "a".repeat(256) + "/j/manifests/latest");
        List<String> failures = new ArrayList<>();
        byte[] payload = "{\"schemaVersion\": 2}".getBytes(StandardCharsets.UTF_8);
        for (String target : targets) {
            for (String method : List.of("GET", "HEAD", "DELETE", "PATCH", "POST")) {
                String resp = Robust.rawText(s.port(), method, target);
                int status = Integer.parseInt(resp.substring(9, 12));
                if (status != 400 && status != 404 && status != 405) {
                    failures.add(method + " " + target + " -> " + status);
                }
                if (resp.contains("top secret")) {
                    failures.add(method + " " + target + " leaked the secret");
                }
            }
            int put = Robust.rawPut(s.port(), target, payload,
                    "Content-Type: application/vnd.oci.image.manifest.v1+json");
            if (put != 400 && put != 404 && put != 405) {
                failures.add("PUT " + target + " -> " + put);
            }
        }
        assertEquals(List.of(), failures);
        assertRootUnchanged();
    }

    private int linkPut(String target) throws Exception {
        String hex = Robust.hex(control);
        byte[] head = ("PUT " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nDigest: sha256:" + hex
                + "\r\nX-Dlrepo-Link: sha256:" + hex + "\r\nContent-Length: 0\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        return Robust.status(Robust.rawExchange(s.port(), head, null));
    }

    /** Nothing outside the root; inside it, only the control file's traces. */
    private static void assertRootUnchanged() throws Exception {
        assertEquals(List.of("root", "secret.txt", "sibling"), Robust.list(parent), "next to the root");
        assertEquals(List.of("..secret"), Robust.list(sibling), "the sibling folder");
        assertEquals(SECRET, Files.readString(parent.resolve("secret.txt")));
        String hex = Robust.hex(control);
        Set<String> allowed = Set.of(
                ".lock", ".blobs", ".blobs/sha256", ".blobs/sha256/" + hex.substring(0, 2),
                ".blobs/sha256/" + hex.substring(0, 2) + "/" + hex,
                ".uploads", ".trash", "branches", "branches/b", "branches/b/t", "branches/b/t/.stamp",
                "branches/b/t/j", "branches/b/t/j/.stamp", "branches/b/t/j/f", "branches/b/t/j/f/.dirty",
                "branches/b/t/j/f/.digests", "branches/b/t/j/f/.digests.journal", "branches/b/t/j/f/ok.txt",
                ".formats-checked");
        List<String> unexpected = new ArrayList<>();
        for (String p : Robust.walk(s.root())) {
            if (!allowed.contains(p)) {
                unexpected.add(p);
            }
        }
        assertEquals(List.of(), unexpected, "unexpected entries in the root");
        assertEquals(Map.of("ok.txt", "sha256:" + hex), Robust.digests(s.root().resolve("branches/b/t/j/f")));
        assertEquals(2, Robust.nlink(Robust.blob(s.root(), hex)), "the control blob gained links");
    }
}
