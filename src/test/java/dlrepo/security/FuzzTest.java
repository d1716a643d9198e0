package dlrepo.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dlrepo.Caller;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Thousands of generated requests (fixed seed, bounded time) of paths, names, headers and
 * JSON bodies, sent byte for byte by callers with few rights. Whatever they send: no 5xx
 * answer, no file outside the root, no byte of content the ACLs hide from them in any
 * answer, and nothing changed in the parts of the tree they may not write.
 */
class FuzzTest {
    private static final long SEED = 20261130L;
    private static final int REQUESTS = 6000;
    private static final long TIME_BUDGET_MS = 90_000;
    /** In every file and metadata value the fuzzing callers may not read. */
    private static final String MARK = "S3CR3T-MARK-7f1e";

    private static final String[] SEGMENTS = {
        "b", "pub", "hidden", "t1", "t2", "j1", "j2", "f1", "doc", "container", "file.txt", "sub", "B", "Pub",
        "HIDDEN", "latest", "stable", "oldstable", "Latest", "products", "branches", "~bob", "~alice", "~ALICE",
        "%7ealice", "%7Ebob", "~", "v2", "u", "cleanup", "cli", "static", "favicon.ico", "j1.tar", "f1.tar",
        "f1.sha256", "1.0.tar", "..", ".", "%2e%2e", "%2E", "%2f", "a%2fb", "%00", "%ff", "%", "%zz", ".digests",
        ".metadata", ".product", ".blobs", ".uploads", ".hidden", "a%5cb", "%5c..%5c..", "%e2%80%ae", "%c3%a9",
        "x".repeat(300), "%20", "a%20b", "*", "%3f", "%23", "%22", "%3cscript%3e", "blobs", "manifests", "uploads",
        "tags", "list", "_catalog", "acme", "std", "main", "1.0", "2.0", "sha256:" + "ab".repeat(32), "%2e",
        "..%2f..", "%c0%ae%c0%ae", "%e3%80%82", "NUL", "a:b", "a;b", "é",
    };
    private static final String[] QUERIES = {
        "", "", "", "?cleanup_preview", "?mount=sha256:" + "00".repeat(32) + "&from=hidden/j1", "?digest=sha256:",
        "?n=-1", "?n=99999999999", "?last=%ff", "?arch=x", "?%zz=1", "?a=1&a=2",
    };
    private static final String[] METHODS = {"GET", "GET", "GET", "HEAD", "PUT", "PUT", "PATCH", "POST", "DELETE",
        "OPTIONS", "TRACE", "PROPFIND", "get"};
    private static final String[] FIELDS = {"locked", "stable", "released", "description", "internal",
        "max_daily_tags", "max_released_tags", "product", "product_variant", "product_branch", "version", "arch",
        "name", "digest", "", "\u0000", "x".repeat(300)};

    private final Random random = new Random(SEED);
    private final List<String> written = new ArrayList<>();
    private String secretDigest;

    @Test
    void generatedRequestsNeverGiveMoreThanTheAcls() throws Exception {
        Path parent = Files.createTempDirectory("dlrepo-fuzz-");
        Path root = Files.createDirectory(parent.resolve("root"));
        Path canary = Files.createDirectories(parent.resolve("outside")).resolve("canary");
        Files.writeString(canary, "canary");
        try (TestAuth auth = new TestAuth()
                .user("admin", "admin-pw", "admin")
                .user("bob", "bob-pw", "users")
                .user("alice", "alice-pw", "users")
                .acl("admin", "rw /**")
                .acl("users", "r /branches/pub/** /branches/b/** /products/** /v2/b/** /v2/pub/**",
                        "r /branches/ /branches/b/** /branches/pub/**",
                        "rw /branches/b/**", "rw /~$user/**", "rw /v2/b/**", "r /products/ /products/**")
                .acl("ANONYMOUS", "r /branches/pub/**", "r /branches/");
                TestServer s = TestServer.start(root, auth.env("DLREPO_USER_QUOTA", "5000000"))) {
            seed(s);
            Map<String, String> before = snapshot(root);
            Caller[] callers = {s.as("bob", "bob-pw"), s.anonymous(), s.as("bob", "wrong"),
                Caller.headers(s, "Authorization", "Basic %%%")};
            String[] names = {"bob", "anonymous", "bad password", "bad header"};
            long deadline = System.currentTimeMillis() + TIME_BUDGET_MS;
            int sent = 0;
            List<String> failures = new ArrayList<>();
            Map<String, Integer> statuses = new TreeMap<>();
            for (; sent < REQUESTS && System.currentTimeMillis() < deadline; sent++) {
                int who = new int[] {0, 0, 0, 0, 0, 1, 1, 2, 3}[random.nextInt(9)];
                String request = request(who == 0 ? "Authorization: Basic " + b64("bob:bob-pw") + "\r\n"
                        : who == 2 ? "Authorization: Basic " + b64("bob:wrong") + "\r\n"
                        : who == 3 ? "Authorization: Basic %%%\r\n" : "");
                byte[] response = exchange(s.port(), request);
                String head = new String(response, 0, Math.min(response.length, 200), StandardCharsets.ISO_8859_1);
                String line = request.substring(0, request.indexOf('\r'));
                if (head.length() >= 12 && head.startsWith("HTTP/1.1 5")) {
                    failures.add(names[who] + ": " + line + " -> " + head.substring(0, 12) + " "
                            + new String(response, StandardCharsets.UTF_8).replaceAll("(?s).*\r\n\r\n", ""));
                }
                String missing = errorWithoutBody(line, response);
                if (missing != null) {
                    failures.add(names[who] + ": " + line + " -> " + missing);
                }
                statuses.merge(head.length() >= 12 ? head.substring(9, 12) : "none", 1, Integer::sum);
                if (head.startsWith("HTTP/1.1 201") && line.startsWith("PUT ")) {
                    written.add(line.substring(4, line.lastIndexOf(' ')));
                }
                if (new String(response, StandardCharsets.ISO_8859_1).contains(MARK)) {
                    failures.add(names[who] + " read hidden content: " + line + " -> " + head.split("\r\n")[0]);
                }
                if (failures.size() > 20) {
                    break;
                }
            }
            System.out.println("FuzzTest: " + sent + " requests, statuses " + statuses + ", "
                    + written.size() + " files written");
            assertTrue(failures.isEmpty(), failures.size() + " failures after " + sent + " requests:\n"
                    + String.join("\n", failures));
            assertTrue(sent >= 1000, "only " + sent + " requests in the time budget");
            assertEquals("", difference(before, snapshot(root)),
                    "the parts of the tree the callers may not write are unchanged");
            try (Stream<Path> all = Files.walk(parent)) {
                List<Path> outside = all.filter(p -> !p.startsWith(root) && !p.equals(parent)
                        && !p.equals(canary) && !p.equals(canary.getParent())).toList();
                assertEquals(List.of(), outside, "nothing created outside the root");
            }
            assertEquals("canary", Files.readString(canary));
        } finally {
            try (Stream<Path> all = Files.walk(parent)) {
                all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Content the fuzzing callers may not read or change: a branch, a product, alice's repository. */
    private void seed(TestServer s) throws Exception {
        Caller admin = s.as("admin", "admin-pw");
        Caller alice = s.as("alice", "alice-pw");
        String secret = MARK + " the hidden content";
        secretDigest = TestServer.digest(secret).substring(7);
        admin.uploadFinalized("/branches/hidden/t1/j1/f1/file.txt", secret);
        admin.uploadFinalized("/branches/hidden/t1/j1/doc/index.html", "<p>" + MARK + "</p>");
        assertEquals(200, admin.json("PATCH", "/branches/hidden/t1/j1/", "{\"job\": {\"note\": \"" + MARK
                + "\", \"product\": \"acme\", \"product_variant\": \"std\", \"product_branch\": \"main\", "
                + "\"version\": \"1.0\"}}").statusCode());
        assertEquals(200, admin.json("PUT", "/branches/hidden/t1/j1/", "{\"job\": {\"locked\": true}}")
                .statusCode());
        admin.uploadFinalized("/branches/pub/t1/j1/f1/file.txt", "public content");
        admin.uploadFinalized("/branches/b/t1/j1/f1/file.txt", "bob's content");
        alice.uploadFinalized("/~alice/branches/b/t1/j1/f1/file.txt", MARK + " alice's private file");
        // the products view of the hidden job is readable by the group, its content only through it:
        // it must not be reachable by a caller who cannot read /products/ either
    }

    private String request(String auth) {
        String method = pick(METHODS);
        if (!written.isEmpty() && random.nextInt(5) == 0) {
            // read back what was written (a link by digest, say)
            String target = written.get(random.nextInt(written.size()));
            return pick(new String[] {"GET", "HEAD"}) + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    + auth + "\r\n";
        }
        String path = switch (random.nextInt(10)) {
            case 0, 1, 2, 3, 4 -> tree(method.equals("PUT") && random.nextInt(4) > 0);
            case 5, 6 -> products();
            case 7 -> registry();
            default -> anyPath();
        };
        String target = (random.nextInt(50) == 0 ? "http://x" : "") + path
                + (random.nextInt(method.startsWith("GET") ? 2 : 6) == 0 ? pick(QUERIES) : "");
        StringBuilder req = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Connection: close\r\n" + auth);
        byte[] body = body(method, target);
        if (random.nextInt(3) > 0) {
            req.append("Digest: ").append(random.nextInt(8) > 0 ? digest(body) : pick(new String[] {"md5:x",
                "sha256:" + secretDigest, "sha256:zz", "", "sha256:" + "0".repeat(64)})).append("\r\n");
        }
        if (random.nextInt(6) == 0) {
            String d = random.nextBoolean() ? "sha256:" + secretDigest : digest(body);
            req.append("X-Dlrepo-Link: ").append(d).append("\r\n");
            if (random.nextBoolean()) {
                req.append("Digest: ").append(d).append("\r\n");
            }
        }
        if (random.nextInt(8) == 0) {
            req.append("Accept: text/html\r\n");
        }
        if (random.nextInt(10) == 0) {
            req.append("Range: bytes=").append(random.nextInt(40) - 5).append('-')
                    .append(random.nextBoolean() ? "" : random.nextInt(40)).append("\r\n");
        }
        if (random.nextInt(10) == 0) {
            req.append("Content-Type: ").append(pick(new String[] {"application/json", "text/plain",
                "multipart/form-data; boundary=x", "application/vnd.oci.image.manifest.v1+json", "\u00ff"}))
                    .append("\r\n");
        }
        if (random.nextInt(12) == 0) {
            req.append(pick(new String[] {"If-None-Match: *", "If-Range: \"x\"", "Expect: 100-continue",
                "Transfer-Encoding: identity", "X-Forwarded-For: 1.2.3.4", "Origin: http://127.0.0.1",
                "Sec-Fetch-Site: same-origin", "User-Agent: dlrepo-server/x"})).append("\r\n");
        }
        req.append("Content-Length: ").append(body.length).append("\r\n\r\n");
        return req + new String(body, StandardCharsets.ISO_8859_1);
    }

    /** A path of the branches tree, now and then with a strange segment. */
    private String tree(boolean file) {
        String[][] levels = {{"b", "b", "b", "pub", "hidden", "B", "new"}, {"t1", "t2", "latest", "stable", "T1"},
            {"j1", "j2", "j1.tar"}, {"f1", "doc", "f1.tar", "f1.sha256", "container"},
            {"file.txt", "index.html", "sub", "new.bin", "file.txt.sha256"}, {"file.txt", "deep.txt"}};
        StringBuilder p = new StringBuilder(pick(new String[] {"", "", "", "/~bob", "/~alice", "/~Bob"}))
                .append("/branches");
        int depth = file ? 5 + random.nextInt(2) : random.nextInt(levels.length + 1);
        for (int i = 0; i < depth; i++) {
            p.append('/').append(random.nextInt(file ? 20 : 8) == 0 ? pick(SEGMENTS) : pick(levels[i]));
        }
        return p.append(!file && random.nextInt(3) == 0 ? "/" : "").toString();
    }

    private String products() {
        String[][] levels = {{"acme", "ACME", "other"}, {"std"}, {"main"}, {"1.0", "latest", "stable", "1.0.tar"},
            {"f1", "doc", "f1.tar"}, {"file.txt", "index.html"}};
        StringBuilder p = new StringBuilder(pick(new String[] {"", "", "/~alice"})).append("/products");
        int depth = random.nextInt(levels.length + 1);
        for (int i = 0; i < depth; i++) {
            p.append('/').append(random.nextInt(8) == 0 ? pick(SEGMENTS) : pick(levels[i]));
        }
        return p.append(random.nextInt(3) == 0 ? "/" : "").toString();
    }

    private String registry() {
        String name = pick(new String[] {"b/j1", "pub/j1", "hidden/j1", "u/alice/b/j1", "u/bob/b/j1", "acme/std/main",
            "B/J1", "b"});
        String d = "sha256:" + (random.nextBoolean() ? secretDigest : "ab".repeat(32));
        return "/v2/" + name + pick(new String[] {"/blobs/" + d, "/manifests/t1", "/manifests/latest",
            "/manifests/" + d, "/blobs/uploads/", "/blobs/uploads/" + "0".repeat(32), "/tags/list", "/_catalog", ""});
    }

    private String anyPath() {
        StringBuilder path = new StringBuilder();
        int depth = random.nextInt(10);
        for (int i = 0; i < depth; i++) {
            path.append('/').append(random.nextInt(25) == 0 ? "sha256:" + secretDigest : pick(SEGMENTS));
        }
        if (path.length() == 0 || random.nextInt(3) == 0) {
            path.append('/');
        }
        if (random.nextInt(30) == 0) {
            path.insert(random.nextInt(path.length()), '/');
        }
        return path.toString();
    }

    private byte[] body(String method, String target) {
        if (method.equals("GET") || method.equals("HEAD") || random.nextInt(10) == 0) {
            return new byte[0];
        }
        if (method.equals("PUT") && !target.contains("/v2/") && random.nextBoolean()) {
            byte[] data = new byte[random.nextInt(2000)];
            random.nextBytes(data);
            return data;
        }
        String level = pick(new String[] {"tag", "job", "branch", "x", ""});
        StringBuilder json = new StringBuilder("{\"" + level + "\": {");
        int fields = random.nextInt(4);
        for (int i = 0; i < fields; i++) {
            json.append(i == 0 ? "" : ", ").append('"').append(pick(FIELDS).replace("\u0000", "\\u0000"))
                    .append("\": ").append(value());
        }
        json.append("}}");
        String text = json.toString();
        return switch (random.nextInt(12)) {
            case 0 -> text.substring(0, random.nextInt(text.length())).getBytes(StandardCharsets.UTF_8);
            case 1 -> "[1, 2, {\"a\": [[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]}]".getBytes(StandardCharsets.UTF_8);
            case 2 -> "\u00ff\u00fe\u0000".getBytes(StandardCharsets.ISO_8859_1);
            default -> text.getBytes(StandardCharsets.UTF_8);
        };
    }

    private String value() {
        return switch (random.nextInt(10)) {
            case 0 -> "true";
            case 1 -> "false";
            case 2 -> "null";
            case 3 -> Integer.toString(random.nextInt(20) - 5);
            case 4 -> "1e400";
            case 5 -> "99999999999999999999999";
            case 6 -> "{\"a\": 1}";
            case 7 -> "[\"x\"]";
            default -> "\"" + pick(new String[] {"acme", "std", "main", "1.0", "stable", "../..", "a/b", "x\\\\y",
                "\\u202e", "\\u0000", "", "A", "x".repeat(300), "hidden"}) + "\"";
        };
    }

    private String pick(String[] choices) {
        return choices[random.nextInt(choices.length)];
    }

    private static String digest(byte[] body) {
        return TestServer.digest(body);
    }

    private static String b64(String s) {
        return java.util.Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Every error answer (but HEAD's) has a body of its Content-Length, malformed requests
     * included; null if so, else what is wrong.
     */
    private static String errorWithoutBody(String requestLine, byte[] response) {
        String all = new String(response, StandardCharsets.ISO_8859_1);
        int end = all.indexOf("\r\n\r\n");
        if (all.length() < 12 || all.charAt(9) < '4' || requestLine.startsWith("HEAD ") || end < 0) {
            return null;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?im)^content-length: *(\\d+)")
                .matcher(all.substring(0, end + 2));
        int body = all.length() - end - 4;
        if (body == 0 || !m.find() || Integer.parseInt(m.group(1)) != body) {
            return all.substring(0, 12) + " with a body of " + body + " bytes: " + all.substring(0, end);
        }
        return null;
    }

    /** Sends one request byte for byte and reads the whole answer (the server closes). */
    private static byte[] exchange(int port, String request) throws IOException {
        try (Socket sock = new Socket("127.0.0.1", port)) {
            sock.setSoTimeout(15_000);
            OutputStream out = sock.getOutputStream();
            try {
                out.write(request.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            } catch (IOException e) {
                // the server may answer and close before the whole body is sent
            }
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            InputStream in = sock.getInputStream();
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = in.read(buf)) != -1) {
                    answer.write(buf, 0, n);
                }
            } catch (SocketTimeoutException e) {
                fail("no answer in 15 s to: " + request.substring(0, Math.min(200, request.length())));
            } catch (IOException e) {
                // reset after the answer
            }
            return answer.toByteArray();
        }
    }

    private static String difference(Map<String, String> before, Map<String, String> after) {
        StringBuilder b = new StringBuilder();
        for (String k : new java.util.TreeSet<>(java.util.Set.copyOf(before.keySet()))) {
            if (!before.get(k).equals(after.get(k))) {
                b.append(k).append(": ").append(before.get(k)).append(" -> ").append(after.get(k)).append('\n');
            }
        }
        after.keySet().stream().filter(k -> !before.containsKey(k))
                .forEach(k -> b.append(k).append(": new ").append(after.get(k)).append('\n'));
        return b.toString();
    }

    /**
     * Every file and link of the tree the fuzzing callers may not write (other branches,
     * products, other users), with its size and target.
     */
    private static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> map = new TreeMap<>();
        for (Path top : List.of(root.resolve("branches"), root.resolve("products"), root.resolve("users"))) {
            if (!Files.exists(top)) {
                continue;
            }
            try (Stream<Path> all = Files.walk(top)) {
                for (Path p : (Iterable<Path>) all::iterator) {
                    String rel = root.relativize(p).toString();
                    if (rel.startsWith("branches/b") || rel.startsWith("users/bob") || rel.endsWith(".disk_usage")) {
                        continue;
                    }
                    String what = Files.isSymbolicLink(p) ? "-> " + Files.readSymbolicLink(p)
                            : Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "dir"
                            // not the mtime: a dedup probe refreshes a blob's, and so its links'
                            : Files.size(p) + " ino " + Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
                    map.put(rel, what);
                }
            }
        }
        return map;
    }
}
