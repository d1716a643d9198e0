package dlrepo.publish;

import static dlrepo.Check.assertError;
import static dlrepo.Check.assertStatus;
import static dlrepo.Check.ok;
import static dlrepo.Check.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.Caller;
import dlrepo.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Releasing publishes a tag to every server of DLREPO_PUBLISH_URL through their HTTP API
 * (publish.md): what arrives there, what is skipped, the statuses, the errors.
 */
class PublishTest {
    static Sites sites;

    @BeforeAll
    static void setUp() throws Exception {
        sites = Sites.start("DLREPO_INTERNAL_FORMAT_FILTER", "debug", "DLREPO_PUBLISH_MAX_REQUESTS", "3");
    }

    @AfterAll
    static void tearDown() throws Exception {
        sites.close();
    }

    // ------------------------------------------------------------------ building tags

    static String enc(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static String path(String... segments) {
        StringBuilder b = new StringBuilder("/branches");
        for (String s : segments) {
            for (String part : s.split("/", -1)) {
                b.append('/').append(enc(part));
            }
        }
        return b.toString();
    }

    static void put(Caller c, String b, String t, String job, String fmt, String rel, byte[] data) throws Exception {
        assertStatus(201, c.upload(path(b, t, job, fmt, rel), data));
    }

    /** Tag {@code t} of branch {@code b} with one locked job {@code j} holding {@code deb/a.deb}. */
    static void oneLockedJob(Caller c, String b) throws Exception {
        put(c, b, "t", "j", "deb", "a.deb", "a".getBytes(StandardCharsets.UTF_8));
        finalizeFormat(c, b, "t", "j", "deb");
        lock(c, b, "t", "j", true);
    }

    static void finalizeFormat(Caller c, String b, String t, String job, String fmt) throws Exception {
        assertStatus(200, c.send("PATCH", path(b, t, job, fmt) + "/"));
    }

    static void lock(Caller c, String b, String t, String job, boolean locked) throws Exception {
        ok(c.json("PUT", path(b, t, job) + "/", "{\"job\": {\"locked\": " + locked + "}}"));
    }

    static byte[] random(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    static final byte[] SHARED = random(300_000, 1);

    /**
     * A tag with three locked jobs (one with a space and accents in its name), nested
     * paths, odd file names, an empty file, a file shared by two jobs, an internal format
     * ({@code debug}), and an unlocked job.
     */
    static void buildTag(Caller c, String b, String t) throws Exception {
        put(c, b, t, "app", "deb", "pool/main/a b+c%d.deb", SHARED);
        put(c, b, t, "app", "deb", "ünïcödé/ф & = ?.txt", "unicode".getBytes(StandardCharsets.UTF_8));
        put(c, b, t, "app", "deb", "empty", new byte[0]);
        finalizeFormat(c, b, t, "app", "deb");
        put(c, b, t, "app", "doc", "a/b/c/index.html", "<p>doc</p>".getBytes(StandardCharsets.UTF_8));
        finalizeFormat(c, b, t, "app", "doc");
        put(c, b, t, "app", "debug", "app.dbg", "symbols".getBytes(StandardCharsets.UTF_8));
        finalizeFormat(c, b, t, "app", "debug");
        ok(c.json("PATCH", path(b, t, "app") + "/",
                "{\"job\": {\"arch\": \"x86_64\", \"flag\": \"false\", \"Mixed\": \"CaseValue\", \"n\": 3}}"));
        lock(c, b, t, "app", true);

        put(c, b, t, "lib", "deb", "lib.deb", SHARED);
        put(c, b, t, "lib", "deb", "other.deb", random(70_000, 2));
        finalizeFormat(c, b, t, "lib", "deb");
        lock(c, b, t, "lib", true);

        put(c, b, t, "jöb two", "iso", "disk image.iso", random(100_000, 3));
        finalizeFormat(c, b, t, "jöb two", "iso");
        lock(c, b, t, "jöb two", true);

        put(c, b, t, "wip", "deb", "wip.deb", "not locked".getBytes(StandardCharsets.UTF_8));
        finalizeFormat(c, b, t, "wip", "deb");
    }

    /** The files of the internal tag that are to be published: locked jobs, formats not internal. */
    static TreeMap<String, String> publishable(TestServer internal, String b, String t, List<String> jobs)
            throws Exception {
        TreeMap<String, String> all = Sites.tree(internal, b, t);
        all.keySet().removeIf(p -> {
            String[] parts = p.split("/");
            return !jobs.contains(parts[3]) || parts[4].equals("debug");
        });
        return all;
    }

    static Object fileKey(Path p) throws IOException {
        return Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
    }

    // ------------------------------------------------------------------ tests

    @Test
    void releasePublishesLockedJobsEverywhereAndUnreleaseRemovesThem() throws Exception {
        String b = unique("pub");
        String t = "t1";
        TestServer internal = sites.internal();
        Caller ci = sites.ci();
        buildTag(ci, b, t);
        put(ci, b, t, "secret", "deb", "s.deb", "secret soon".getBytes(StandardCharsets.UTF_8));
        finalizeFormat(ci, b, t, "secret", "deb");
        lock(ci, b, t, "secret", true);

        ok(sites.release(b, t, true));
        List<String> seen = new ArrayList<>();
        String status = "";
        long deadline = System.currentTimeMillis() + 60_000;
        while (!status.startsWith("published") && !status.startsWith("error") && System.currentTimeMillis() < deadline) {
            JsonNode st = sites.tag(b, t).get("publish_status");
            status = st.isNull() ? "" : st.asText();
            if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(status)) {
                seen.add(status);
            }
            Thread.sleep(5);
        }
        assertEquals("published to " + sites.publishUrl(), status, seen.toString());
        // the pages show it too: the tag's header and its row on the branch page
        for (String page : List.of(path(b, t) + "/", path(b) + "/")) {
            HttpResponse<String> html = ci.send(ci.request(page).header("Accept", "text/html").build());
            assertEquals(200, html.statusCode(), page);
            assertTrue(html.body().contains("published to " + sites.publishUrl()), page + ": " + html.body());
        }
        int stage = 0;
        for (String s : seen) {
            int st = s.equals("in progress") ? 0
                    : s.matches("uploading (app|lib|jöb two|secret) to http://127\\.0\\.0\\.1:\\d+") ? 1
                    : s.startsWith("published to ") ? 2 : -1;
            assertTrue(st >= stage, "statuses out of order or unknown: " + seen);
            stage = st;
        }

        List<String> jobs = List.of("app", "lib", "jöb two", "secret");
        TreeMap<String, String> expected = publishable(internal, b, t, jobs);
        assertEquals(8, expected.size(), expected.toString());
        for (TestServer site : sites.publics()) {
            assertEquals(expected, Sites.tree(site, b, t), "files on " + Sites.url(site));
            for (String job : jobs) {
                JsonNode remote = Sites.remoteJob(site, b, t, job);
                JsonNode local = sites.ci().ok(path(b, t, job) + "/").get("job");
                assertTrue(remote.get("locked").asBoolean(), job);
                assertEquals(local.get("digest").asText(), remote.get("digest").asText(), job);
                assertFalse(remote.get("digest").asText().isEmpty());
            }
            JsonNode app = Sites.remoteJob(site, b, t, "app");
            assertEquals("x86_64", app.get("arch").asText());
            assertEquals("false", app.get("flag").asText());
            assertEquals("CaseValue", app.get("Mixed").asText());
            assertEquals("3", app.get("n").asText());
            assertNull(Sites.remoteJob(site, b, t, "wip"), "an unlocked job is not published");
            assertStatus(404, Sites.publisher(site).head(path(b, t, "app", "debug") + "/"));
            // the remote tag is neither locked nor released (an unrelease must be able to delete it)
            JsonNode rt = Sites.publisher(site).ok(path(b, t) + "/").get("tag");
            assertFalse(rt.get("released").asBoolean() || rt.get("locked").asBoolean());
        }
        Path tagDir = internal.root().resolve("branches").resolve(b).resolve(t);
        assertTrue(Files.exists(tagDir.resolve(".released")));
        for (String job : jobs) {
            assertTrue(Files.exists(tagDir.resolve(job).resolve(".released")), job);
        }
        assertFalse(Files.exists(tagDir.resolve("wip/.released")));
        JsonNode tagJson = sites.tag(b, t);
        assertTrue(tagJson.get("released").asBoolean());

        // again: every job is there with the same digest, nothing is sent (the remote
        // folders are the same ones: a job sent again would be deleted and made anew)
        Map<String, Object> keys = new java.util.HashMap<>();
        for (TestServer site : sites.publics()) {
            for (String job : jobs) {
                Path dir = site.root().resolve("branches").resolve(b).resolve(t).resolve(job);
                keys.put(dir.toString(), fileKey(dir.resolve(".locked")));
            }
        }
        ok(sites.release(b, t, true));
        assertEquals("published to " + sites.publishUrl(), sites.awaitStatus(b, t, "published", 60_000));
        for (Map.Entry<String, Object> e : keys.entrySet()) {
            assertEquals(e.getValue(), fileKey(Path.of(e.getKey()).resolve(".locked")), e.getKey() + " was sent again");
        }

        // a job made internal since is deleted on the remotes and no longer released
        lock(ci, b, t, "secret", false);
        ok(ci.json("PUT", path(b, t, "secret") + "/", "{\"job\": {\"internal\": true}}"));
        lock(ci, b, t, "secret", true);
        ok(sites.release(b, t, true));
        sites.awaitStatus(b, t, "published", 60_000);
        for (TestServer site : sites.publics()) {
            assertNull(Sites.remoteJob(site, b, t, "secret"));
            assertEquals(publishable(internal, b, t, List.of("app", "lib", "jöb two")), Sites.tree(site, b, t));
        }
        assertFalse(Files.exists(tagDir.resolve("secret/.released")));

        // unrelease: deleted everywhere, flags and status cleared
        ok(sites.release(b, t, false));
        for (TestServer site : sites.publics()) {
            assertStatus(404, Sites.publisher(site).get(path(b, t) + "/"));
            assertTrue(Sites.tree(site, b, t).isEmpty());
        }
        tagJson = sites.tag(b, t);
        assertFalse(tagJson.get("released").asBoolean());
        assertTrue(tagJson.get("publish_status").isNull());
        for (JsonNode j : tagJson.get("jobs")) {
            assertFalse(j.get("released").asBoolean(), j.toString());
        }
        // unreleasing again: the remotes answer 404, fine
        ok(sites.release(b, t, false));
    }

    @Test
    void nothingToPublish() throws Exception {
        String b = unique("none");
        Caller ci = sites.ci();
        put(ci, b, "t", "wip", "deb", "a.deb", "a".getBytes(StandardCharsets.UTF_8));
        finalizeFormat(ci, b, "t", "wip", "deb");
        ok(sites.release(b, "t", true));
        assertEquals("error: nothing to publish: no locked job", sites.awaitStatus(b, "t", "error", 30_000));
        assertFalse(sites.tag(b, "t").get("released").asBoolean());
        for (TestServer site : sites.publics()) {
            assertTrue(Sites.tree(site, b, null).isEmpty());
        }
    }

    @Test
    void wrongPasswordIsAnErrorNamingTheStatus() throws Exception {
        String b = unique("pw");
        Caller ci = sites.ci();
        oneLockedJob(ci, b);
        Files.writeString(sites.publishAuth, Sites.LOGIN + ":wrong\n");
        try {
            ok(sites.release(b, "t", true));
            String status = sites.awaitStatus(b, "t", "error", 30_000);
            assertTrue(status.startsWith("error: " + Sites.url(sites.public1) + ": GET " + "/branches/" + b
                    + "/t/j/: 401"), status);
            assertFalse(sites.tag(b, "t").get("released").asBoolean());
        } finally {
            Files.writeString(sites.publishAuth, Sites.LOGIN + ":" + Sites.PASSWORD + "\n");
        }
        // the file is read at each run: the right password works without a restart
        ok(sites.release(b, "t", true));
        sites.awaitStatus(b, "t", "published", 30_000);
        assertTrue(sites.tag(b, "t").get("released").asBoolean());
    }

    @Test
    void unreleaseWithARemoteDownFailsAndTheTagStaysReleased() throws Exception {
        try (Sites own = Sites.start()) {
            String b = unique("down");
            Caller ci = own.ci();
            oneLockedJob(ci, b);
            ok(own.release(b, "t", true));
            own.awaitStatus(b, "t", "published", 30_000);
            String url2 = Sites.url(own.public2);
            own.public2.stop();

            String msg = assertError(own.release(b, "t", false), 502, "cannot unpublish from " + url2 + ": cannot connect: connection refused");
            JsonNode tag = own.tag(b, "t");
            assertTrue(tag.get("released").asBoolean(), "the tag stays released");
            assertEquals("error: " + msg, tag.get("publish_status").asText());
            assertTrue(tag.get("jobs").get(0).get("released").asBoolean());
            // a released tag cannot be deleted: it would stay on the server that was down
            assertError(ci.delete(path(b, "t") + "/"), 400, "released");
        }
    }

    /** A fake remote: records each request head, then answers {@code response} (or nothing if null). */
    static final class FakeRemote implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final List<String> heads = new CopyOnWriteArrayList<>();
        final List<Socket> sockets = new CopyOnWriteArrayList<>();

        FakeRemote(String response) throws IOException {
            Thread t = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        sockets.add(s);
                        InputStream in = s.getInputStream();
                        ByteArrayOutputStream head = new ByteArrayOutputStream();
                        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                            int c = in.read();
                            if (c < 0) {
                                break;
                            }
                            head.write(c);
                        }
                        heads.add(head.toString(StandardCharsets.ISO_8859_1));
                        if (response != null) {
                            OutputStream out = s.getOutputStream();
                            out.write(response.getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                        }
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "fake-remote");
            t.setDaemon(true);
            t.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    private static String lockedTag(TestServer internal, String b) throws Exception {
        Caller ci = internal.as("ci", "ci-pw");
        oneLockedJob(ci, b);
        return b;
    }

    private static String awaitError(TestServer internal, String b) throws Exception {
        Caller ci = internal.as("ci", "ci-pw");
        String[] status = {""};
        assertTrue(dlrepo.Check.eventually(30_000, () -> {
            try {
                JsonNode s = ci.ok(path(b, "t") + "/").get("tag").get("publish_status");
                status[0] = s.isNull() ? "" : s.asText();
                return status[0].startsWith("error");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }), () -> "status: " + status[0]);
        return status[0];
    }

    @Test
    void timeoutIsAnErrorNamingTheSetting() throws Exception {
        try (FakeRemote hang = new FakeRemote(null);
                TestServer internal = sites.startInternal("DLREPO_PUBLISH_URL", hang.url(), "DLREPO_PUBLISH_TIMEOUT", "2")) {
            String b = lockedTag(internal, unique("slow"));
            long start = System.nanoTime();
            ok(internal.as("ci", "ci-pw").json("POST", path(b, "t") + "/", "{\"tag\": {\"released\": true}}"));
            assertEquals("error: " + hang.url() + ": timed out after 2 s (DLREPO_PUBLISH_TIMEOUT)", awaitError(internal, b));
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20));
            // what a remote sees: the agent its container rule knows, preemptive Basic auth
            String head = hang.heads.get(0);
            assertTrue(head.startsWith("GET /branches/" + b + "/t/j/ HTTP/1.1\r\n"), head);
            assertTrue(head.contains("\r\nUser-Agent: dlrepo-server/"), head);
            assertTrue(head.contains("\r\nAuthorization: " + Caller.basicHeader(Sites.LOGIN, Sites.PASSWORD) + "\r\n"),
                    head);
            assertFalse(head.toLowerCase(java.util.Locale.ROOT).contains("upgrade"), "HTTP/1.1 only: " + head);
        }
    }

    @Test
    void redirectsAreNotFollowed() throws Exception {
        String answer = "HTTP/1.1 302 Found\r\nLocation: http://elsewhere.example/x\r\nContent-Length: 0\r\n\r\n";
        try (FakeRemote moved = new FakeRemote(answer);
                TestServer internal = sites.startInternal("DLREPO_PUBLISH_URL", moved.url())) {
            String b = lockedTag(internal, unique("redir"));
            ok(internal.as("ci", "ci-pw").json("POST", path(b, "t") + "/", "{\"tag\": {\"released\": true}}"));
            String status = awaitError(internal, b);
            assertTrue(status.startsWith("error: " + moved.url() + ": GET /branches/" + b + "/t/j/: 302 redirected to "
                    + "http://elsewhere.example/x"), status);
            assertEquals(1, moved.heads.size(), "not followed");
        }
    }

    @Test
    void filterCommandChoosesTheServersFromTheTagFolder() throws Exception {
        Path dir = Files.createTempDirectory("dlrepo-filter-");
        Path script = dir.resolve("filter");
        Path log = dir.resolve("log");
        String url2 = Sites.url(sites.public2);
        Files.writeString(script, "#!/bin/sh\necho \"$PWD $1\" >> " + log + "\n[ \"$1\" = \"" + url2 + "\" ]\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (TestServer internal = sites.startInternal("DLREPO_PUBLISH_FILTER_CMD", script.toString())) {
            String b = lockedTag(internal, unique("filter"));
            Caller ci = internal.as("ci", "ci-pw");
            ok(ci.json("POST", path(b, "t") + "/", "{\"tag\": {\"released\": true}}"));
            String status = "";
            long deadline = System.currentTimeMillis() + 30_000;
            while (!status.startsWith("published") && !status.startsWith("error") && System.currentTimeMillis() < deadline) {
                JsonNode s = ci.ok(path(b, "t") + "/").get("tag").get("publish_status");
                status = s.isNull() ? "" : s.asText();
                Thread.sleep(10);
            }
            assertEquals("published to " + sites.publishUrl(), status);
            assertTrue(Sites.tree(sites.public1, b, null).isEmpty(), "refused by the filter");
            assertEquals(1, Sites.tree(sites.public2, b, null).size());
            Path tagDir = internal.root().resolve("branches").resolve(b).resolve("t").toRealPath();
            assertEquals(List.of(tagDir + " " + Sites.url(sites.public1), tagDir + " " + url2), Files.readAllLines(log));

            // refusing every server: nothing published
            Files.writeString(script, "#!/bin/sh\nexit 1\n");
            String b2 = lockedTag(internal, unique("filter"));
            ok(ci.json("POST", path(b2, "t") + "/", "{\"tag\": {\"released\": true}}"));
            assertEquals("error: nothing to publish: DLREPO_PUBLISH_FILTER_CMD refused every URL", awaitError(internal, b2));
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    @Test
    void statusLeftByAStoppedServerIsAnErrorAtStart() throws Exception {
        try (TestServer internal = sites.startInternal()) {
            String b = lockedTag(internal, unique("stale"));
            Path tagDir = internal.root().resolve("branches").resolve(b).resolve("t");
            internal.stop();
            Files.writeString(tagDir.resolve(".publish-status"), "uploading j to http://x\n");
            Files.createFile(tagDir.resolve(".released"));
            Map<String, String> env = sites.internalAuth.env("DLREPO_PUBLISH_URL", sites.publishUrl(),
                    "DLREPO_PUBLISH_AUTH", sites.publishAuth.toString());
            try (TestServer again = TestServer.start(internal.root(), env)) {
                assertEquals("error: interrupted: the server stopped", awaitError(again, b));
                assertFalse(Files.exists(tagDir.resolve(".released")));
            }
        }
    }

    @Test
    void cliReleaseWaitsForThePublication() throws Exception {
        String b = unique("cli");
        Caller ci = sites.ci();
        oneLockedJob(ci, b);
        Path auth = Files.createTempFile("dlrepo-cli-auth-", "");
        Files.writeString(auth, "ci:ci-pw\n");
        try {
            String[] r = cli(auth, "release", "-w", "--interval", "0.1", b, "t");
            assertEquals("0", r[0], r[2]);
            assertEquals("published to " + sites.publishUrl() + "\n", r[1], r[2]);
            for (TestServer site : sites.publics()) {
                assertEquals(1, Sites.tree(site, b, null).size());
            }
            r = cli(auth, "release", "-u", "-w", "--interval", "0.1", b, "t");
            assertEquals("0", r[0], r[2]);
            for (TestServer site : sites.publics()) {
                assertTrue(Sites.tree(site, b, null).isEmpty());
            }
            // nothing to publish: -w fails at once instead of waiting forever
            String b2 = unique("cli");
            put(ci, b2, "t", "wip", "deb", "a.deb", "a".getBytes(StandardCharsets.UTF_8));
            r = cli(auth, "release", "-w", "--interval", "0.1", b2, "t");
            assertEquals("1", r[0], r[2]);
            assertTrue(r[2].contains("nothing to publish"), r[2]);
        } finally {
            Files.deleteIfExists(auth);
        }
    }

    /** Runs dlrepo-cli against the internal server: exit status, stdout, stderr. */
    private static String[] cli(Path auth, String... args) throws Exception {
        Path project = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        List<String> cmd = new ArrayList<>(List.of("python3", project.resolve("dlrepo-cli").toString(), "-u",
                Sites.url(sites.internal())));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("DLREPO_") || k.equals("NETRC"));
        pb.environment().put("DLREPO_AUTH_FILE", auth.toString());
        pb.environment().put("PYTHONIOENCODING", "utf-8");
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Path out = Files.createTempFile("cli-out-", "");
        Path err = Files.createTempFile("cli-err-", "");
        try {
            pb.redirectOutput(out.toFile()).redirectError(err.toFile());
            Process p = pb.start();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "dlrepo-cli did not end");
            return new String[] {String.valueOf(p.exitValue()), Files.readString(out), Files.readString(err)};
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    @Test
    void publishStatusIsInProgressWhenTheReleaseAnswers() throws Exception {
        try (FakeRemote hang = new FakeRemote(null);
                TestServer internal = sites.startInternal("DLREPO_PUBLISH_URL", hang.url(), "DLREPO_PUBLISH_TIMEOUT", "3")) {
            String b = lockedTag(internal, unique("busy"));
            Caller ci = internal.as("ci", "ci-pw");
            ok(ci.json("POST", path(b, "t") + "/", "{\"tag\": {\"released\": true}}"));
            JsonNode tag = ci.ok(path(b, "t") + "/").get("tag");
            assertNotNull(tag.get("publish_status"));
            assertEquals("in progress", tag.get("publish_status").asText());
            // a second release while it runs starts nothing more; the tag cannot be deleted
            ok(ci.json("POST", path(b, "t") + "/", "{\"tag\": {\"released\": true}}"));
            assertTrue(dlrepo.Check.eventually(10_000, () -> hang.heads.size() == 1));
            Thread.sleep(300);
            assertEquals(1, hang.heads.size());
            assertError(ci.delete(path(b, "t") + "/"), 400, "being published");
            // an unrelease stops the run (the hanging remote cannot be reached: 502, released)
            assertError(ci.json("POST", path(b, "t") + "/", "{\"tag\": {\"released\": false}}"), 502,
                    "cannot unpublish from " + hang.url());
            assertTrue(ci.ok(path(b, "t") + "/").get("tag").get("released").asBoolean());
        }
    }

    @Test
    void stoppingTheServerMidRunLeavesAnInterruptedError() throws Exception {
        try (FakeRemote hang = new FakeRemote(null)) {
            TestServer internal = sites.startInternal("DLREPO_PUBLISH_URL", hang.url(), "DLREPO_PUBLISH_TIMEOUT", "60");
            try {
                String b = lockedTag(internal, unique("stop"));
                ok(internal.as("ci", "ci-pw").json("POST", path(b, "t") + "/", "{\"tag\": {\"released\": true}}"));
                assertTrue(dlrepo.Check.eventually(10_000, () -> hang.heads.size() == 1));
                long start = System.nanoTime();
                internal.stop();
                assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20), "the stop waited for the remote");
                Path tagDir = internal.root().resolve("branches").resolve(b).resolve("t");
                assertEquals("error: interrupted: the server stopped\n", Files.readString(tagDir.resolve(".publish-status")));
                assertFalse(Files.exists(tagDir.resolve(".released")));
            } finally {
                internal.close();
            }
        }
    }
}
