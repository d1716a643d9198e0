package dlrepo.security;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Caller;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An alias ({@code latest}, {@code stable}, {@code oldstable}) tells a caller nothing it
 * may not read: for a caller who may not read what the alias stands for, the answer is
 * the one it gets for a branch, product or user repository that does not exist (a plain
 * 401/403 naming the path as spelled), never a 404 that tells existence apart, never a
 * tag or version name in a message, never a redirect to it; GET and HEAD alike.
 */
class AliasLeakTest {
    static TestAuth setup;
    static TestServer s;
    static Caller admin;
    static Caller viewer;
    static Caller dated;
    static Caller anon;

    @BeforeAll
    static void start() throws Exception {
        setup = new TestAuth();
        String hide = "r /** !/branches/secret*/** !/products/secret*/** !/~*/** !/branches/*/hidden-*/**"
                + " !/v2/*/*/manifests/hidden-*";
        setup.user("admin", "adminpw", "admin").acl("admin", "rw /**")
                .user("viewer", "viewerpw", "viewer").acl("viewer", hide, "rw /~$user/**")
                // reads the tags named by date, nothing else: not even the branch listings
                .user("dated", "datedpw", "dated").acl("dated", "r /branches/*/20??-??-??*/**")
                .acl("ANONYMOUS", hide);
        s = setup.start();
        admin = Caller.basic(s, "admin", "adminpw");
        viewer = Caller.basic(s, "viewer", "viewerpw");
        dated = Caller.basic(s, "dated", "datedpw");
        anon = Caller.anonymous(s);
        tags("/branches/secret/", "s-tag-older", "s-tag-newest");
        assertStatus(200, admin.json("POST", "/branches/secret/s-tag-older/", "{\"tag\": {\"stable\": true}}"));
        assertStatus(200, admin.json("PATCH", "/branches/secret/s-tag-newest/j/", "{\"job\": {\"product\": \"secret\","
                + " \"product_variant\": \"v\", \"product_branch\": \"b\", \"version\": \"s-ver-9\"}}"));
        tags("/branches/mixed/", "visible", "hidden-newest");
        tags("/branches/daily/", "manual-old", "2024-05-01");
        tags("/branches/notdaily/", "2024-01-01", "manual-newest");
        tags("/~alice/branches/b/", "a-tag-older", "a-tag-newest");
        pushImage("reg/app", "hidden-v7");
    }

    /** Tags of a branch, oldest first, each with one finalized file {@code j/f/file}. */
    private static void tags(String branch, String... names) throws Exception {
        long now = System.currentTimeMillis();
        for (int i = 0; i < names.length; i++) {
            admin.uploadFinalized(branch + names[i] + "/j/f/file", names[i]);
            String rel = branch.startsWith("/~") ? "users/" + branch.substring(2) : branch.substring(1);
            Files.setLastModifiedTime(s.root().resolve(rel + names[i] + "/.stamp"),
                    FileTime.fromMillis(now - (names.length - i) * 60_000L));
        }
    }

    private static void pushImage(String name, String tag) throws Exception {
        byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
        byte[] layer = "not really a tarball".getBytes(StandardCharsets.UTF_8);
        for (byte[] blob : List.of(config, layer)) {
            HttpResponse<String> r = admin.send(admin.request("/v2/" + name + "/blobs/uploads/?digest="
                    + TestServer.digest(blob)).header("Content-Type", "application/octet-stream")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(blob)).build());
            assertStatus(201, r);
        }
        String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                + TestServer.digest(config) + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + TestServer.digest(layer)
                + "\",\"size\":" + layer.length + "}]}";
        assertStatus(201, admin.put("/v2/" + name + "/manifests/" + tag, manifest.getBytes(StandardCharsets.UTF_8),
                "Content-Type", "application/vnd.oci.image.manifest.v1+json"));
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
        setup.close();
    }

    /** A raw answer: status, Location (or null) and body. */
    private record Answer(int status, String location, String body, String raw) {
    }

    private static Answer call(Caller c, String method, String path) throws Exception {
        String raw = c.rawFull(method, path, "", new byte[0]);
        int status = Integer.parseInt(raw.substring(9, 12));
        String location = null;
        int end = raw.indexOf("\r\n\r\n");
        for (String line : raw.substring(0, end).split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("location:")) {
                location = line.substring(9).strip();
            }
        }
        return new Answer(status, location, raw.substring(end + 4), raw);
    }

    /**
     * {@code c} gets the same answer for {@code path} as for the same path with {@code name}
     * replaced by {@code missing} (something that does not exist): same status, no redirect,
     * the same body but for the name; and no secret anywhere in the answer.
     */
    private static void assertLikeMissing(Caller c, int status, String path, String name, String missing,
            String... secrets) throws Exception {
        String other = path.replace(name, missing);
        for (String method : List.of("GET", "HEAD")) {
            Answer a = call(c, method, path);
            Answer b = call(c, method, other);
            String what = method + " " + path + " vs " + other;
            assertEquals(status, a.status(), what + ": " + a.raw());
            assertEquals(status, b.status(), what + ": " + b.raw());
            assertNull(a.location(), what + ": " + a.raw());
            assertNull(b.location(), what + ": " + b.raw());
            String lowerName = name.toLowerCase(Locale.ROOT);
            String lowerMissing = missing.toLowerCase(Locale.ROOT);
            assertEquals(b.body().replace(missing, "X").replace(lowerMissing, "X"),
                    a.body().replace(name, "X").replace(lowerName, "X"), what);
            for (String secret : secrets) {
                assertFalse(a.raw().contains(secret), what + " tells '" + secret + "': " + a.raw());
            }
        }
    }

    private static final List<String> BRANCH_ALIASES = List.of("latest/", "latest", "Latest/", "stable/",
            "oldstable/", "STABLE", "latest/j/", "latest/j/f/", "latest/j/f", "latest/j/f/file",
            "stable/j/f/file", "latest/j.tar", "latest/j/f.tar", "latest/j/f.sha256", "%6catest/");

    @Test
    void aHiddenBranchAnswersAsIfItDidNotExist() throws Exception {
        for (String alias : BRANCH_ALIASES) {
            for (String prefix : List.of("/branches/secret/", "/branches/SECRET/")) {
                // as hidden as "secret", but does not exist
                assertLikeMissing(viewer, 403, prefix + alias, prefix.substring(10, 16), "secretnone", "s-tag");
                assertLikeMissing(anon, 401, prefix + alias, prefix.substring(10, 16), "secretnone", "s-tag");
            }
        }
        // the message names the path as spelled, nothing else
        HttpResponse<String> r = viewer.get("/branches/secret/latest/j/f/file");
        assertTrue(r.body().contains("/branches/secret/latest/j/f/file"), r.body());
        // the tag itself: refused as before
        assertStatus(403, viewer.get("/branches/secret/s-tag-newest/"));
    }

    @Test
    void aHiddenProductAnswersAsIfItDidNotExist() throws Exception {
        for (String alias : List.of("latest/", "latest", "stable/", "oldstable/", "Latest/f/", "latest/f/file",
                "latest.tar", "latest/f.tar", "latest/f.sha256")) {
            assertLikeMissing(viewer, 403, "/products/secret/v/b/" + alias, "secret", "secretnone", "s-ver", "s-tag");
            assertLikeMissing(anon, 401, "/products/secret/v/b/" + alias, "secret", "secretnone", "s-ver", "s-tag");
        }
        // the admin reads it: the alias still redirects
        HttpResponse<String> r = admin.get("/products/secret/v/b/latest/");
        assertStatus(302, r);
        assertEquals("/products/secret/v/b/s-ver-9/", r.headers().firstValue("Location").orElse(null));
    }

    @Test
    void anotherUsersRepositoryAnswersAsIfItDidNotExist() throws Exception {
        for (String alias : List.of("latest/", "latest", "stable/", "latest/j/f/file", "latest/j.tar")) {
            assertLikeMissing(viewer, 403, "/~alice/branches/b/" + alias, "alice", "nobody", "a-tag");
            assertLikeMissing(anon, 401, "/~alice/branches/b/" + alias, "alice", "nobody", "a-tag");
        }
        HttpResponse<String> r = admin.get("/~alice/branches/b/latest/");
        assertStatus(302, r);
        assertEquals("/~alice/branches/b/a-tag-newest/", r.headers().firstValue("Location").orElse(null));
    }

    @Test
    void aHiddenNewestTagOfAReadableBranchIsNotNamed() throws Exception {
        // the branch is readable (its listing shows "visible" only): the alias is refused, unnamed
        assertStatus(200, viewer.get("/branches/mixed/visible/"));
        for (String alias : BRANCH_ALIASES) {
            if (alias.toLowerCase(Locale.ROOT).contains("stable")) {
                // no stable tag at all, and the caller may see that: 404
                assertStatus(404, viewer.get("/branches/mixed/" + alias));
                continue;
            }
            for (Caller c : List.of(viewer, anon)) {
                for (String method : List.of("GET", "HEAD")) {
                    Answer a = call(c, method, "/branches/mixed/" + alias);
                    assertEquals(c == anon ? 401 : 403, a.status(), method + " " + alias + ": " + a.raw());
                    assertNull(a.location(), alias + ": " + a.raw());
                    assertFalse(a.raw().contains("hidden-newest"), alias + ": " + a.raw());
                }
            }
        }
        // a branch that does not exist has no latest: a caller who may read it is told so
        assertStatus(404, viewer.get("/branches/nosuch/latest/"));
        assertStatus(404, viewer.head("/branches/nosuch/latest/"));
    }

    @Test
    void aReaderOfSomeTagsOnlyLearnsNothingElse() throws Exception {
        // the newest tag is one it may read: redirected there, as usual
        HttpResponse<String> r = dated.get("/branches/daily/latest/j/f/file");
        assertStatus(302, r);
        assertEquals("/branches/daily/2024-05-01/j/f/file", r.headers().firstValue("Location").orElse(null));
        assertStatus(200, dated.get("/branches/daily/2024-05-01/j/f/file"));
        // the newest tag is not: the same refusal as for a branch that does not exist
        for (String alias : BRANCH_ALIASES) {
            assertLikeMissing(dated, 403, "/branches/notdaily/" + alias, "notdaily", "nosuchbr", "manual-newest");
        }
    }

    /** The cleanup preview (JSON and the branch's page) names only tags the caller may read. */
    @Test
    void theCleanupPreviewNamesOnlyReadableTags() throws Exception {
        tags("/branches/preview/", "hidden-old", "visible-new");
        assertStatus(200, admin.json("POST", "/branches/preview/", "{\"branch\": {\"max_daily_tags\": 1}}"));
        assertTrue(admin.get("/branches/preview/?cleanup_preview").body().contains("hidden-old"));
        HttpResponse<String> json = viewer.get("/branches/preview/?cleanup_preview");
        assertStatus(200, json);
        assertTrue(json.body().contains("\"cleanup_preview\":[]"), json.body());
        HttpResponse<String> page = viewer.send(viewer.request("/branches/preview/").header("Accept", "text/html")
                .GET().build());
        assertStatus(200, page);
        assertTrue(page.body().contains("visible-new"), page.body());
        assertFalse(page.body().contains("hidden-old"), page.body());
    }

    @Test
    void registryAliasesDoNotNameTheTag() throws Exception {
        assertStatus(200, admin.get("/v2/reg/app/manifests/latest"));
        for (String method : List.of("GET", "HEAD")) {
            Answer a = call(viewer, method, "/v2/reg/app/manifests/latest");
            assertEquals(403, a.status(), a.raw());
            assertFalse(a.raw().contains("hidden-v7"), a.raw());
        }
        // and the tag's own name is refused as before
        assertStatus(403, viewer.get("/v2/reg/app/manifests/hidden-v7"));
    }

    @Test
    void writesToAnAliasAreRefusedWhateverExists() throws Exception {
        for (String path : List.of("/branches/secret/latest/j/f/x", "/branches/nosuch/latest/j/f/x")) {
            Answer a = call(viewer, "DELETE", path);
            assertFalse(a.raw().contains("s-tag"), a.raw());
            assertEquals(405, a.status(), a.raw());
        }
    }
}
