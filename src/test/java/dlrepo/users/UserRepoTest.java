package dlrepo.users;

import static dlrepo.products.Helpers.assertError;
import static dlrepo.products.Helpers.assertNoDanglingLinks;
import static dlrepo.products.Helpers.assertRedirect;
import static dlrepo.products.Helpers.blob;
import static dlrepo.products.Helpers.blobs;
import static dlrepo.products.Helpers.finalizeFormat;
import static dlrepo.products.Helpers.linkJob;
import static dlrepo.products.Helpers.linkTarget;
import static dlrepo.products.Helpers.list;
import static dlrepo.products.Helpers.nlink;
import static dlrepo.products.Helpers.ok;
import static dlrepo.products.Helpers.send;
import static dlrepo.products.Helpers.sha256;
import static dlrepo.products.Helpers.unique;
import static dlrepo.products.Helpers.upload201;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.TarReader;
import dlrepo.TestServer;
import dlrepo.products.Helpers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /~<user>/}: the same branches and products API rooted at {@code users/<user>/},
 * sharing the root blob store, isolated from the root and from other users, untouched by
 * the cleanup policies.
 */
class UserRepoTest {
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"));
        assertTrue(s.daemon().cleanup().awaitIdle(30_000));
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    private static Path userDir(String user) {
        return s.root().resolve("users").resolve(user);
    }

    private static List<String> names(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.isTextual() ? n.asText() : n.get("name").asText()));
        return out;
    }

    @Test
    void branchesApiWorksUnderTheUserPrefix() throws Exception {
        String u = unique("alice");
        String job = "/~" + u + "/branches/main/t1/build/";
        upload201(s, job + "deb/a.deb", "alice a " + u);
        upload201(s, job + "deb/sub/b.deb", "alice b " + u);
        Path jobDir = userDir(u).resolve("branches/main/t1/build");
        assertEquals("alice a " + u, Files.readString(jobDir.resolve("deb/a.deb")));
        assertTrue(Files.exists(jobDir.resolve(".stamp")));
        assertTrue(Files.exists(jobDir.getParent().resolve(".stamp")));
        assertTrue(Files.exists(jobDir.resolve("deb/.dirty")));
        assertEquals(404, s.head(job + "deb/").statusCode(), "dirty");
        finalizeFormat(s, job + "deb/");
        assertEquals(200, s.head(job + "deb/").statusCode());

        assertEquals(List.of("main"), names(ok(s.get("/~" + u + "/branches/")).get("branches")));
        assertEquals(List.of("t1"), names(ok(s.get("/~" + u + "/branches/main/")).at("/branch/tags")));
        assertEquals(List.of("build"), names(ok(s.get("/~" + u + "/branches/main/t1/")).at("/tag/jobs")));
        assertEquals(List.of("deb"), names(ok(s.get(job)).at("/job/artifact_formats")));
        assertEquals(List.of("a.deb", "sub/b.deb"), names(ok(s.get(job + "deb/")).at("/artifact_format/files")));
        HttpResponse<String> file = s.get(job + "deb/a.deb");
        assertEquals(200, file.statusCode());
        assertEquals("alice a " + u, file.body());
        assertEquals("sha256:" + sha256("alice a " + u), file.headers().firstValue("Digest").orElse(null));
        assertEquals(sha256("alice b " + u) + "  b.deb\n", s.get(job + "deb/sub/b.deb.sha256").body());
        // the dedup probe answers for the whole store
        assertEquals(200, s.head(job + "deb/other", "Digest", "sha256:" + sha256("alice a " + u)).statusCode());
        assertRedirect(s.get("/~" + u + "/branches/main/latest/"), "/~" + u + "/branches/main/t1/");
        assertRedirect(s.get("/~" + u + "/branches/MAIN/t1/build"), job);

        // metadata and lock
        ok(s.json("PATCH", job, "{\"job\": {\"Arch\": \"X86_64\"}}"));
        assertEquals("X86_64", ok(s.get(job)).at("/job/Arch").asText());
        ok(s.json("PUT", job, "{\"job\": {\"locked\": true}}"));
        JsonNode j = ok(s.get(job)).get("job");
        assertTrue(j.get("locked").asBoolean());
        assertEquals(64, j.get("digest").asText().length());
        assertTrue(Files.exists(jobDir.resolve(".locked")));
        assertError(s.upload(job + "deb/c.deb", "refused"), 400, "locked");

        // archives
        HttpResponse<byte[]> tar = s.getBytes("/~" + u + "/branches/main/t1/build.tar");
        assertEquals(200, tar.statusCode());
        List<TarReader.Member> m = Helpers.readTar(tar.body());
        assertEquals(List.of("build-t1/deb/a.deb", "build-t1/deb/sub/b.deb", "build-t1/SHA256SUMS.txt"),
                m.stream().map(TarReader.Member::name).toList());
        assertEquals("alice a " + u, m.get(0).text());
        HttpResponse<byte[]> ftar = s.getBytes(job + "deb.tar");
        assertEquals(200, ftar.statusCode());
        assertEquals(3, Helpers.readTar(ftar.body()).size());
        assertEquals(sha256("alice a " + u) + "  a.deb\n" + sha256("alice b " + u) + "  sub/b.deb\n",
                s.get(job + "deb.sha256").body());

        // tag flags, then delete
        ok(s.json("PUT", job, "{\"job\": {\"locked\": false}}"));
        ok(s.json("POST", "/~" + u + "/branches/main/t1/", "{\"tag\": {\"description\": \"user build\"}}"));
        assertEquals("user build", ok(s.get("/~" + u + "/branches/main/t1/")).at("/tag/description").asText());
        ok(s.delete("/~" + u + "/branches/main/t1/"));
        assertFalse(Files.exists(jobDir.getParent()));
        assertError(s.get(job), 404, null);
    }

    @Test
    void userTreesShareTheRootBlobStore() throws Exception {
        String u = unique("alice");
        byte[] data = ("shared content " + u).getBytes(StandardCharsets.UTF_8);
        String hex = sha256(data);
        int before = blobs(s).size();
        upload201(s, "/branches/" + unique("rootb") + "/t/j/f/root.bin", data);
        String userPath = "/~" + u + "/branches/b/t/j/f/user.bin";
        upload201(s, userPath, data);
        assertEquals(before + 1, blobs(s).size(), "one blob for both copies");
        Path b = blob(s, hex);
        assertEquals(3, nlink(b), "the blob and two tree files");
        Path userFile = userDir(u).resolve("branches/b/t/j/f/user.bin");
        assertEquals(Files.getAttribute(b, "unix:ino"), Files.getAttribute(userFile, "unix:ino"));
        // the user repository has no store of its own
        assertEquals(List.of(".disk_usage", "branches"), list(userDir(u)));
        assertFalse(Files.exists(userDir(u).resolve(".blobs")));
        assertFalse(Files.exists(userDir(u).resolve(".uploads")));
    }

    @Test
    void percentEncodedTildeReachesTheSameRepository() throws Exception {
        String u = unique("alice");
        String file = "/branches/enc/t/j/f/x.txt";
        upload201(s, "/~" + u + file, "encoded " + u);
        for (String prefix : List.of("/%7e", "/%7E")) {
            String resp = s.raw("GET " + prefix + u + file + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertTrue(resp.startsWith("HTTP/1.1 200"), prefix + ": " + resp);
            assertTrue(resp.endsWith("\r\n\r\nencoded " + u), resp);
            String list = s.raw("GET " + prefix + u + "/branches/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertTrue(list.startsWith("HTTP/1.1 200") && list.contains("\"enc\""), list);
        }
        // a write through the encoded form lands in the same folder
        String body = "raw put " + u;
        String req = "PUT /%7E" + u + "/branches/enc/t/j/f/y.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                + "Digest: " + TestServer.digest(body) + "\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
        String resp = s.raw(req);
        assertTrue(resp.startsWith("HTTP/1.1 201"), resp);
        assertEquals(body, Files.readString(userDir(u).resolve("branches/enc/t/j/f/y.txt")));
        assertEquals(body, s.get("/~" + u + "/branches/enc/t/j/f/y.txt").body());
        assertFalse(Files.exists(s.root().resolve("users/%7e" + u)));
        assertFalse(Files.exists(s.root().resolve("users/~" + u)));
    }

    @Test
    void userNamesAreCanonical() throws Exception {
        assertRedirect(s.get("/~Alice/"), "/~alice/");
        assertRedirect(s.get("/~Alice/branches/main/"), "/~alice/branches/main/");
        assertRedirect(s.head("/~ALICE/branches/"), "/~alice/branches/");
        assertRedirect(s.get("/~alice"), "/~alice/");
        assertEquals(302, s.rawStatus("GET", "/%7EAlice/branches/"));
        // a write goes to the lowercase name
        String u = unique("mixed");
        upload201(s, "/~" + u.toUpperCase() + "/branches/B/T/J/F/File.TXT", "mixed case");
        assertEquals("mixed case", Files.readString(userDir(u).resolve("branches/b/t/j/f/File.TXT")));
        assertEquals(List.of(u), list(s.root().resolve("users")).stream().filter(n -> n.equalsIgnoreCase(u)).toList());
        // invalid user names
        assertError(s.get("/~.hidden/branches/"), 400, null);
        assertEquals(400, s.rawStatus("GET", "/~a%2Fb/branches/"));
    }

    @Test
    void repositoriesAreIsolated() throws Exception {
        String alice = unique("alice");
        String bob = unique("bob");
        String br = unique("iso");
        String file = "/branches/" + br + "/t/j/f/secret.txt";
        upload201(s, "/~" + alice + file, "alice only");
        upload201(s, "/~" + bob + "/branches/" + unique("bobs") + "/t/j/f/other.txt", "bob's");
        assertEquals(200, s.get("/~" + alice + file).statusCode());
        assertError(s.get(file), 404, null);
        assertError(s.get("/~" + bob + file), 404, null);
        assertError(s.get("/branches/" + br + "/"), 404, null);
        assertError(s.get("/~" + bob + "/branches/" + br + "/"), 404, null);
        assertFalse(names(ok(s.get("/branches/")).get("branches")).contains(br));
        assertFalse(names(ok(s.get("/~" + bob + "/branches/")).get("branches")).contains(br));
        assertTrue(names(ok(s.get("/~" + alice + "/branches/")).get("branches")).contains(br));
        assertFalse(Files.exists(s.root().resolve("branches").resolve(br)));
        assertFalse(Files.exists(userDir(bob).resolve("branches").resolve(br)));
        // deleting through bob's prefix cannot reach alice's tag
        assertError(s.delete("/~" + bob + "/branches/" + br + "/t/"), 404, null);
        assertTrue(Files.exists(userDir(alice).resolve("branches/" + br + "/t/j/f/secret.txt")));
    }

    @Test
    void userHome() throws Exception {
        String u = unique("dave");
        assertFalse(Files.exists(userDir(u)));
        assertError(s.get("/~" + u + "/"), 404, null);
        // reads do not create the repository
        s.get("/~" + u + "/branches/");
        s.get("/~" + u + "/products/");
        s.get("/~" + u + "/branches/x/t/j/f/file");
        assertFalse(Files.exists(userDir(u)), "reads create nothing");
        assertError(s.get("/~" + u + "/"), 404, null);
        // the first upload creates it
        upload201(s, "/~" + u + "/branches/first/t/j/f/a", "12345");
        upload201(s, "/~" + u + "/branches/first/t/j/f/b", "678");
        assertTrue(Files.isDirectory(userDir(u).resolve("branches/first")));
        JsonNode home = ok(s.get("/~" + u + "/")).get("user");
        assertEquals(u, home.get("name").asText());
        assertEquals(8, home.get("disk_usage").asLong());
        assertEquals(10737418240L, home.get("disk_quota").asLong());
        assertEquals("8\n", Files.readString(userDir(u).resolve(".disk_usage")));
        assertEquals(200, s.head("/~" + u + "/").statusCode());
        assert405(send(s, "DELETE", "/~" + u + "/"));
    }

    private static void assert405(HttpResponse<String> r) {
        assertEquals(405, r.statusCode());
        assertTrue(r.headers().firstValue("Allow").orElse("").contains("GET"));
    }

    @Test
    void userProducts() throws Exception {
        String u = unique("alice");
        String p = unique("uprod");
        String job = "/~" + u + "/branches/dev/t1/build/";
        upload201(s, job + "deb/pkg.deb", "user package");
        finalizeFormat(s, job + "deb/");
        linkJob(s, job, p.toUpperCase(), "Std", "Dev", "1.0");
        String pv = "/~" + u + "/products/" + p + "/std/dev/1.0/";
        assertEquals(List.of(p), names(ok(s.get("/~" + u + "/products/")).get("products")));
        assertEquals(List.of("deb"), names(ok(s.get(pv)).at("/version/artifact_formats")));
        assertEquals("user package", s.get(pv + "deb/pkg.deb").body());
        assertRedirect(s.get("/~" + u + "/products/" + p + "/std/dev/latest/"), pv);
        assertRedirect(s.get("/~" + u + "/products/" + p.toUpperCase() + "/std/dev/1.0/"), pv);
        HttpResponse<byte[]> tar = s.getBytes("/~" + u + "/products/" + p + "/std/dev/1.0.tar");
        assertEquals(200, tar.statusCode());
        assertEquals(p + "-std-v1.0/deb/pkg.deb", Helpers.readTar(tar.body()).get(0).name());
        // on disk, under the user's folder, links relative and inside it
        Path version = userDir(u).resolve("products/" + p + "/std/dev/1.0");
        Path link = version.resolve("deb");
        assertEquals(Path.of("../../../../../branches/dev/t1/build/deb"), Files.readSymbolicLink(link));
        assertEquals(userDir(u).resolve("branches/dev/t1/build/deb"), linkTarget(link));
        Path marker = userDir(u).resolve("branches/dev/t1/build/.product");
        assertEquals(Path.of("../../../../products/" + p + "/std/dev/1.0"), Files.readSymbolicLink(marker));
        assertNoDanglingLinks(userDir(u));
        // not in the root products nor another user's
        assertError(s.get("/products/" + p + "/"), 404, null);
        assertFalse(Files.exists(s.root().resolve("products").resolve(p)));
        assertError(s.get("/~" + unique("bob") + "/products/" + p + "/"), 404, null);
        // writes refused there too
        assertError(s.send(s.request(pv + "deb/pkg.deb").header("Digest", TestServer.digest("x"))
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("x")).build()), 400, null);
        assertEquals(405, send(s, "DELETE", pv).statusCode());
        // deleting the job unlinks
        ok(s.delete(job));
        assertFalse(Files.exists(userDir(u).resolve("products").resolve(p)));
        assertNoDanglingLinks(userDir(u));
    }

    @Test
    void cleanupPoliciesDoNotApplyToUserRepositories() throws Exception {
        String u = unique("alice");
        String br = unique("pol");
        long now = System.currentTimeMillis();
        for (String prefix : List.of("/~" + u, "")) {
            for (int i = 0; i < 3; i++) {
                upload201(s, prefix + "/branches/" + br + "/t" + i + "/j/f/x", "policy " + i);
                Path stamp = (prefix.isEmpty() ? s.root() : userDir(u)).resolve("branches/" + br + "/t" + i + "/.stamp");
                Files.setLastModifiedTime(stamp, FileTime.fromMillis(now - (3 - i) * 60_000L));
            }
            ok(s.json("POST", prefix + "/branches/" + br + "/", "{\"branch\": {\"max_daily_tags\": 1}}"));
        }
        assertTrue(Files.exists(userDir(u).resolve("branches/" + br + "/.cleanup_policy")));
        assertEquals(1, ok(s.get("/~" + u + "/branches/" + br + "/")).at("/branch/cleanup_policy/max_daily_tags")
                .asInt());
        Helpers.fullCleanup(s);
        // the root branch's policy applied (the cleanup did run) ...
        assertEquals(List.of("t2"), names(ok(s.get("/branches/" + br + "/")).at("/branch/tags")));
        // ... the user's did not
        assertEquals(List.of("t0", "t1", "t2"), names(ok(s.get("/~" + u + "/branches/" + br + "/")).at("/branch/tags")));
        for (int i = 0; i < 3; i++) {
            assertTrue(Files.exists(userDir(u).resolve("branches/" + br + "/t" + i + "/j/f/x")));
        }
    }
}
