package dlrepo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dlrepo.TestServer;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every command of dlrepo-cli against a real daemon; usage and server errors. */
class CliCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final List<String> COMMANDS = List.of("branches", "ls", "products", "upload", "metadata", "lock",
            "release", "stable", "description", "internal", "delete", "cleanup-policy", "download", "get");

    private static TestServer s;
    private static String url;
    private static Path work;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_FSYNC", "0", "DLREPO_TAG_CLEANUP_PERIOD", "0"));
        url = "http://127.0.0.1:" + s.port();
        work = Files.createTempDirectory("dlrepo-cli-cmd-");
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
        Cli.deleteTree(work);
    }

    private static String branch() {
        return "br" + COUNTER.incrementAndGet();
    }

    private static Cli.Result cli(String... args) throws Exception {
        return Cli.run(url, args);
    }

    private static JsonNode json(Cli.Result r) throws Exception {
        return JSON.readTree(r.ok().out());
    }

    /** Uploads {@code files} (name -> text) into one format with the CLI. */
    private static void upload(String b, String t, String j, String f, Map<String, String> files) throws Exception {
        Path dir = Files.createTempDirectory(work, "up-");
        for (var e : files.entrySet()) {
            Cli.write(dir.resolve(e.getKey()), e.getValue());
        }
        cli("upload", b, t, j, f, dir.toString()).ok();
    }

    private static void assertLine(String out, String... words) {
        assertTrue(out.lines().anyMatch(l -> {
            for (String w : words) {
                if (!l.contains(w)) {
                    return false;
                }
            }
            return true;
        }), () -> "no line with " + List.of(words) + " in:\n" + out);
    }

    @Test
    void help() throws Exception {
        Cli.Result r = cli("--help").ok();
        for (String c : COMMANDS) {
            assertTrue(r.out().contains(c), c + " missing from --help:\n" + r.out());
        }
        for (String opt : List.of("--url", "--json", "--verbose", "--user-repo", "DLREPO_URL", "DLREPO_AUTH_FILE")) {
            assertTrue(r.out().contains(opt), opt + " missing from --help");
        }
        for (String c : COMMANDS) {
            Cli.Result h = cli(c, "--help").ok();
            assertTrue(h.out().startsWith("usage: dlrepo-cli " + c), h.all());
        }
        assertTrue(cli("upload", "--help").out().contains("--no-finalize"));
        assertTrue(cli("release", "--help").out().contains("--wait"));
        assertTrue(cli("download", "--help").out().contains("--output"));
        assertTrue(cli("cleanup-policy", "--help").out().contains("MAX_RELEASED"));
    }

    @Test
    void usageErrorsExit2() throws Exception {
        Path file = work.resolve("u.txt");
        Cli.write(file, "u");
        List<List<String>> cases = List.of(
                List.of(),
                List.of("frobnicate"),
                List.of("upload", "main", "t", "j"),
                List.of("upload", "main", "t", "j", "f", work.resolve("does-not-exist").toString()),
                List.of("upload", "-p", "0", "main", "t", "j", "f", file.toString()),
                List.of("upload", "-p", "x", "main", "t", "j", "f", file.toString()),
                List.of("upload", "main", "t", "j", "f", file.toString(), work.resolve("u.txt").toString() + "/"),
                List.of("ls", "a/b"),
                List.of("ls", "main", ".hidden"),
                List.of("ls", "main", ""),
                List.of("metadata", "main", "t", "j", "novalue"),
                List.of("metadata", "main", "t", "j", "=value"),
                List.of("cleanup-policy", "-d", "-1", "main"),
                List.of("cleanup-policy", "-r", "many", "main"),
                List.of("lock"),
                List.of("delete"),
                List.of("get", "http://elsewhere/branches/"),
                List.of("--user-repo", "a/b", "branches"),
                List.of("-u", "ftp://127.0.0.1/", "branches"),
                List.of("-u", "http://alice:secret@127.0.0.1:1/", "branches"));
        for (List<String> args : cases) {
            Cli.Result r = cli(args.toArray(String[]::new));
            assertEquals(2, r.exit(), () -> args + "\n" + r.all());
            assertTrue(r.err().contains("error"), () -> args + ": no message\n" + r.all());
        }
        // the same file twice under one name
        Path other = work.resolve("other");
        Cli.write(other.resolve("u.txt"), "v");
        Cli.Result r = cli("upload", "main", "t", "j", "f", file.toString(), other.toString()).exit(2);
        assertTrue(r.err().contains("u.txt"), r.all());
    }

    @Test
    void serverErrorsExit1WithTheServerMessage() throws Exception {
        String b = branch();
        Cli.Result r = cli("ls", b).exit(1);
        assertTrue(r.err().contains("404") && r.err().contains("Branch " + b + " not found"), r.all());
        upload(b, "t1", "job", "deb", Map.of("a.txt", "a"));
        cli("lock", b, "t1").ok();
        r = cli("delete", b, "t1").exit(1);
        assertTrue(r.err().contains("400") && r.err().contains("Tag t1 is locked"), r.all());
        r = cli("ls", b, "t1", "job", "rpm").exit(1);
        assertTrue(r.err().contains("Format rpm not found"), r.all());
        r = cli("get", "/branches/" + b + "/t1/nojob/").exit(1);
        assertTrue(r.err().contains("404"), r.all());
        // nobody listening
        try (ServerSocket free = new ServerSocket(0)) {
            int port = free.getLocalPort();
            free.close();
            r = Cli.run("http://127.0.0.1:" + port, "branches").exit(1);
            assertTrue(r.err().contains("127.0.0.1:" + port) && r.err().contains("refused"), r.all());
        }
    }

    @Test
    void branchesLsAndJson() throws Exception {
        String b = branch();
        upload(b, "v1", "build", "deb", Map.of("x.deb", "x", "sub/y.deb", "y"));
        upload(b, "v1", "build", "doc", Map.of("index.html", "<html/>"));
        upload(b, "v2", "test", "log", Map.of("log.txt", "ok"));
        cli("metadata", b, "v1", "build", "arch=x86_64", "Distro=Debian").ok();
        cli("lock", b, "v1").ok();
        cli("stable", b, "v1").ok();
        cli("description", b, "v1", "First release, ünïcödé").ok();

        Cli.Result r = cli("branches").ok();
        assertTrue(r.out().startsWith("BRANCH"), r.out());
        assertLine(r.out(), b, "1", "all");
        JsonNode j = json(cli("-j", "branches"));
        JsonNode mine = null;
        for (JsonNode n : j.get("branches")) {
            if (n.get("name").asText().equals(b)) {
                mine = n;
            }
        }
        assertEquals(2, mine.get("daily_tags").asInt());
        assertEquals(1, mine.get("locked_tags").asInt());
        assertEquals(1, mine.get("stable_tags").asInt());
        assertEquals(cli("branches").out(), cli("ls").out(), "ls without arguments lists branches");

        r = cli("ls", b).ok();
        assertLine(r.out(), "TAG", "CREATED", "FLAGS", "DESCRIPTION");
        assertLine(r.out(), "v1", "locked,stable", "First release, ünïcödé");
        assertTrue(r.out().lines().anyMatch(l -> l.matches("v1\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+.*")),
                r.out());
        assertLine(r.out(), "v2", "-");
        assertEquals("v1", json(cli("ls", "-j", b)).get("branch").get("tags").get(0).get("name").asText());

        r = cli("ls", b, "v1").ok();
        assertLine(r.out(), "build", "arch=x86_64", "Distro=Debian");
        assertEquals("x86_64", json(cli("-j", "ls", b, "v1")).get("tag").get("jobs").get(0).get("arch").asText());

        r = cli("ls", b, "v1", "build").ok();
        assertLine(r.out(), "job:", "build");
        assertLine(r.out(), "arch=x86_64");
        assertLine(r.out(), "deb", "2");
        assertLine(r.out(), "doc", "1");
        assertEquals(2, json(cli("ls", b, "v1", "build", "-j")).get("job").get("artifact_formats").size());

        r = cli("ls", b, "v1", "build", "deb").ok();
        assertEquals("sub/y.deb\nx.deb\n".lines().sorted().toList(), r.out().lines().sorted().toList());
        assertEquals(2, json(cli("-j", "ls", b, "v1", "build", "deb")).get("artifact_format").get("files").size());

        // aliases for reads: latest is v2 (newest), stable is v1
        assertLine(cli("ls", b, "latest").ok().out(), "test");
        assertLine(cli("ls", b, "stable").ok().out(), "build");
        // upper case names are redirected to the lower case ones
        assertLine(cli("ls", b.toUpperCase(), "V1").ok().out(), "build");

        // get: any path, as JSON
        JsonNode g = json(cli("get", "/branches/" + b + "/v1/build/deb/"));
        assertEquals("deb", g.get("artifact_format").get("name").asText());
        assertTrue(cli("get", "branches/" + b + "/v1/build/deb.sha256").ok().out().contains("  x.deb"));
    }

    @Test
    void metadataLockInternalStableDescription() throws Exception {
        String b = branch();
        upload(b, "t", "j", "deb", Map.of("a.deb", "a"));
        cli("metadata", b, "t", "j", "k1=v1", "k2=Mixed Case", "k3=three").ok();
        Cli.Result r = cli("metadata", b, "t", "j").ok();
        assertEquals("k1=v1\nk2=Mixed Case\nk3=three\n", r.out());
        cli("metadata", b, "t", "j", "k3=").ok();
        assertEquals("k1=v1\nk2=Mixed Case\n", cli("metadata", b, "t", "j").ok().out());
        assertEquals("v1", json(cli("-j", "metadata", b, "t", "j")).get("job").get("k1").asText());

        // lock a job: metadata can no longer change
        cli("lock", b, "t", "j").ok();
        JsonNode job = JSON.readTree(s.get("/branches/" + b + "/t/j/").body()).get("job");
        assertTrue(job.get("locked").asBoolean());
        assertFalse(job.get("digest").asText().isEmpty());
        r = cli("metadata", b, "t", "j", "k1=other").exit(1);
        assertTrue(r.err().contains("Job is locked"), r.all());
        cli("lock", "-u", b, "t", "j").ok();
        assertFalse(JSON.readTree(s.get("/branches/" + b + "/t/j/").body()).get("job").get("locked").asBoolean());

        cli("internal", b, "t", "j").ok();
        assertTrue(JSON.readTree(s.get("/branches/" + b + "/t/j/").body()).get("job").get("internal").asBoolean());
        assertLine(cli("ls", b, "t").ok().out(), "j", "internal");
        cli("internal", "-u", b, "t", "j").ok();
        assertFalse(JSON.readTree(s.get("/branches/" + b + "/t/j/").body()).get("job").get("internal").asBoolean());

        // tags
        cli("lock", b, "t").ok();
        cli("stable", b, "t").ok();
        JsonNode tag = JSON.readTree(s.get("/branches/" + b + "/t/").body()).get("tag");
        assertTrue(tag.get("locked").asBoolean() && tag.get("stable").asBoolean());
        cli("lock", "--unlock", b, "t").ok();
        cli("stable", "-u", b, "t").ok();
        tag = JSON.readTree(s.get("/branches/" + b + "/t/").body()).get("tag");
        assertFalse(tag.get("locked").asBoolean() || tag.get("stable").asBoolean());

        assertEquals("", cli("description", b, "t").ok().out());
        cli("description", b, "t", "Line with ünïcödé").ok();
        assertEquals("Line with ünïcödé\n", cli("description", b, "t").ok().out());
        assertEquals("Line with ünïcödé", json(cli("-j", "description", b, "t")).get("tag").get("description").asText());
        cli("description", b, "t", "").ok();
        assertEquals("", cli("description", b, "t").ok().out());
    }

    @Test
    void releaseWithoutPublishSettings() throws Exception {
        String b = branch();
        upload(b, "t", "j", "deb", Map.of("a.deb", "a"));
        Cli.Result r = cli("release", b, "t").exit(1);
        assertTrue(r.err().contains("421") && r.err().contains("DLREPO_PUBLISH_URL"), r.all());
        cli("release", "-u", b, "t").ok();
        cli("release", "-u", "-w", "--interval", "0.1", b, "t").ok();
    }

    @Test
    void cleanupPolicy() throws Exception {
        String b = branch();
        upload(b, "t", "j", "deb", Map.of("a.deb", "a"));
        assertEquals("max_daily_tags: 0 (keep all)\nmax_released_tags: 0 (keep all)\n",
                cli("cleanup-policy", b).ok().out());
        cli("cleanup-policy", "-d", "5", "-r", "2", b).ok();
        assertEquals("max_daily_tags: 5\nmax_released_tags: 2\n", cli("cleanup-policy", b).ok().out());
        cli("cleanup-policy", "--max-released", "0", b).ok();
        JsonNode p = json(cli("-j", "cleanup-policy", b));
        assertEquals(5, p.get("max_daily_tags").asInt());
        assertEquals(0, p.get("max_released_tags").asInt());
        assertLine(cli("branches").ok().out(), b, "5", "all");
    }

    @Test
    void deleteEveryLevel() throws Exception {
        String b = branch();
        upload(b, "t1", "j1", "deb", Map.of("a.deb", "a"));
        upload(b, "t1", "j1", "rpm", Map.of("a.rpm", "a"));
        upload(b, "t1", "j2", "deb", Map.of("b.deb", "b"));
        upload(b, "t2", "j1", "deb", Map.of("c.deb", "c"));
        cli("delete", b, "t1", "j1", "rpm").ok();
        assertEquals(404, s.get("/branches/" + b + "/t1/j1/rpm/").statusCode());
        assertEquals(200, s.get("/branches/" + b + "/t1/j1/deb/").statusCode());
        cli("delete", b, "t1", "j2").ok();
        assertEquals(404, s.get("/branches/" + b + "/t1/j2/").statusCode());
        cli("delete", b, "t1").ok();
        assertEquals(404, s.get("/branches/" + b + "/t1/").statusCode());
        assertEquals(200, s.get("/branches/" + b + "/t2/").statusCode());
        cli("delete", b).ok();
        assertEquals(404, s.get("/branches/" + b + "/").statusCode());
        Cli.Result r = cli("delete", b).exit(1);
        assertTrue(r.err().contains("404"), r.all());
    }

    @Test
    void products() throws Exception {
        String b = branch();
        upload(b, "t", "j", "deb", Map.of("p.deb", "p"));
        String product = "prod" + b;
        cli("metadata", b, "t", "j", "product=" + product, "product_variant=Server", "product_branch=main",
                "version=1.2").ok();
        assertLine(cli("products").ok().out(), product);
        assertEquals("server\n", cli("products", product).ok().out());
        assertEquals("main\n", cli("products", product, "server").ok().out());
        Cli.Result r = cli("products", product, "server", "main").ok();
        assertLine(r.out(), "VERSION", "CREATED", "FLAGS");
        assertLine(r.out(), "1.2");
        assertEquals("deb\n", cli("products", product, "server", "main", "1.2").ok().out());
        assertEquals("deb\n", cli("products", product, "server", "main", "latest").ok().out());
        JsonNode v = json(cli("-j", "products", product, "server", "main", "1.2"));
        assertEquals("1.2", v.get("version").get("name").asText());
        assertTrue(json(cli("products", "-j")).get("products").toString().contains("\"" + product + "\""));
    }

    @Test
    void uploadOptions() throws Exception {
        String b = branch();
        Path dir = work.resolve("opts-" + b);
        Cli.write(dir.resolve("d1/x.txt"), "x");
        Cli.write(dir.resolve("d2/y.txt"), "y");
        Cli.write(dir.resolve("single.bin"), "single");
        // -x: the format stays dirty; files of several arguments, a file under its name
        Cli.Result r = cli("upload", "-x", "-p", "1", b, "t", "j", "mixed", dir.resolve("d1").toString(),
                dir.resolve("d2").toString(), dir.resolve("single.bin").toString()).ok();
        JsonNode f = JSON.readTree(s.get("/branches/" + b + "/t/j/mixed/").body()).get("artifact_format");
        assertTrue(f.get("dirty").asBoolean(), r.all());
        assertEquals(List.of("single.bin", "x.txt", "y.txt"),
                JSON.convertValue(f.get("files"), List.class).stream().sorted().toList());
        assertEquals(404, s.head("/branches/" + b + "/t/j/mixed/").statusCode());
        // a second run finalizes
        cli("upload", "--parallel", "8", b, "t", "j", "mixed", dir.resolve("single.bin").toString()).ok();
        assertEquals(200, s.head("/branches/" + b + "/t/j/mixed/").statusCode());

        // DLREPO_URL when -u is not given; -v logs every request
        Cli.write(dir.resolve("new.bin"), "content never uploaded before " + b);
        r = Cli.run(null, Map.of("DLREPO_URL", url), "-v", "upload", b, "t", "j", "env",
                dir.resolve("new.bin").toString()).ok();
        assertTrue(r.err().contains("HEAD " + url + "/branches/" + b + "/t/j/env/new.bin -> 404"), r.all());
        assertTrue(r.err().contains("PUT " + url + "/branches/" + b + "/t/j/env/new.bin -> 201"), r.all());
        assertTrue(r.err().contains("PATCH " + url + "/branches/" + b + "/t/j/env/ -> 200"), r.all());
        // a folder with only dot files: nothing to do
        Cli.write(dir.resolve("dots/.a"), "a");
        r = cli("upload", b, "t", "j", "dots", dir.resolve("dots").toString()).ok();
        assertTrue(r.err().contains("nothing to upload"), r.all());
    }

    @Test
    void downloadJobAndTagLayouts() throws Exception {
        String b = branch();
        upload(b, "t", "build", "deb", Map.of("p.deb", "deb", "sub/q.deb", "q"));
        upload(b, "t", "build", "doc", Map.of("index.html", "<html/>"));
        upload(b, "t", "test", "log", Map.of("log.txt", "log"));
        Path job = work.resolve("job-" + b);
        cli("download", "-o", job.toString(), b, "t", "build").ok();
        assertEquals(List.of("deb/p.deb", "deb/sub/q.deb", "doc/index.html"),
                List.copyOf(Cli.digests(job, false).keySet()));
        assertEquals("q", Files.readString(job.resolve("deb/sub/q.deb")));

        Path tag = work.resolve("tag-" + b);
        cli("download", "--output", tag.toString(), b, "latest").ok();
        assertEquals(List.of("build/deb/p.deb", "build/deb/sub/q.deb", "build/doc/index.html", "test/log/log.txt"),
                List.copyOf(Cli.digests(tag, false).keySet()));

        // again into the same folder, one file changed locally and one removed: fixed, the rest left alone
        Files.writeString(tag.resolve("build/deb/p.deb"), "changed locally");
        Files.delete(tag.resolve("test/log/log.txt"));
        Cli.Result r = cli("download", "-o", tag.toString(), b, "t").ok();
        assertEquals("deb", Files.readString(tag.resolve("build/deb/p.deb")));
        assertEquals("log", Files.readString(tag.resolve("test/log/log.txt")));
        assertLine(r.out(), "present", "doc/index.html");

        // format into the current folder (the default)
        Path cwd = work.resolve("cwd-" + b);
        Files.createDirectories(cwd);
        Cli.Result d = Cli.run(Cli.builder(url, Map.of(), "download", b, "t", "build", "deb").directory(cwd.toFile()))
                .ok();
        assertEquals("deb", Files.readString(cwd.resolve("p.deb")), d.all());

        Cli.Result missing = cli("download", "-o", work.resolve("none").toString(), b, "t", "nojob").exit(1);
        assertTrue(missing.err().contains("404"), missing.all());
    }

    @Test
    void userRepository() throws Exception {
        String b = branch();
        Path f = work.resolve("user-" + b + ".txt");
        Cli.write(f, "mine");
        cli("--user-repo", "alice", "upload", b, "t", "j", "deb", f.toString()).ok();
        assertEquals(200, s.get("/~alice/branches/" + b + "/t/j/deb/").statusCode());
        assertEquals(404, s.get("/branches/" + b + "/").statusCode());
        assertLine(cli("--user-repo", "alice", "ls", b).ok().out(), "t");
        assertLine(cli("ls", "--user-repo", "alice", b, "t", "j", "deb").ok().out(), "user-" + b + ".txt");
        assertEquals(1, cli("ls", b).exit());
        JsonNode g = json(cli("--user-repo", "alice", "get", "/branches/"));
        assertTrue(g.get("branches").toString().contains(b));
        Path out = work.resolve("user-out-" + b);
        cli("--user-repo", "alice", "download", "-o", out.toString(), b, "t", "j", "deb").ok();
        assertEquals("mine", Files.readString(out.resolve("user-" + b + ".txt")));
        cli("--user-repo", "alice", "delete", b).ok();
        assertEquals(404, s.get("/~alice/branches/" + b + "/").statusCode());
    }
}
