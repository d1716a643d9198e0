package dlrepo.auth;

import static dlrepo.auth.AuthSupport.assertStatus;
import static dlrepo.auth.AuthSupport.names;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestAuth;
import dlrepo.Caller;
import dlrepo.TestServer;
import dlrepo.products.Helpers;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Listings show only what the caller may read, at every level: branches, tags, jobs,
 * formats of a job, members of a job archive, products, variants, product branches,
 * versions, formats of a version and members of a version archive.
 */
class ListingFilterTest {
    static final String HIDDEN = String.join(" ",
            "!/branches/priv/**",
            "!/branches/mixed/t-closed/**",
            "!/branches/mixed/t-open/j-closed/**",
            "!/branches/*/*/*/f-closed/**",
            "!/products/prod-b/**",
            "!/products/*/var-closed/**",
            "!/products/*/*/pb-closed/**",
            "!/products/*/*/*/2.0/**",
            "!/products/*/*/*/*/f-closed/**",
            "!/~alice/branches/secret/**");
    static TestAuth setup;
    static TestServer s;
    static Caller admin;
    static Caller viewer;
    static Caller anon;

    @BeforeAll
    static void start() throws Exception {
        setup = new TestAuth();
        setup.user("admin", "adminpw", "admin").acl("admin", "rw /**")
                .user("viewer", "pw", "viewer").acl("viewer", "r /** " + HIDDEN)
                .acl("ANONYMOUS", "r /** " + HIDDEN);
        s = setup.start();
        admin = Caller.basic(s, "admin", "adminpw");
        viewer = Caller.basic(s, "viewer", "pw");
        anon = Caller.anonymous(s);
        String t = "/branches/mixed/t-open/";
        admin.uploadFinalized(t + "j-open/f-open/a.txt", "a");
        admin.uploadFinalized(t + "j-open/f-closed/b.txt", "b");
        link(t + "j-open/", "prod-a", "var", "pb", "1.0");
        admin.uploadFinalized(t + "j-b/f-open/c.txt", "c");
        link(t + "j-b/", "prod-b", "var", "pb", "1.0");
        admin.uploadFinalized(t + "j-c/f-open/d.txt", "d");
        link(t + "j-c/", "prod-a", "var-closed", "pb", "1.0");
        admin.uploadFinalized(t + "j-d/f-open/e.txt", "e");
        link(t + "j-d/", "prod-a", "var", "pb-closed", "1.0");
        admin.uploadFinalized(t + "j-e/f-open/f.txt", "f");
        link(t + "j-e/", "prod-a", "var", "pb", "2.0");
        admin.uploadFinalized(t + "j-closed/f-open/g.txt", "g");
        admin.uploadFinalized("/branches/mixed/t-closed/j/f/h.txt", "h");
        admin.uploadFinalized("/branches/priv/t/j/f/i.txt", "i");
        admin.uploadFinalized("/branches/pub/t/j/f/k.txt", "k");
        admin.uploadFinalized("/~alice/branches/secret/t/j/f/l.txt", "l");
        admin.uploadFinalized("/~alice/branches/open/t/j/f/m.txt", "m");
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
        setup.close();
    }

    private static void link(String job, String p, String v, String b, String version) throws Exception {
        assertStatus(200, admin.json("PATCH", job, Helpers.productMeta(p, v, b, version)));
    }

    private static Set<String> list(Caller c, String path, String... fields) throws Exception {
        var node = c.ok(path);
        for (String f : fields) {
            node = node.get(f);
            assertTrue(node != null, path + ": no " + f);
        }
        return new TreeSet<>(names(node));
    }

    /** The members of an archive, without the prefix folder. */
    private static Set<String> tar(Caller c, String path) throws Exception {
        HttpResponse<byte[]> r = c.getBytes(path);
        assertEquals(200, r.statusCode(), path);
        Set<String> out = new TreeSet<>();
        for (var m : Helpers.readTar(r.body())) {
            out.add(m.name().substring(m.name().indexOf('/') + 1));
            if (m.name().endsWith("SHA256SUMS.txt")) {
                for (String line : m.text().split("\n")) {
                    out.add("sum:" + line.substring(line.indexOf("  ") + 2));
                }
            }
        }
        return out;
    }

    @Test
    void treeListings() throws Exception {
        // the admin sees everything (so that the filters below have something to hide)
        assertEquals(Set.of("mixed", "priv", "pub"), list(admin, "/branches/", "branches"));
        assertEquals(Set.of("t-open", "t-closed"), list(admin, "/branches/mixed/", "branch", "tags"));
        assertEquals(Set.of("j-open", "j-b", "j-c", "j-d", "j-e", "j-closed"),
                list(admin, "/branches/mixed/t-open/", "tag", "jobs"));
        assertEquals(Set.of("f-open", "f-closed"),
                list(admin, "/branches/mixed/t-open/j-open/", "job", "artifact_formats"));
        for (Caller c : List.of(viewer, anon)) {
            assertEquals(Set.of("mixed", "pub"), list(c, "/branches/", "branches"));
            assertEquals(Set.of("t-open"), list(c, "/branches/mixed/", "branch", "tags"));
            assertEquals(Set.of("j-open", "j-b", "j-c", "j-d", "j-e"),
                    list(c, "/branches/mixed/t-open/", "tag", "jobs"));
            assertEquals(Set.of("f-open"), list(c, "/branches/mixed/t-open/j-open/", "job", "artifact_formats"));
            assertEquals(Set.of("open"), list(c, "/~alice/branches/", "branches"));
        }
        assertEquals(Set.of("open", "secret"), list(admin, "/~alice/branches/", "branches"));
    }

    @Test
    void jobArchiveMembers() throws Exception {
        Set<String> all = tar(admin, "/branches/mixed/t-open/j-open.tar");
        assertTrue(all.contains("f-closed/b.txt") && all.contains("f-open/a.txt"), all.toString());
        assertTrue(all.contains("sum:f-closed/b.txt"), all.toString());
        for (Caller c : List.of(viewer, anon)) {
            Set<String> seen = tar(c, "/branches/mixed/t-open/j-open.tar");
            assertEquals(Set.of("f-open/a.txt", "SHA256SUMS.txt", "sum:f-open/a.txt"), seen);
        }
    }

    @Test
    void productListings() throws Exception {
        assertEquals(Set.of("prod-a", "prod-b"), list(admin, "/products/", "products"));
        assertEquals(Set.of("var", "var-closed"), list(admin, "/products/prod-a/", "product", "product_variants"));
        assertEquals(Set.of("pb", "pb-closed"),
                list(admin, "/products/prod-a/var/", "product_variant", "product_branches"));
        assertEquals(Set.of("1.0", "2.0"), list(admin, "/products/prod-a/var/pb/", "product_branch", "versions"));
        assertEquals(Set.of("f-open", "f-closed"),
                list(admin, "/products/prod-a/var/pb/1.0/", "version", "artifact_formats"));
        for (Caller c : List.of(viewer, anon)) {
            assertEquals(Set.of("prod-a"), list(c, "/products/", "products"));
            assertEquals(Set.of("var"), list(c, "/products/prod-a/", "product", "product_variants"));
            assertEquals(Set.of("pb"), list(c, "/products/prod-a/var/", "product_variant", "product_branches"));
            assertEquals(Set.of("1.0"), list(c, "/products/prod-a/var/pb/", "product_branch", "versions"));
            assertEquals(Set.of("f-open"), list(c, "/products/prod-a/var/pb/1.0/", "version", "artifact_formats"));
            assertEquals(Set.of("f-open/a.txt", "SHA256SUMS.txt", "sum:f-open/a.txt"),
                    tar(c, "/products/prod-a/var/pb/1.0.tar"));
        }
        Set<String> all = tar(admin, "/products/prod-a/var/pb/1.0.tar");
        assertTrue(all.contains("f-closed/b.txt"), all.toString());
    }

    @Test
    void hiddenThingsAreDeniedDirectlyToo() throws Exception {
        for (String p : List.of("/branches/priv/", "/branches/mixed/t-closed/", "/branches/mixed/t-open/j-closed/",
                "/branches/mixed/t-open/j-open/f-closed/", "/branches/mixed/t-open/j-open/f-closed.tar",
                "/branches/mixed/t-open/j-open/f-closed.sha256", "/products/prod-b/", "/products/prod-a/var-closed/",
                "/products/prod-a/var/pb-closed/", "/products/prod-a/var/pb/2.0/", "/products/prod-a/var/pb/2.0.tar",
                "/products/prod-a/var/pb/1.0/f-closed/", "/products/prod-a/var/pb/1.0/f-closed/b.txt",
                "/products/prod-a/var/pb/1.0/f-closed.tar", "/products/prod-a/var/pb/1.0/f-closed.sha256",
                "/products/prod-a/var/pb/1.0/f-closed", "/~alice/branches/secret/")) {
            assertStatus(403, viewer.get(p));
            assertStatus(401, anon.get(p));
            assertFalse(admin.get(p).statusCode() >= 400, p + " exists for the admin");
        }
    }
}
