package dlrepo.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Caller;
import dlrepo.Check;
import dlrepo.DaemonProcess;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A cached listing never gives a caller more than the ACLs give: answers are kept per
 * caller's rights (identity, groups and the ACLs in force), for JSON and pages alike, and
 * an ACL reload takes effect at once. SIGHUP, sent to the real process, drops the cache
 * after changes made by hand.
 */
class CachedListingTest {
    @Test
    void eachCallerGetsTheListingItsRightsGive() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.user("admin", "adminpw", "admin").acl("admin", "rw /**")
                    .user("viewer", "viewerpw", "viewer").acl("viewer", "r /** !/branches/b/t/secret/**")
                    .acl("ANONYMOUS", "r /** !/branches/b/t/secret/** !/branches/b/t/hidden/**");
            try (TestServer s = setup.start()) {
                Caller admin = Caller.basic(s, "admin", "adminpw");
                Caller viewer = Caller.basic(s, "viewer", "viewerpw");
                Caller anon = Caller.anonymous(s);
                for (String job : new String[] {"open", "secret", "hidden"}) {
                    admin.uploadFinalized("/branches/b/t/" + job + "/f/a.txt", job);
                }
                String tag = "/branches/b/t/";
                for (String accept : new String[] {"application/json", "text/html"}) {
                    // the admin fills the cache first, then the others ask for the same URL
                    HttpResponse<String> all = admin.send(admin.request(tag).header("Accept", accept).build());
                    assertTrue(all.body().contains("secret") && all.body().contains("hidden"), accept);
                    HttpResponse<String> v = viewer.send(viewer.request(tag).header("Accept", accept).build());
                    assertEquals(200, v.statusCode());
                    assertFalse(v.body().contains("secret"), accept + ": " + v.body());
                    assertTrue(v.body().contains("hidden"), accept);
                    HttpResponse<String> a = anon.send(anon.request(tag).header("Accept", accept).build());
                    assertFalse(a.body().contains("secret") || a.body().contains("hidden"), accept + ": " + a.body());
                    // the admin's ETag does not validate another caller's copy
                    String etag = all.headers().firstValue("ETag").orElseThrow();
                    assertNotEquals(etag, v.headers().firstValue("ETag").orElseThrow());
                    HttpResponse<String> cond = viewer.send(viewer.request(tag).header("Accept", accept)
                            .header("If-None-Match", etag).build());
                    assertEquals(200, cond.statusCode());
                    assertFalse(cond.body().contains("secret"));
                }
                // answers held in memory are served without routing, but only to a caller
                // identified as the one they were made for
                assertEquals(200, viewer.get(tag).statusCode());
                assertEquals(401, Caller.basic(s, "viewer", "wrong").get(tag).statusCode());
                assertEquals(401, Caller.basic(s, "nobody", "viewerpw").get(tag).statusCode());
                assertEquals(401, Caller.headers(s, "Authorization", "Bearer x").get(tag).statusCode());
                HttpResponse<String> head = Caller.basic(s, "viewer", "wrong").head(tag);
                assertEquals(401, head.statusCode());
                                // new ACLs apply to cached listings at once after the reload
                setup.acl("viewer", "r /**");
                assertFalse(viewer.get(tag).body().contains("secret"), "nothing changes before the reload");
                s.daemon().reload();
                assertTrue(viewer.get(tag).body().contains("secret"), "the reloaded ACLs apply");
                setup.acl("viewer", "r /** !/branches/b/t/open/**");
                s.daemon().reload();
                assertFalse(viewer.get(tag).body().contains("\"open\""));
            }
        }
    }

    /**
     * A second caller's listing is filtered from the states in memory, not read again from
     * the disk: a change made by hand below the tag (which the daemon cannot see) shows in
     * neither caller's listing until SIGHUP, and each gets what its rights give.
     */
    @Test
    void callersShareTheStatesInMemory() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.user("admin", "adminpw", "admin").acl("admin", "rw /**")
                    .user("viewer", "viewerpw", "viewer").acl("viewer", "r /** !/branches/b/t/secret/**");
            try (TestServer s = setup.start()) {
                Caller admin = Caller.basic(s, "admin", "adminpw");
                Caller viewer = Caller.basic(s, "viewer", "viewerpw");
                admin.uploadFinalized("/branches/b/t/open/f/a.txt", "a");
                admin.uploadFinalized("/branches/b/t/secret/f/a.txt", "a");
                assertEquals(200, admin.json("PATCH", "/branches/b/t/open/", "{\"job\": {\"arch\": \"amd64\"}}")
                        .statusCode());
                assertTrue(admin.get("/branches/b/t/").body().contains("amd64"));
                Path tagDir = s.root().resolve("branches/b/t");
                var mtime = Files.getLastModifiedTime(tagDir);
                Files.writeString(tagDir.resolve("open/.metadata"), "{\"arch\": \"riscv\"}");
                Files.setLastModifiedTime(tagDir, mtime);
                String v = viewer.get("/branches/b/t/").body();
                assertTrue(v.contains("amd64") && !v.contains("secret"), v);
                s.daemon().reload();
                v = viewer.get("/branches/b/t/").body();
                assertTrue(v.contains("riscv") && !v.contains("secret"), v);
            }
        }
    }

    static String body(HttpClient c, HttpRequest r) {
        try {
            return c.send(r, HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
            return e.toString();
        }
    }

    static String log(DaemonProcess d) {
        try {
            return d.log();
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    @Test
    void sighupDropsTheCacheAfterHandChanges() throws Exception {
        Path root = Files.createTempDirectory("dlrepo-cache-hup-");
        Map<String, String> env = new HashMap<>();
        env.put("DLREPO_AUTH_DISABLED", "1");
        env.put("DLREPO_LOG_LEVEL", "INFO");
        try (DaemonProcess d = DaemonProcess.start(root, env)) {
            HttpClient c = HttpClient.newHttpClient();
            HttpResponse<String> up = c.send(HttpRequest.newBuilder(URI.create(d.url("/branches/b/t/j/f/a.txt")))
                    .header("Digest", TestServer.digest("a")).PUT(HttpRequest.BodyPublishers.ofString("a")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(201, up.statusCode(), up.body());
            HttpRequest list = HttpRequest.newBuilder(URI.create(d.url("/branches/b/t/"))).build();
            assertFalse(c.send(list, HttpResponse.BodyHandlers.ofString()).body().contains("riscv"));
            // a restore by hand rewrites a job's metadata: the tag's folder does not change
            Path meta = root.resolve("branches/b/t/j/.metadata");
            Files.writeString(meta, "{\"arch\": \"riscv\"}");
            assertFalse(c.send(list, HttpResponse.BodyHandlers.ofString()).body().contains("riscv"),
                    "cached until told");
            d.signal("HUP");
            assertTrue(Check.eventually(5000, () -> body(c, list).contains("riscv")), "seen after SIGHUP");
            assertTrue(Check.eventually(5000, () -> log(d).contains("listing cache: dropped after ")), log(d));
        } finally {
            TestServer.deleteTree(root);
        }
    }
}
