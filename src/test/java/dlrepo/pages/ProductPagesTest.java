package dlrepo.pages;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Caller;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import dlrepo.products.Helpers;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 12: the pages of the products tree, of /cleanup, of a user repository and the latest
 * releases of the home pages, through the real server: status, title, links, the ACL
 * filtering of every list, the settings that turn the latest releases off, hostile names.
 */
class ProductPagesTest {
    static final String XSS = "<img src=x onerror=alert(1)>";
    static final String JS = "javascript:alert(1)";
    private static TestAuth auth;
    private static TestServer s;
    private static Caller admin;
    private static Caller part;
    private static Caller alice;

    @BeforeAll
    static void start() throws Exception {
        auth = new TestAuth()
                .user("admin", "a-pw", "admins")
                .user("part", "p-pw", "partial")
                .user("alice", "al-pw", "alices")
                .acl("admins", "rw /**")
                .acl("partial", "r /", "r /branches/", "r /products/", "r /branches/a/**", "r /products/acme/**")
                .acl("alices", "r /", "rw /~alice/**");
        s = auth.start("DLREPO_FSYNC", "0");
        admin = s.as("admin", "a-pw");
        part = s.as("part", "p-pw");
        alice = s.as("alice", "al-pw");
        release(admin, "/branches/a/t1/build/", "acme", "std", "main", "1.9", false);
        release(admin, "/branches/a/t2/build/", "acme", "std", "main", "1.10", true);
        release(admin, "/branches/a/t3/build/", "acme", "std", "main", "1.11", false);
        release(admin, "/branches/b/t1/build/", "secret", "std", "main", "2.0", false);
        release(admin, "/branches/b/t2/build/", "acme", "std", "hidden", "9.0", false);
        release(admin, "/branches/x/t1/build/", XSS, JS, "q\"'&b", JS, false);
        release(alice, "/~alice/branches/dev/t1/build/", "tool", "std", "main", "0.1", false);
    }

    /** A job with a deb format, linked to a product version; its tag stable when asked. */
    private static void release(Caller c, String job, String p, String v, String b, String version,
            boolean stable) throws Exception {
        c.uploadFinalized(job + "deb/pkg.deb", "pkg " + job);
        assertStatus(200, c.json("PATCH", job, Helpers.productMeta(p, v, b, version)));
        if (stable) {
            String tag = job.substring(0, job.length() - "build/".length());
            assertStatus(200, c.json("POST", tag, "{\"tag\": {\"stable\": true}}"));
        }
        Thread.sleep(5); // distinct timestamps: the latest releases come in creation order
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
        auth.close();
    }

    static HttpResponse<String> page(Caller c, String path) throws Exception {
        return c.send(c.request(path).header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8").GET().build());
    }

    static String enc(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String assertPage(HttpResponse<String> r, String title, String... contains) {
        assertStatus(200, r);
        assertEquals("text/html; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
        assertTrue(r.body().contains("<title>" + title + " · dlrepo</title>"), r.body());
        for (String c : contains) {
            assertTrue(r.body().contains(c), "'" + c + "' in " + r.body());
        }
        return r.body();
    }

    private static void assertLacks(String body, String... absent) {
        for (String a : absent) {
            assertFalse(body.contains(a), "no '" + a + "' in " + body);
        }
    }

    @Test
    void everyLevelOfTheProductsTreeHasItsPage() throws Exception {
        assertPage(page(admin, "/products/"), "Products", "href=\"acme/\"", "href=\"secret/\"");
        assertPage(page(admin, "/products/acme/"), "Product acme", "href=\"std/\"");
        assertPage(page(admin, "/products/acme/std/"), "Variant std of acme", "href=\"main/\"", "href=\"hidden/\"");
        String body = assertPage(page(admin, "/products/acme/std/main/"), "Product branch main of acme std",
                "href=\"1.11/\"", "href=\"1.10/\"", "href=\"1.9/\"", "href=\"1.11.tar\"",
                "<a href=\"latest/\">latest</a> = <a href=\"1.11/\">1.11</a>",
                "<a href=\"stable/\">stable</a> = <a href=\"1.10/\">1.10</a>", "<time title=");
        // natural version order, newest first
        assertTrue(body.indexOf("href=\"1.11/\"") < body.indexOf("href=\"1.10/\""), body);
        assertTrue(body.indexOf("href=\"1.10/\"") < body.indexOf("href=\"1.9/\""), body);
        assertTrue(body.contains("<span class=\"alias\">stable</span>"), body);
        assertPage(page(admin, "/products/acme/std/main/1.10/"), "Version 1.10", "href=\"deb/\"",
                "href=\"deb.tar\"", "href=\"deb.sha256\"", "href=\"../1.10.tar\"",
                "href=\"/branches/a/t2/build/\"", "flag stable");
        // an alias leads to the canonical page
        HttpResponse<String> r = page(admin, "/products/acme/std/main/latest/");
        assertEquals(302, r.statusCode());
        assertEquals("/products/acme/std/main/1.11/", r.headers().firstValue("Location").orElse(""));
        // the links of the version page work
        assertStatus(200, page(admin, "/products/acme/std/main/1.10/deb/"));
        assertStatus(200, admin.get("/products/acme/std/main/1.10/deb.tar"));
        assertStatus(200, admin.get("/products/acme/std/main/1.10.tar"));
        assertStatus(200, page(admin, "/branches/a/t2/build/"));
    }

    @Test
    void jsonStaysAsItWas() throws Exception {
        assertEquals("{\"products\":[{\"name\":\"<img src=x onerror=alert(1)>\"},{\"name\":\"acme\"},"
                + "{\"name\":\"secret\"}]}", admin.get("/products/").body());
        assertEquals("{\"version\":{\"name\":\"1.10\",\"artifact_formats\":[\"deb\"]}}",
                admin.get("/products/acme/std/main/1.10/").body());
        assertEquals("{\"product\":{\"name\":\"acme\",\"product_variants\":[{\"name\":\"std\"}]}}",
                admin.get("/products/acme/").body());
        assertTrue(admin.get("/cleanup").body().startsWith("{\"cleanup\":{\"running\":"));
        assertTrue(alice.get("/~alice/").body().startsWith("{\"user\":{\"name\":\"alice\",\"disk_usage\":"));
        assertEquals("{\"branches\":\"/branches/\",\"version\":\"" + dlrepo.Version.get() + "\"}", admin.get("/").body());
    }

    @Test
    void listsShowOnlyWhatTheCallerMayRead() throws Exception {
        String products = assertPage(page(part, "/products/"), "Products", "href=\"acme/\"");
        assertLacks(products, "secret", "onerror");
        assertPage(page(part, "/products/acme/std/"), "Variant std of acme", "href=\"main/\"", "href=\"hidden/\"");
        assertPage(page(part, "/products/acme/std/main/1.10/"), "Version 1.10", "href=\"/branches/a/t2/build/\"");
        String home = assertPage(page(part, "/"), "Home", "Latest releases", "href=\"/products/acme/std/main/1.11/\"");
        assertLacks(home, "secret", "2.0", "onerror", "~alice", "/~");
        // a version whose job the caller may not read does not name that job
        String hidden = assertPage(page(part, "/products/acme/std/hidden/9.0/"), "Version 9.0", "href=\"deb/\"");
        assertLacks(hidden, "/branches/b/", "<h2>From</h2>");
        // the admin sees everything, and the user repositories
        String all = assertPage(page(admin, "/"), "Home", "href=\"/products/secret/std/main/2.0/\"",
                "href=\"/products/acme/std/hidden/9.0/\"", "href=\"/~alice/\"");
        assertLacks(all, "tool</td>"); // a user repository's versions are on its own page
        // alice reads her repository, not the root tree
        String mine = assertPage(page(alice, "/~alice/"), "User alice", "<meter class=\"usage",
                "href=\"/~alice/branches/\"", "href=\"/~alice/products/\"",
                "href=\"/~alice/products/tool/std/main/0.1/\"", "of 10 GiB",
                "min=\"0\" max=\"10737418240\" low=\"8589934592\" high=\"10200547328\"");
        assertLacks(mine, "acme");
        assertLacks(assertPage(page(alice, "/"), "Home"), "acme", "secret");
        assertStatus(403, page(part, "/~alice/"));
        assertPage(page(alice, "/~alice/products/tool/std/main/0.1/"), "Version 0.1",
                "href=\"/~alice/branches/dev/t1/build/\"");
        assertPage(page(alice, "/~alice/products/"), "Products", "href=\"tool/\"");
    }

    @Test
    void homeListsTheTenNewestReleases() throws Exception {
        String body = page(admin, "/").body();
        int start = body.indexOf("<h2>Latest releases</h2>");
        assertTrue(start > 0, body);
        Matcher m = Pattern.compile("<tr><td><a href=\"([^\"]*)\">").matcher(body.substring(start));
        java.util.List<String> urls = new java.util.ArrayList<>();
        while (m.find()) {
            urls.add(m.group(1));
        }
        // six root versions, newest first
        assertEquals(java.util.List.of("/products/" + enc(XSS) + "/" + enc(JS) + "/q%22%27%26b/" + enc(JS) + "/",
                "/products/acme/std/hidden/9.0/", "/products/secret/std/main/2.0/", "/products/acme/std/main/1.11/",
                "/products/acme/std/main/1.10/", "/products/acme/std/main/1.9/"), urls);
    }

    @Test
    void cleanupPageShowsTheRuns() throws Exception {
        Helpers.fullCleanup(s);
        assertPage(page(admin, "/cleanup"), "Cleanup", "<th>trigger</th>", "<td>test</td>", "<td>full</td>",
                "No timer.");
    }

    @Test
    void hostileNamesAreEscapedAndLinksStayRelative() throws Exception {
        String p = enc(XSS);
        String v = enc(JS);
        for (String path : java.util.List.of("/products/", "/products/" + p + "/", "/products/" + p + "/" + v + "/",
                "/products/" + p + "/" + v + "/q%22%27%26b/", "/products/" + p + "/" + v + "/q%22%27%26b/" + v + "/",
                "/")) {
            HttpResponse<String> r = page(admin, path);
            assertStatus(200, r);
            String body = r.body();
            assertLacks(body, "<img src=x", "href=\"javascript:", "href=\"" + JS, "q\"'");
            assertTrue(body.contains("&lt;img src=x onerror=alert(1)&gt;"), path + ": " + body);
        }
        String branch = page(admin, "/products/" + p + "/" + v + "/").body();
        assertTrue(branch.contains("href=\"q%22%27%26b/\""), branch);
        String version = page(admin, "/products/" + p + "/" + v + "/q%22%27%26b/").body();
        assertTrue(version.contains("href=\"" + v + "/\""), version);
        assertTrue(version.contains("href=\"" + v + ".tar\""), version);
        assertTrue(page(admin, "/products/").body().contains("href=\"" + p + "/\""));
    }

    @Test
    void latestReleasesCanBeTurnedOff() throws Exception {
        try (TestAuth a = new TestAuth().user("bob", "b-pw", "bobs").acl("bobs", "rw /**")) {
            TestServer off = a.start("DLREPO_FSYNC", "0", "DLREPO_LATEST_RELEASES", "0",
                    "DLREPO_LATEST_RELEASES_USER", "0");
            try {
                Caller bob = off.as("bob", "b-pw");
                release(bob, "/branches/a/t1/build/", "acme", "std", "main", "1.0", false);
                release(bob, "/~bob/branches/a/t1/build/", "acme", "std", "main", "1.0", false);
                String home = assertPage(page(bob, "/"), "Home", "href=\"/products/\"");
                assertLacks(home, "Latest releases", "/products/acme/std/main/1.0/");
                String user = assertPage(page(bob, "/~bob/"), "User bob", "href=\"/~bob/products/\"");
                assertLacks(user, "Latest releases", "/~bob/products/acme/std/main/1.0/");
            } finally {
                off.close();
            }
        }
    }
}
