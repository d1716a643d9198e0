package dlrepo.products;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dlrepo.Check;
import dlrepo.TarReader;
import dlrepo.TestServer;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Helpers shared by the product and user-repository tests (the ones of {@code dlrepo.api}
 * are package-private): JSON answers, uploads, product metadata, symlinks and sizes on disk,
 * a small tar reader.
 */
public final class Helpers {
    public static final ObjectMapper JSON = new ObjectMapper();

    private Helpers() {
    }

    public static String unique(String base) {
        return Check.unique(base);
    }

    public static JsonNode json(HttpResponse<String> r) throws IOException {
        return Check.json(r);
    }

    /** Asserts 200 and a JSON body, returns it. */
    public static JsonNode ok(HttpResponse<String> r) throws IOException {
        return Check.ok(r);
    }

    /** Asserts an error status and, for non-HEAD requests, a JSON {@code error} containing {@code fragment}. */
    public static String assertError(HttpResponse<String> r, int status, String fragment) throws IOException {
        return Check.assertError(r, status, fragment);
    }

    /** Asserts a 302 to {@code location}. */
    public static void assertRedirect(HttpResponse<?> r, String location) {
        assertEquals(302, r.statusCode(), () -> r.request().method() + " " + r.uri() + ": " + r.body());
        assertEquals(location, r.headers().firstValue("Location").orElse(null), () -> "Location of " + r.uri());
    }

    /** Asserts a 405 whose {@code Allow} lists GET and none of the write methods. */
    public static void assert405(HttpResponse<String> r) {
        assertEquals(405, r.statusCode(), () -> r.request().method() + " " + r.uri() + ": " + r.body());
        String allow = r.headers().firstValue("Allow").orElse("");
        assertTrue(allow.contains("GET"), "Allow lists GET: '" + allow + "'");
        for (String m : List.of("PUT", "POST", "DELETE", "PATCH")) {
            assertFalse(allow.contains(m), "Allow does not list " + m + ": '" + allow + "'");
        }
    }

    public static HttpResponse<String> send(TestServer s, String method, String path)
            throws IOException, InterruptedException {
        return s.send(s.request(path).method(method, HttpRequest.BodyPublishers.noBody()).build());
    }

    public static HttpResponse<String> put(TestServer s, String path, byte[] body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = s.request(path).PUT(HttpRequest.BodyPublishers.ofByteArray(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return s.send(b.build());
    }

    public static void upload201(TestServer s, String path, String text) throws IOException, InterruptedException {
        upload201(s, path, text.getBytes(StandardCharsets.UTF_8));
    }

    public static void upload201(TestServer s, String path, byte[] data) throws IOException, InterruptedException {
        HttpResponse<String> r = s.upload(path, data);
        assertEquals(201, r.statusCode(), () -> "upload " + path + ": " + r.body());
    }

    /** PATCH (finalize) a format URL ending with '/'. */
    public static void finalizeFormat(TestServer s, String formatPath) throws IOException, InterruptedException {
        HttpResponse<String> r = send(s, "PATCH", formatPath);
        assertEquals(200, r.statusCode(), () -> "finalize " + formatPath + ": " + r.body());
    }

    /** The JSON body of a job PATCH setting the four product keys. */
    public static String productMeta(String product, String variant, String branch, String version) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("product", product);
        m.put("product_variant", variant);
        m.put("product_branch", branch);
        m.put("version", version);
        return jobBody(m);
    }

    /** {@code {"job": {...}}} with string values (null written as JSON null). */
    public static String jobBody(Map<String, String> fields) {
        var node = JSON.createObjectNode();
        var job = node.putObject("job");
        fields.forEach((k, v) -> {
            if (v == null) {
                job.putNull(k);
            } else {
                job.put(k, v);
            }
        });
        return node.toString();
    }

    public static HttpResponse<String> patchJob(TestServer s, String jobUrl, String body)
            throws IOException, InterruptedException {
        return s.json("PATCH", jobUrl, body);
    }

    public static void linkJob(TestServer s, String jobUrl, String p, String v, String b, String version)
            throws IOException, InterruptedException {
        HttpResponse<String> r = patchJob(s, jobUrl, productMeta(p, v, b, version));
        assertEquals(200, r.statusCode(), () -> "PATCH " + jobUrl + ": " + r.body());
    }

    public static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sha256(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    public static Path blob(TestServer s, String hex) {
        return s.root().resolve(".blobs/sha256").resolve(hex.substring(0, 2)).resolve(hex);
    }

    /** Every regular file of the blob store. */
    public static List<String> blobs(TestServer s) throws IOException {
        Path dir = s.root().resolve(".blobs/sha256");
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (var st = Files.walk(dir)) {
            st.filter(Files::isRegularFile).forEach(p -> out.add(p.getFileName().toString()));
        }
        out.sort(null);
        return out;
    }

    /** The entries of a folder (every name, dot files too), sorted; empty if it does not exist. */
    public static List<String> list(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return out;
        }
        try (var st = Files.list(dir)) {
            st.forEach(p -> out.add(p.getFileName().toString()));
        }
        out.sort(null);
        return out;
    }

    public static int nlink(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
    }

    /** Every symlink below {@code dir} (links are not followed). */
    public static List<Path> symlinks(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return out;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
                if (attrs.isSymbolicLink()) {
                    out.add(f);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        out.sort(null);
        return out;
    }

    /**
     * Checks the symlinks of a repository: every one below {@code products/} and every job's
     * {@code .product} below {@code branches/} is relative and resolves to a folder of the
     * same repository.
     */
    public static void assertNoDanglingLinks(Path repoDir) throws IOException {
        Path real = repoDir.toRealPath();
        List<Path> links = new ArrayList<>(symlinks(repoDir.resolve("products")));
        links.addAll(symlinks(repoDir.resolve("branches")));
        for (Path l : links) {
            Path target = Files.readSymbolicLink(l);
            assertFalse(target.isAbsolute(), l + " -> " + target + " is relative");
            assertTrue(Files.isDirectory(l), "dangling symlink " + repoDir.relativize(l) + " -> " + target);
            assertTrue(l.toRealPath().startsWith(real), l + " resolves inside the repository");
        }
    }

    /** Where a symlink points, resolved against its folder and normalized (not following further links). */
    public static Path linkTarget(Path link) throws IOException {
        return link.getParent().resolve(Files.readSymbolicLink(link)).normalize();
    }

    /**
     * The size of the artifacts of a tree, computed independently of the server: regular
     * files (not symlinks) whose name does not start with '.'.
     */
    public static long artifactBytes(Path tree) throws IOException {
        if (!Files.isDirectory(tree)) {
            return 0;
        }
        long[] total = {0};
        Files.walkFileTree(tree, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
                if (attrs.isRegularFile() && !f.getFileName().toString().startsWith(".")) {
                    total[0] += attrs.size();
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return total[0];
    }

    /** The artifact files of a tree (as above), relative paths. */
    public static List<String> artifactFiles(Path tree) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(tree)) {
            return out;
        }
        Files.walkFileTree(tree, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
                if (attrs.isRegularFile() && !f.getFileName().toString().startsWith(".")) {
                    out.add(tree.relativize(f).toString());
                }
                return FileVisitResult.CONTINUE;
            }
        });
        out.sort(null);
        return out;
    }

    /** Polls {@code cond} for up to {@code millis}; returns its last value. */
    public static boolean eventually(long millis, java.util.function.BooleanSupplier cond) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (true) {
            if (cond.getAsBoolean()) {
                return true;
            }
            if (System.currentTimeMillis() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
    }

    /** A full cleanup (tag policies, quota recount, orphan GC), awaited. */
    public static void fullCleanup(TestServer s) throws InterruptedException {
        assertTrue(s.daemon().cleanup().awaitIdle(30_000), "previous cleanup finished");
        s.daemon().cleanup().schedule(true, "test");
        assertTrue(s.daemon().cleanup().awaitIdle(30_000), "cleanup finished");
    }

    // ---- a small tar reader: ustar headers, pax 'x' path records ----

    /** One regular member of an archive. */
    public static List<TarReader.Member> readTar(byte[] tar) {
        return TarReader.read(tar);
    }
}
