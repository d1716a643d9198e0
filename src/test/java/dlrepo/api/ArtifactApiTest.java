package dlrepo.api;

import static dlrepo.api.Api.assertError;
import static dlrepo.api.Api.finalizeFormat;
import static dlrepo.api.Api.ok;
import static dlrepo.api.Api.put;
import static dlrepo.api.Api.unique;
import static dlrepo.api.Api.upload201;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code .../<f>/<relpath>}: uploads (streamed and by link), the dedup probe, downloads. */
class ArtifactApiTest {
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_INTERNAL_FORMAT_FILTER", "internal"));
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    private static Path dir(String url) {
        return s.root().resolve(url.substring(1));
    }

    private static String job() {
        return "/branches/" + unique("ab") + "/t/job/";
    }

    private static String text(String base) {
        return base + " " + unique("content") + "\n";
    }

    private static HttpResponse<String> putWithDigest(String url, byte[] data, String digest) throws Exception {
        return put(s, url, data, "Digest", digest);
    }

    // ---------------------------------------------------------------- uploads

    @Test
    void uploadStoresBlobAndLinksIt() throws Exception {
        String url = job();
        String content = text("hello");
        HttpResponse<String> r = s.upload(url + "deb/pool/main/a.deb", content);
        assertEquals(201, r.statusCode(), r.body());
        Path file = dir(url).resolve("deb/pool/main/a.deb");
        assertEquals(content, Api.read(file));
        String hex = Api.sha256(content);
        Path blob = Api.blob(s, hex);
        assertTrue(Files.isRegularFile(blob));
        assertEquals(Api.inode(blob), Api.inode(file), "the tree file is a hard link of the blob");
        assertEquals(2, Api.nlink(blob));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(blob)));
        assertEquals(Map.of("pool/main/a.deb", "sha256:" + hex), Api.digests(dir(url).resolve("deb")));
        assertTrue(Files.exists(dir(url).resolve(".stamp")), "job .stamp");
        assertTrue(Files.exists(dir(url).getParent().resolve(".stamp")), "tag .stamp");
        assertTrue(Files.exists(dir(url).resolve("deb/.dirty")), "format dirty until finalized");
        assertEquals(List.of(), Api.list(s.root().resolve(".uploads")));
        finalizeFormat(s, url + "deb/");
        assertFalse(Files.exists(dir(url).resolve("deb/.dirty")));

        // the same content elsewhere is stored once
        upload201(s, url + "rpm/copy.rpm", content);
        assertEquals(Api.inode(blob), Api.inode(dir(url).resolve("rpm/copy.rpm")));
        assertEquals(3, Api.nlink(blob));
    }

    @Test
    void replacingAFileUpdatesContentAndDigests() throws Exception {
        String url = job();
        String v1 = text("v1");
        String v2 = text("v2 longer");
        upload201(s, url + "deb/a.txt", v1);
        upload201(s, url + "deb/b.txt", "b");
        finalizeFormat(s, url + "deb/");
        upload201(s, url + "deb/a.txt", v2);
        assertTrue(Files.exists(dir(url).resolve("deb/.dirty")), "a new upload makes the format dirty again");
        assertEquals(v2, Api.read(dir(url).resolve("deb/a.txt")));
        assertEquals("sha256:" + Api.sha256(v2), Api.digests(dir(url).resolve("deb")).get("a.txt"));
        assertEquals("sha256:" + Api.sha256("b"), Api.digests(dir(url).resolve("deb")).get("b.txt"));
        assertEquals(1, Api.nlink(Api.blob(s, Api.sha256(v1))), "the old blob is no longer linked");
        assertEquals(v2, s.get(url + "deb/a.txt").body());
        assertEquals(List.of(), Api.list(dir(url).resolve("deb")).stream()
                .filter(n -> n.contains("tmp")).toList(), "no temporary file left");
    }

    @Test
    void digestHeaderRequired() throws Exception {
        String url = job();
        byte[] data = "data".getBytes(StandardCharsets.UTF_8);
        assertError(put(s, url + "deb/a", data), 400, "Digest");
        assertError(putWithDigest(url + "deb/a", data, "md5:1234"), 422, null);
        assertError(putWithDigest(url + "deb/a", data, "sha256:abc"), 422, null);
        assertError(putWithDigest(url + "deb/a", data, "sha256:" + "g".repeat(64)), 422, null);
        assertError(putWithDigest(url + "deb/a", data, Api.sha256(data)), 422, null);
        assertFalse(Files.exists(dir(url)), "refused uploads create nothing");
        assertEquals(List.of(), Api.list(s.root().resolve(".uploads")));
    }

    @Test
    void digestMismatchKeepsNothing() throws Exception {
        String url = job();
        upload201(s, url + "deb/existing", "existing");
        Map<String, String> digestsBefore = Api.digests(dir(url).resolve("deb"));
        List<String> blobsBefore = Api.blobs(s);
        byte[] data = text("mismatch").getBytes(StandardCharsets.UTF_8);
        String wrong = TestServer.digest("something else");
        String msg = assertError(putWithDigest(url + "deb/new", data, wrong), 422,
                "Received data does not match digest");
        assertTrue(msg.contains(wrong), msg);
        assertFalse(Files.exists(dir(url).resolve("deb/new")));
        assertEquals(digestsBefore, Api.digests(dir(url).resolve("deb")));
        assertEquals(blobsBefore, Api.blobs(s), "no new blob");
        assertFalse(Files.exists(Api.blob(s, Api.sha256(data))));
        assertEquals(List.of(), Api.list(s.root().resolve(".uploads")), ".uploads empty");
        // in a job that did not exist: no folder at all
        String fresh = job();
        assertError(putWithDigest(fresh + "deb/new", data, wrong), 422, "Received data does not match digest");
        assertFalse(Files.exists(dir(fresh).getParent().getParent()), "no branch folder created");
        // replacing an existing file with a mismatching body keeps the old one
        assertError(putWithDigest(url + "deb/existing", data, wrong), 422, null);
        assertEquals("existing", Api.read(dir(url).resolve("deb/existing")));
    }

    @Test
    void linkExistingBlob() throws Exception {
        String url = job();
        String content = text("link me");
        upload201(s, url + "deb/orig", content);
        String digest = TestServer.digest(content);
        String other = job();
        HttpResponse<String> r = s.send(s.request(other + "rpm/dir/linked").header("Digest", digest)
                .header("X-Dlrepo-Link", digest).PUT(HttpRequest.BodyPublishers.noBody()).build());
        assertEquals(201, r.statusCode(), r.body());
        Path blob = Api.blob(s, Api.sha256(content));
        Path linked = dir(other).resolve("rpm/dir/linked");
        assertEquals(Api.inode(blob), Api.inode(linked));
        assertEquals(3, Api.nlink(blob));
        assertEquals(content, Api.read(linked));
        assertEquals(Map.of("dir/linked", digest), Api.digests(dir(other).resolve("rpm")));
        assertTrue(Files.exists(dir(other).resolve("rpm/.dirty")));
        assertTrue(Files.exists(dir(other).resolve(".stamp")));
        assertEquals(content, s.get(other + "rpm/dir/linked").body());
    }

    @Test
    void linkMissingBlobOrMismatchedHeaders() throws Exception {
        String url = job();
        upload201(s, url + "deb/present", "present");
        Map<String, String> digestsBefore = Api.digests(dir(url).resolve("deb"));
        String missing = TestServer.digest(text("never uploaded"));
        HttpResponse<String> r = s.send(s.request(url + "deb/ghost").header("Digest", missing)
                .header("X-Dlrepo-Link", missing).PUT(HttpRequest.BodyPublishers.noBody()).build());
        assertError(r, 404, null);
        assertFalse(Files.exists(dir(url).resolve("deb/ghost")));
        assertEquals(digestsBefore, Api.digests(dir(url).resolve("deb")));
        // a failed link does not leave an empty format behind
        String fresh = job();
        r = s.send(s.request(fresh + "deb/ghost").header("Digest", missing)
                .header("X-Dlrepo-Link", missing).PUT(HttpRequest.BodyPublishers.noBody()).build());
        assertError(r, 404, null);
        assertFalse(Files.exists(dir(fresh).resolve("deb")), "no format created by a failed link");

        String present = TestServer.digest("present");
        r = s.send(s.request(url + "deb/other").header("Digest", present)
                .header("X-Dlrepo-Link", missing).PUT(HttpRequest.BodyPublishers.noBody()).build());
        assertError(r, 400, null);
        assertFalse(Files.exists(dir(url).resolve("deb/other")));
        r = s.send(s.request(url + "deb/other").header("Digest", present)
                .header("X-Dlrepo-Link", "garbage").PUT(HttpRequest.BodyPublishers.noBody()).build());
        assertTrue(r.statusCode() == 400 || r.statusCode() == 422, r.statusCode() + " " + r.body());
        assertFalse(Files.exists(dir(url).resolve("deb/other")));
    }

    @Test
    void headProbe() throws Exception {
        String url = job();
        String content = text("probe");
        upload201(s, url + "deb/p", content);
        String digest = TestServer.digest(content);
        // any path, even one that does not exist, answers for the whole store
        for (String path : List.of(url + "deb/p", url + "deb/other", "/branches/" + unique("nob") + "/t/j/f/x")) {
            HttpResponse<String> r = s.head(path, "Digest", digest);
            assertEquals(200, r.statusCode(), path);
            assertEquals(digest, r.headers().firstValue("Digest").orElse(null));
            assertEquals(String.valueOf(content.length()), r.headers().firstValue("Content-Length").orElse(null));
            assertEquals("", r.body());
        }
        assertEquals(404, s.head(url + "deb/p", "Digest", TestServer.digest(text("unknown"))).statusCode());
        assertEquals(422, s.head(url + "deb/p", "Digest", "sha256:xyz").statusCode());
        assertEquals(422, s.head(url + "deb/p", "Digest", "nonsense").statusCode());
        assertFalse(Files.exists(s.root().resolve("branches/nob")));
    }

    @Test
    void lockedJobRefusesUploadsExceptInternalFormats() throws Exception {
        String url = job();
        upload201(s, url + "deb/a", "a");
        finalizeFormat(s, url + "deb/");
        ok(s.json("PUT", url, "{\"job\": {\"locked\": true}}"));
        assertError(s.upload(url + "deb/b", "b"), 400, "Job is locked");
        assertError(s.upload(url + "rpm/b", "b"), 400, "Job is locked");
        assertFalse(Files.exists(dir(url).resolve("deb/b")));
        assertFalse(Files.exists(dir(url).resolve("rpm")));
        String digest = TestServer.digest("a");
        HttpResponse<String> r = s.send(s.request(url + "deb/c").header("Digest", digest)
                .header("X-Dlrepo-Link", digest).PUT(HttpRequest.BodyPublishers.noBody()).build());
        assertError(r, 400, "Job is locked");
        assertFalse(Files.exists(dir(url).resolve("deb/c")));
        // internal formats stay writable
        upload201(s, url + "internal-logs/build.log", "log");
        assertEquals("log", Api.read(dir(url).resolve("internal-logs/build.log")));
        finalizeFormat(s, url + "internal-logs/");
        assertTrue(Api.ok(s.get(url + "internal-logs/")).get("artifact_format").get("internal").asBoolean());
    }

    @Test
    void containerFormatOnlyForServers() throws Exception {
        String url = job();
        assertError(s.upload(url + "container/blobs/x", "layer"), 400, null);
        assertFalse(Files.exists(dir(url).resolve("container")));
        HttpResponse<String> r = put(s, url + "container/blobs/x", "layer".getBytes(StandardCharsets.UTF_8),
                "Digest", TestServer.digest("layer"), "User-Agent", "dlrepo-server/1.0");
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("layer", Api.read(dir(url).resolve("container/blobs/x")));
        r = put(s, url + "container/blobs/y", "layer".getBytes(StandardCharsets.UTF_8),
                "Digest", TestServer.digest("layer"), "User-Agent", "curl/8.0 dlrepo-server/1.0");
        assertError(r, 400, null);
    }

    @Test
    void writesToAliasesAreRefused() throws Exception {
        String b = unique("alias");
        upload201(s, "/branches/" + b + "/t/job/deb/a", "a");
        ok(s.json("POST", "/branches/" + b + "/t/", "{\"tag\": {\"stable\": true}}"));
        for (String alias : List.of("latest", "stable", "oldstable", "LATEST")) {
            String base = "/branches/" + b + "/" + alias + "/";
            HttpResponse<String> r = s.upload(base + "job/deb/x", "x");
            assertError(r, 405, null);
            assertTrue(r.headers().firstValue("Allow").orElse("").contains("GET"), r.headers().toString());
            assertFalse(r.headers().firstValue("Allow").orElse("").contains("PUT"));
            assertError(s.json("POST", base, "{\"tag\": {\"locked\": true}}"), 405, null);
            assertError(s.delete(base), 405, null);
            assertError(s.delete(base + "job/"), 405, null);
            assertError(s.json("PATCH", base + "job/", "{\"job\": {\"a\": \"b\"}}"), 405, null);
            assertError(Api.patch(s, base + "job/deb/"), 405, null);
        }
        assertEquals(List.of("t"), Api.list(s.root().resolve("branches/" + b)));
        assertFalse(Files.exists(s.root().resolve("branches/" + b + "/t/.locked")));
    }

    @Test
    void uppercaseWritesGoToLowercaseFolders() throws Exception {
        String b = unique("upper");
        upload201(s, "/branches/" + b.toUpperCase() + "/TaG/JOB/Deb/Some/File.TXT", "x");
        Path file = s.root().resolve("branches/" + b + "/tag/job/deb/Some/File.TXT");
        assertEquals("x", Api.read(file), "names lowercased, the file path keeps its case");
        assertFalse(Files.exists(s.root().resolve("branches/" + b.toUpperCase())));
        assertFalse(Files.exists(s.root().resolve("branches/" + b + "/TaG")));
        assertEquals(Map.of("Some/File.TXT", "sha256:" + Api.sha256("x")),
                Api.digests(s.root().resolve("branches/" + b + "/tag/job/deb")));
        Api.finalizeFormat(s, "/branches/" + b + "/TAG/job/DEB/");
        assertFalse(Files.exists(s.root().resolve("branches/" + b + "/tag/job/deb/.dirty")));
        ok(s.json("PATCH", "/branches/" + b + "/TAG/JOB/", "{\"job\": {\"k\": \"V\"}}"));
        assertEquals("{\"k\": \"V\"}", Api.read(s.root().resolve("branches/" + b + "/tag/job/.metadata")));
    }

    @Test
    void chunkedAndExpectContinueUploads() throws Exception {
        String url = job();
        byte[] data = new byte[300_000];
        new java.util.Random(7).nextBytes(data);
        // no Content-Length: chunked transfer encoding
        HttpResponse<String> r = s.send(s.request(url + "deb/chunked.bin").header("Digest", TestServer.digest(data))
                .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(data))).build());
        assertEquals(201, r.statusCode(), r.body());
        assertArrayEquals(data, Files.readAllBytes(dir(url).resolve("deb/chunked.bin")));
        r = s.send(s.request(url + "deb/continue.bin").header("Digest", TestServer.digest(data)).expectContinue(true)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build());
        assertEquals(201, r.statusCode(), r.body());
        assertEquals(Api.inode(dir(url).resolve("deb/chunked.bin")), Api.inode(dir(url).resolve("deb/continue.bin")));
        // a chunked body that does not match
        r = s.send(s.request(url + "deb/bad.bin").header("Digest", TestServer.digest("other"))
                .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(data))).build());
        assertError(r, 422, "Received data does not match digest");
        assertFalse(Files.exists(dir(url).resolve("deb/bad.bin")));
        assertEquals(List.of(), Api.list(s.root().resolve(".uploads")));
    }

    @Test
    void parallelUploadsIntoOneFormatAllRecorded() throws Exception {
        String url = job() + "deb/";
        int n = 24;
        List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> futures = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] data = ("file " + i + " " + url).getBytes(StandardCharsets.UTF_8);
            futures.add(s.client().sendAsync(s.request(url + "dir" + (i % 3) + "/f" + i)
                    .header("Digest", TestServer.digest(data)).PUT(HttpRequest.BodyPublishers.ofByteArray(data))
                    .build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (var f : futures) {
            assertEquals(201, f.get().statusCode(), f.get().body());
        }
        Map<String, String> digests = Api.digests(dir(url));
        assertEquals(n, digests.size(), digests.toString());
        for (int i = 0; i < n; i++) {
            String rel = "dir" + (i % 3) + "/f" + i;
            assertEquals(TestServer.digest("file " + i + " " + url), digests.get(rel), rel);
            assertEquals("file " + i + " " + url, Api.read(dir(url).resolve(rel)));
        }
        finalizeFormat(s, url);
        assertEquals(n, Api.ok(s.get(url)).get("artifact_format").get("files").size());
    }

    @Test
    void emptyFile() throws Exception {
        String url = job() + "deb/empty";
        upload201(s, url, "");
        HttpResponse<String> r = s.get(url);
        assertEquals(200, r.statusCode());
        assertEquals("", r.body());
        assertEquals("0", r.headers().firstValue("Content-Length").orElse(null));
        assertEquals(TestServer.digest(""), r.headers().firstValue("Digest").orElse(null));
        assertEquals(416, Api.get(s, url, "Range", "bytes=0-").statusCode());
    }

    @Test
    void fileAndFolderInTheWay() throws Exception {
        String url = job();
        upload201(s, url + "deb/a", "a");
        assertError(s.upload(url + "deb/a/b", "b"), 400, null);
        assertEquals("a", Api.read(dir(url).resolve("deb/a")));
        assertError(s.upload(url + "deb/slash/", "x"), 400, null);
        assertFalse(Files.exists(dir(url).resolve("deb/slash")), "a PUT to a folder URL stores no file");
        upload201(s, url + "deb/d/e", "e");
        assertError(s.upload(url + "deb/d", "d"), 400, null);
        assertEquals("e", Api.read(dir(url).resolve("deb/d/e")));
        assertEquals(Map.of("a", TestServer.digest("a"), "d/e", TestServer.digest("e")),
                Api.digests(dir(url).resolve("deb")));
        assertEquals(List.of(), Api.list(s.root().resolve(".uploads")));
    }

    // ---------------------------------------------------------------- downloads

    private String uploaded(String content) throws Exception {
        String url = job() + "deb/file.bin";
        upload201(s, url, content);
        return url;
    }

    @Test
    void downloadHeaders() throws Exception {
        String content = text("0123456789");
        String url = uploaded(content);
        String hex = Api.sha256(content);
        HttpResponse<byte[]> r = Api.getBytes(s, url);
        assertEquals(200, r.statusCode());
        assertArrayEquals(content.getBytes(StandardCharsets.UTF_8), r.body());
        assertEquals("sha256:" + hex, r.headers().firstValue("Digest").orElse(null));
        String etag = r.headers().firstValue("ETag").orElse("");
        assertTrue(etag.contains(hex) && etag.startsWith("\"") && etag.endsWith("\""), etag);
        assertEquals(String.valueOf(content.length()), r.headers().firstValue("Content-Length").orElse(null));
        assertEquals("bytes", r.headers().firstValue("Accept-Ranges").orElse(null));

        HttpResponse<String> h = s.head(url);
        assertEquals(200, h.statusCode());
        assertEquals("", h.body());
        assertEquals(String.valueOf(content.length()), h.headers().firstValue("Content-Length").orElse(null));
        assertEquals("sha256:" + hex, h.headers().firstValue("Digest").orElse(null));

        HttpResponse<String> nm = Api.get(s, url, "If-None-Match", etag);
        assertEquals(304, nm.statusCode());
        assertEquals("", nm.body());
        assertEquals(304, Api.get(s, url, "If-None-Match", "\"other\", " + etag).statusCode());
        assertEquals(304, Api.get(s, url, "If-None-Match", "*").statusCode());
        HttpResponse<String> other = Api.get(s, url, "If-None-Match", "\"" + "0".repeat(64) + "\"");
        assertEquals(200, other.statusCode());
        assertEquals(content, other.body());
    }

    @Test
    void ranges() throws Exception {
        String content = "0123456789";
        String url = job() + "deb/digits";
        upload201(s, url, content);
        record Case(String range, String body, String contentRange) {
        }
        for (Case c : List.of(new Case("bytes=2-5", "2345", "bytes 2-5/10"),
                new Case("bytes=0-0", "0", "bytes 0-0/10"),
                new Case("bytes=7-", "789", "bytes 7-9/10"),
                new Case("bytes=-3", "789", "bytes 7-9/10"),
                new Case("bytes=-30", "0123456789", "bytes 0-9/10"),
                new Case("bytes=8-100", "89", "bytes 8-9/10"))) {
            HttpResponse<String> r = Api.get(s, url, "Range", c.range());
            assertEquals(206, r.statusCode(), c.range());
            assertEquals(c.body(), r.body(), c.range());
            assertEquals(c.contentRange(), r.headers().firstValue("Content-Range").orElse(null), c.range());
            assertEquals(String.valueOf(c.body().length()), r.headers().firstValue("Content-Length").orElse(null));
        }
        for (String bad : List.of("bytes=10-", "bytes=50-60")) {
            HttpResponse<String> r = Api.get(s, url, "Range", bad);
            assertEquals(416, r.statusCode(), bad);
            assertEquals("bytes */10", r.headers().firstValue("Content-Range").orElse(null));
        }
        HttpResponse<String> head = s.head(url, "Range", "bytes=2-5");
        assertEquals(206, head.statusCode());
        assertEquals("", head.body());
        assertEquals("4", head.headers().firstValue("Content-Length").orElse(null));
    }

    @Test
    void bigFileWholeAndRanges() throws Exception {
        byte[] data = new byte[3 * 1024 * 1024 + 123];
        new java.util.Random(42).nextBytes(data);
        String url = job() + "iso/big.iso";
        HttpResponse<String> up = put(s, url, data, "Digest", TestServer.digest(data));
        assertEquals(201, up.statusCode(), up.body());
        HttpResponse<byte[]> r = Api.getBytes(s, url);
        assertEquals(200, r.statusCode());
        assertArrayEquals(data, r.body());
        int from = 1_000_001;
        int to = 2_500_000;
        r = Api.getBytes(s, url, "Range", "bytes=" + from + "-" + to);
        assertEquals(206, r.statusCode());
        assertArrayEquals(java.util.Arrays.copyOfRange(data, from, to + 1), r.body());
        r = Api.getBytes(s, url, "Range", "bytes=-1000");
        assertArrayEquals(java.util.Arrays.copyOfRange(data, data.length - 1000, data.length), r.body());
    }

    @Test
    void missingFilesAndFolders() throws Exception {
        String url = job();
        upload201(s, url + "deb/sub/a", "a");
        assertError(s.get(url + "deb/nothing"), 404, null);
        assertEquals(404, s.head(url + "deb/nothing").statusCode());
        assertError(s.get(url + "deb/sub"), 404, null);
        assertError(s.get(url + "deb/sub/"), 404, null);
        assertError(s.get(url + "nofmt/a"), 404, null);
        assertError(s.get(url.replace("/job/", "/nojob/") + "deb/sub/a"), 404, null);
        // methods other than GET, HEAD, PUT
        HttpResponse<String> r = s.delete(url + "deb/sub/a");
        assertError(r, 405, null);
        assertTrue(r.headers().firstValue("Allow").isPresent());
        assertTrue(Files.exists(dir(url).resolve("deb/sub/a")));
    }

    @Test
    void sendfileHeader() throws Exception {
        try (TestServer x = TestServer.start(Map.of("DLREPO_X_SENDFILE_HEADER", "X-Accel-Redirect"))) {
            String url = "/branches/main/t/job/deb/a/file.txt";
            upload201(x, url, "content to send");
            HttpResponse<String> r = x.get(url);
            assertEquals(200, r.statusCode());
            assertEquals("", r.body());
            Path expected = x.root().toAbsolutePath().normalize().resolve("branches/main/t/job/deb/a/file.txt");
            assertEquals(expected.toString(), r.headers().firstValue("X-Accel-Redirect").orElse(null));
            assertTrue(Files.isRegularFile(Path.of(r.headers().firstValue("X-Accel-Redirect").get())));
            assertEquals("sha256:" + Api.sha256("content to send"), r.headers().firstValue("Digest").orElse(null));
            assertError(x.get("/branches/main/t/job/deb/a/missing"), 404, null);
        }
    }
}
