package dlrepo.products;

import static dlrepo.products.Helpers.assertError;
import static dlrepo.products.Helpers.assertNoDanglingLinks;
import static dlrepo.products.Helpers.finalizeFormat;
import static dlrepo.products.Helpers.jobBody;
import static dlrepo.products.Helpers.linkJob;
import static dlrepo.products.Helpers.linkTarget;
import static dlrepo.products.Helpers.list;
import static dlrepo.products.Helpers.ok;
import static dlrepo.products.Helpers.patchJob;
import static dlrepo.products.Helpers.productMeta;
import static dlrepo.products.Helpers.unique;
import static dlrepo.products.Helpers.upload201;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The product symlinks on disk: created from job metadata, kept in step with new formats and
 * metadata changes, removed by every kind of delete, never left dangling.
 */
class ProductLinkTest {
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

    /** Whatever a test did, the product tree never holds a dangling or absolute link. */
    @AfterEach
    void noDanglingLinks() throws Exception {
        assertNoDanglingLinks(s.root());
    }

    private static Path products() {
        return s.root().resolve("products");
    }

    private static Path branches() {
        return s.root().resolve("branches");
    }

    /** Uploads one finalized file per format into job {@code url} ('/'-terminated). */
    private static void formats(String url, String... formats) throws Exception {
        for (String f : formats) {
            upload201(s, url + f + "/" + f + "-file.bin", "content of " + url + f);
            finalizeFormat(s, url + f + "/");
        }
    }

    /** Asserts that {@code versionDir/format} is a relative symlink to {@code branches/<formatRel>}. */
    private static void assertFormatLink(Path versionDir, String format, String formatRel) throws Exception {
        Path link = versionDir.resolve(format);
        assertTrue(Files.isSymbolicLink(link), link + " is a symlink");
        Path target = Files.readSymbolicLink(link);
        assertFalse(target.isAbsolute(), "relative link: " + target);
        Path expected = branches().resolve(formatRel);
        assertEquals(expected, linkTarget(link));
        assertEquals(expected.toRealPath(), link.toRealPath(), "resolves into branches/");
        // products/p/v/b/version/format -> ../../../../../branches/...
        assertEquals(Path.of("../../../../../branches").resolve(formatRel), target);
    }

    private static void assertJobLink(String jobRel, String versionRel) throws Exception {
        Path marker = branches().resolve(jobRel).resolve(".product");
        assertTrue(Files.isSymbolicLink(marker), marker + " is a symlink");
        Path target = Files.readSymbolicLink(marker);
        assertEquals(Path.of("../../../../products").resolve(versionRel), target);
        assertEquals(products().resolve(versionRel).toRealPath(), marker.toRealPath());
    }

    /** The names of a folder that do not start with '.'. */
    private static List<String> visible(Path dir) throws Exception {
        return list(dir).stream().filter(n -> !n.startsWith(".")).toList();
    }

    @Test
    void metadataLinksEveryFormatWithRelativeSymlinks() throws Exception {
        String b = unique("lnk");
        String p = unique("AcMe");
        String url = "/branches/" + b + "/t1/build/";
        formats(url, "deb", "rpm");
        HttpResponse<String> r = patchJob(s, url, productMeta(p, "Server-X", "Main", "1.0-RC1"));
        ok(r);
        // metadata values keep their case; the path names are lowercased
        JsonNode job = ok(s.get(url)).get("job");
        assertEquals(p, job.get("product").asText());
        assertEquals("Server-X", job.get("product_variant").asText());
        assertEquals("Main", job.get("product_branch").asText());
        assertEquals("1.0-RC1", job.get("version").asText());
        assertTrue(Files.readString(branches().resolve(b + "/t1/build/.metadata")).contains("\"1.0-RC1\""));
        String pl = p.toLowerCase();
        assertEquals(List.of(pl), list(products()).stream().filter(n -> n.equals(pl)).toList());
        assertFalse(Files.exists(products().resolve(p)), "no mixed-case folder");
        Path version = products().resolve(pl + "/server-x/main/1.0-rc1");
        assertEquals(List.of(".stamp", "deb", "rpm"), list(version));
        assertTrue(Files.isRegularFile(version.resolve(".stamp"), LinkOption.NOFOLLOW_LINKS));
        assertFormatLink(version, "deb", b + "/t1/build/deb");
        assertFormatLink(version, "rpm", b + "/t1/build/rpm");
        assertJobLink(b + "/t1/build", pl + "/server-x/main/1.0-rc1");
        // the link shows the job's files
        assertTrue(Files.isRegularFile(version.resolve("deb/deb-file.bin")));
        // PATCHing the same values again changes nothing
        Path stamp = version.resolve(".stamp");
        FileTime before = FileTime.fromMillis(1_000_000_000_000L);
        Files.setLastModifiedTime(stamp, before);
        ok(patchJob(s, url, productMeta(p, "Server-X", "Main", "1.0-RC1")));
        assertEquals(List.of(".stamp", "deb", "rpm"), list(version));
        assertEquals(before, Files.getLastModifiedTime(stamp), ".stamp records the first link");
        // and the API sees it
        JsonNode v = ok(s.get("/products/" + pl + "/server-x/main/1.0-rc1/")).get("version");
        assertEquals("1.0-rc1", v.get("name").asText());
        assertEquals(List.of("deb", "rpm"), names(v.get("artifact_formats")));
    }

    private static List<String> names(JsonNode array) {
        List<String> out = new java.util.ArrayList<>();
        array.forEach(n -> out.add(n.isTextual() ? n.asText() : n.get("name").asText()));
        return out;
    }

    @Test
    void fewerThanFourKeysLinksNothing() throws Exception {
        String b = unique("lnk");
        String p = unique("partial");
        String url = "/branches/" + b + "/t1/build/";
        formats(url, "deb");
        Map<String, String> m = new HashMap<>();
        m.put("product", p);
        m.put("product_variant", "v");
        m.put("product_branch", "b");
        ok(patchJob(s, url, jobBody(m)));
        assertFalse(Files.exists(products().resolve(p)));
        assertFalse(Files.exists(branches().resolve(b + "/t1/build/.product"), LinkOption.NOFOLLOW_LINKS));
        assertError(s.get("/products/" + p + "/"), 404, null);
    }

    @Test
    void formatUploadedAfterTheMetadataIsLinked() throws Exception {
        String b = unique("lnk");
        String p = unique("late");
        String url = "/branches/" + b + "/t1/build/";
        formats(url, "deb");
        linkJob(s, url, p, "v", "br", "2.0");
        Path version = products().resolve(p + "/v/br/2.0");
        assertEquals(List.of("deb"), visible(version));
        // a new format: linked as soon as it is created (still dirty)
        upload201(s, url + "iso/disk.iso", "iso data");
        assertEquals(List.of("deb", "iso"), visible(version));
        assertFormatLink(version, "iso", b + "/t1/build/iso");
        // more files into an existing format do not disturb the link
        upload201(s, url + "iso/disk2.iso", "iso data 2");
        finalizeFormat(s, url + "iso/");
        assertFormatLink(version, "iso", b + "/t1/build/iso");
        JsonNode f = ok(s.get("/products/" + p + "/v/br/2.0/iso/")).get("artifact_format");
        assertEquals(List.of("disk.iso", "disk2.iso"), names(f.get("files")));
    }

    @Test
    void twoJobsOfOneVersionContributeTheirFormats() throws Exception {
        String b = unique("lnk");
        String p = unique("shared");
        String a = "/branches/" + b + "/t1/build-a/";
        String c = "/branches/" + b + "/t2/build-b/";
        formats(a, "deb");
        formats(c, "rpm", "doc");
        linkJob(s, a, p, "v", "br", "3.0");
        Path version = products().resolve(p + "/v/br/3.0");
        FileTime first = FileTime.fromMillis(1_100_000_000_000L);
        Files.setLastModifiedTime(version.resolve(".stamp"), first);
        linkJob(s, c, p, "V", "BR", "3.0");
        assertEquals(List.of(".stamp", "deb", "doc", "rpm"), list(version));
        assertFormatLink(version, "deb", b + "/t1/build-a/deb");
        assertFormatLink(version, "rpm", b + "/t2/build-b/rpm");
        assertFormatLink(version, "doc", b + "/t2/build-b/doc");
        assertEquals(first, Files.getLastModifiedTime(version.resolve(".stamp")), "stamp of the first job kept");
        assertJobLink(b + "/t1/build-a", p + "/v/br/3.0");
        assertJobLink(b + "/t2/build-b", p + "/v/br/3.0");
        JsonNode v = ok(s.get("/products/" + p + "/v/br/3.0/")).get("version");
        assertEquals(List.of("deb", "doc", "rpm"), names(v.get("artifact_formats")));
        // one job leaves the version: the other's formats stay
        ok(patchJob(s, c, productMeta(p, "v", "br", "3.1")));
        assertEquals(List.of(".stamp", "deb"), list(version));
        assertEquals(List.of(".stamp", "doc", "rpm"), list(products().resolve(p + "/v/br/3.1")));
    }

    @Test
    void changingTheVersionRelinks() throws Exception {
        String b = unique("lnk");
        String p = unique("move");
        String url = "/branches/" + b + "/t1/build/";
        formats(url, "deb", "rpm");
        linkJob(s, url, p, "v", "br", "1.0");
        assertEquals(List.of(".stamp", "deb", "rpm"), list(products().resolve(p + "/v/br/1.0")));
        // a version change: the old version folder is gone
        ok(patchJob(s, url, jobBody(Map.of("version", "1.1"))));
        assertEquals(List.of("1.1"), list(products().resolve(p + "/v/br")));
        Path v11 = products().resolve(p + "/v/br/1.1");
        assertEquals(List.of(".stamp", "deb", "rpm"), list(v11));
        assertFormatLink(v11, "deb", b + "/t1/build/deb");
        assertJobLink(b + "/t1/build", p + "/v/br/1.1");
        assertError(s.get("/products/" + p + "/v/br/1.0/"), 404, null);
        // a product change: the old product's empty folders are pruned up to products/
        String p2 = unique("moved");
        ok(patchJob(s, url, jobBody(Map.of("product", p2, "product_branch", "Other"))));
        assertFalse(Files.exists(products().resolve(p)), "old product pruned");
        assertTrue(Files.isDirectory(products()), "products/ itself stays");
        assertEquals(List.of(".stamp", "deb", "rpm"), list(products().resolve(p2 + "/v/other/1.1")));
        assertJobLink(b + "/t1/build", p2 + "/v/other/1.1");
        assertError(s.get("/products/" + p + "/"), 404, null);
        assertEquals(p2, ok(s.get("/products/" + p2 + "/")).at("/product/name").asText());
    }

    @Test
    void removingAProductKeyUnlinks() throws Exception {
        String b = unique("lnk");
        String url = "/branches/" + b + "/t1/build/";
        formats(url, "deb");
        Path job = branches().resolve(b + "/t1/build");
        int round = 0;
        for (String removal : List.of("{\"job\": {\"version\": null}}", "{\"job\": {\"product_variant\": \"\"}}",
                "{\"job\": {\"product\": false}}")) {
            String p = unique("unl");
            linkJob(s, url, p, "v", "br", "1");
            assertTrue(Files.isSymbolicLink(job.resolve(".product")), "linked, round " + round);
            ok(patchJob(s, url, removal));
            assertFalse(Files.exists(products().resolve(p)), removal + ": product folder pruned");
            assertFalse(Files.exists(job.resolve(".product"), LinkOption.NOFOLLOW_LINKS), removal + ": .product gone");
            round++;
        }
        JsonNode meta = ok(s.get(url)).get("job");
        assertFalse(meta.has("product"));
        assertEquals("v", meta.get("product_variant").asText());
        assertEquals("1", meta.get("version").asText());
    }

    @Test
    void invalidProductNamesAreRefusedAndChangeNothing() throws Exception {
        String b = unique("lnk");
        String p = unique("valid");
        String url = "/branches/" + b + "/t1/build/";
        formats(url, "deb");
        linkJob(s, url, p, "v", "br", "1.0");
        Path metaFile = branches().resolve(b + "/t1/build/.metadata");
        byte[] metaBefore = Files.readAllBytes(metaFile);
        List<String> productsBefore = list(products());
        for (String[] bad : new String[][] {{"product", ".hidden"}, {"version", "a/b"}, {"product_variant", ".."},
                {"product_branch", "."}, {"version", "x\ny"}}) {
            Map<String, String> m = new HashMap<>();
            m.put(bad[0], bad[1]);
            m.put("other", "must not be stored either");
            HttpResponse<String> r = patchJob(s, url, jobBody(m));
            assertError(r, 400, null);
            assertArrayEquals(metaBefore, Files.readAllBytes(metaFile), bad[0] + "=" + bad[1] + ": metadata unchanged");
            assertEquals(productsBefore, list(products()));
            assertEquals(List.of(".stamp", "deb"), list(products().resolve(p + "/v/br/1.0")));
            assertJobLink(b + "/t1/build", p + "/v/br/1.0");
        }
        assertFalse(ok(s.get(url)).get("job").has("other"));
        // a job that is not linked yet: refused too, nothing created
        String url2 = "/branches/" + b + "/t1/other/";
        formats(url2, "deb");
        assertError(patchJob(s, url2, productMeta(".p", "v", "b", "1")), 400, null);
        assertEquals(productsBefore, list(products()));
        Path meta2 = branches().resolve(b + "/t1/other/.metadata");
        assertTrue(!Files.exists(meta2) || !Files.readString(meta2).contains("\".p\""), "nothing stored");
    }

    // ---- unlinking on every kind of delete ----

    /** Two jobs in one version; returns the version folder. */
    private static Path sharedVersion(String b, String p) throws Exception {
        formats("/branches/" + b + "/t1/job-a/", "deb", "rpm");
        formats("/branches/" + b + "/t2/job-b/", "doc");
        linkJob(s, "/branches/" + b + "/t1/job-a/", p, "v", "br", "1.0");
        linkJob(s, "/branches/" + b + "/t2/job-b/", p, "v", "br", "1.0");
        Path version = products().resolve(p + "/v/br/1.0");
        assertEquals(List.of(".stamp", "deb", "doc", "rpm"), list(version));
        return version;
    }

    @Test
    void formatDeleteUnlinks() throws Exception {
        String b = unique("del");
        String p = unique("fdel");
        Path version = sharedVersion(b, p);
        ok(s.delete("/branches/" + b + "/t1/job-a/deb/"));
        assertEquals(List.of(".stamp", "doc", "rpm"), list(version));
        ok(s.delete("/branches/" + b + "/t1/job-a/rpm/"));
        assertEquals(List.of(".stamp", "doc"), list(version));
        assertEquals(List.of("doc"), names(ok(s.get("/products/" + p + "/v/br/1.0/")).at("/version/artifact_formats")));
        ok(s.delete("/branches/" + b + "/t2/job-b/doc/"));
        assertFalse(Files.exists(products().resolve(p)), "empty product folders pruned");
        assertError(s.get("/products/" + p + "/v/br/1.0/"), 404, null);
        assertError(s.get("/products/" + p + "/"), 404, null);
    }

    @Test
    void uploadAfterTheLastFormatWasDeletedLinksAgain() throws Exception {
        String b = unique("del");
        String p = unique("again");
        String url = "/branches/" + b + "/t1/build/";
        formats(url, "deb");
        linkJob(s, url, p, "v", "br", "1.0");
        ok(s.delete(url + "deb/"));
        assertFalse(Files.exists(products().resolve(p)));
        // the metadata still names the version: a new format appears in it again
        upload201(s, url + "rpm/x.rpm", "rpm after delete");
        finalizeFormat(s, url + "rpm/");
        Path version = products().resolve(p + "/v/br/1.0");
        assertEquals(List.of("rpm"), visible(version));
        assertTrue(Files.exists(version.resolve(".stamp")));
        assertFormatLink(version, "rpm", b + "/t1/build/rpm");
        assertJobLink(b + "/t1/build", p + "/v/br/1.0");
        // metadata changed while the job has no format: no empty version appears
        ok(s.delete(url + "rpm/"));
        ok(patchJob(s, url, jobBody(Map.of("version", "1.1"))));
        assertFalse(Files.exists(products().resolve(p)));
        assertFalse(Files.exists(branches().resolve(b + "/t1/build/.product"), LinkOption.NOFOLLOW_LINKS));
        upload201(s, url + "src/x.tgz", "src after delete");
        assertEquals(List.of("src"), visible(products().resolve(p + "/v/br/1.1")));
        assertJobLink(b + "/t1/build", p + "/v/br/1.1");
    }

    @Test
    void jobDeleteUnlinksAndKeepsTheOtherJobsFormats() throws Exception {
        String b = unique("del");
        String p = unique("jdel");
        Path version = sharedVersion(b, p);
        ok(s.delete("/branches/" + b + "/t1/job-a/"));
        assertEquals(List.of(".stamp", "doc"), list(version));
        assertFormatLink(version, "doc", b + "/t2/job-b/doc");
        ok(s.delete("/branches/" + b + "/t2/job-b/"));
        assertFalse(Files.exists(products().resolve(p)));
    }

    @Test
    void tagDeleteUnlinks() throws Exception {
        String b = unique("del");
        String p = unique("tdel");
        Path version = sharedVersion(b, p);
        // a second job in t2, in another version of the same branch
        formats("/branches/" + b + "/t2/job-c/", "iso");
        linkJob(s, "/branches/" + b + "/t2/job-c/", p, "v", "br", "2.0");
        ok(s.delete("/branches/" + b + "/t1/"));
        assertEquals(List.of(".stamp", "doc"), list(version));
        ok(s.delete("/branches/" + b + "/t2/"));
        assertFalse(Files.exists(products().resolve(p)), "both versions and their parents pruned");
    }

    @Test
    void branchDeleteUnlinks() throws Exception {
        String b = unique("del");
        String other = unique("keep");
        String p = unique("bdel");
        Path version = sharedVersion(b, p);
        formats("/branches/" + other + "/t9/job-z/", "src");
        linkJob(s, "/branches/" + other + "/t9/job-z/", p, "v", "br", "1.0");
        assertEquals(List.of(".stamp", "deb", "doc", "rpm", "src"), list(version));
        ok(s.delete("/branches/" + b + "/"));
        assertEquals(List.of(".stamp", "src"), list(version));
        assertFormatLink(version, "src", other + "/t9/job-z/src");
        ok(s.delete("/branches/" + other + "/"));
        assertFalse(Files.exists(products().resolve(p)));
    }

    @Test
    void cleanupPolicyDeleteUnlinks() throws Exception {
        String b = unique("pol");
        String p = unique("cdel");
        String keepBranch = unique("polkeep");
        // t1 (old) and t2 (new) in one version; t3 alone in another; the policy keeps 1 tag
        formats("/branches/" + b + "/t1/job/", "deb");
        formats("/branches/" + b + "/t2/job/", "rpm");
        formats("/branches/" + b + "/t3/job/", "iso");
        formats("/branches/" + keepBranch + "/t1/job/", "doc");
        linkJob(s, "/branches/" + b + "/t1/job/", p, "v", "br", "1.0");
        linkJob(s, "/branches/" + b + "/t2/job/", p, "v", "br", "1.0");
        linkJob(s, "/branches/" + b + "/t3/job/", p, "v", "br", "0.9");
        linkJob(s, "/branches/" + keepBranch + "/t1/job/", p, "v", "br", "1.0");
        long now = System.currentTimeMillis();
        Files.setLastModifiedTime(branches().resolve(b + "/t3/.stamp"), FileTime.fromMillis(now - 300_000));
        Files.setLastModifiedTime(branches().resolve(b + "/t1/.stamp"), FileTime.fromMillis(now - 200_000));
        Files.setLastModifiedTime(branches().resolve(b + "/t2/.stamp"), FileTime.fromMillis(now - 100_000));
        ok(s.json("POST", "/branches/" + b + "/", "{\"branch\": {\"max_daily_tags\": 1}}"));
        Helpers.fullCleanup(s);
        assertEquals(List.of("t2"), visible(branches().resolve(b)));
        assertEquals(List.of(".stamp", "doc", "rpm"), list(products().resolve(p + "/v/br/1.0")));
        assertFalse(Files.exists(products().resolve(p + "/v/br/0.9")), "t3's version pruned");
        assertEquals(List.of("1.0"), list(products().resolve(p + "/v/br")));
    }
}
