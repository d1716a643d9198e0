package dlrepo.products;

import static dlrepo.products.Helpers.assert405;
import static dlrepo.products.Helpers.assertError;
import static dlrepo.products.Helpers.assertRedirect;
import static dlrepo.products.Helpers.finalizeFormat;
import static dlrepo.products.Helpers.linkJob;
import static dlrepo.products.Helpers.ok;
import static dlrepo.products.Helpers.send;
import static dlrepo.products.Helpers.sha256;
import static dlrepo.products.Helpers.unique;
import static dlrepo.products.Helpers.upload201;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.TarReader;
import dlrepo.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The read-only {@code /products/} API over a fixed product: listings, version flags,
 * aliases by creation time, canonical redirects, format/file/archive routes under a
 * version, and refused writes.
 *
 * <p>acme/server/main has three versions. By creation time: 9.0 (tag t-old, stable),
 * 10.0 (t-mid, stable and locked), 8.5 (t-new, neither; its build job released).
 * 8.5 gathers two jobs: build (deb: pkg.deb, sub/extra.deb) and docs (doc: guide.txt,
 * iso: disk.iso).
 */
class ProductApiTest {
    static TestServer s;
    static final String B = "/products/acme/server/main/";
    static final String V = B + "8.5/";
    static final String PKG = "package 8.5 contents";
    static final String EXTRA = "extra package";
    static final String GUIDE = "the guide";
    static final String ISO = "iso image bytes";
    static double[] stamps;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"));
        String[][] builds = {{"t-old", "9.0"}, {"t-mid", "10.0"}, {"t-new", "8.5"}};
        for (String[] b : builds) {
            String job = "/branches/rel/" + b[0] + "/build/";
            upload201(s, job + "deb/pkg.deb", b[1].equals("8.5") ? PKG : "package " + b[1]);
            if (b[1].equals("8.5")) {
                upload201(s, job + "deb/sub/extra.deb", EXTRA);
            }
            finalizeFormat(s, job + "deb/");
            // mixed case values: the paths are lowercased
            linkJob(s, job, "Acme", "Server", "MAIN", b[1]);
        }
        String docs = "/branches/rel/t-new/docs/";
        upload201(s, docs + "doc/guide.txt", GUIDE);
        upload201(s, docs + "iso/disk.iso", ISO);
        finalizeFormat(s, docs + "doc/");
        finalizeFormat(s, docs + "iso/");
        linkJob(s, docs, "acme", "server", "main", "8.5");
        ok(s.json("POST", "/branches/rel/t-old/", "{\"tag\": {\"stable\": true}}"));
        ok(s.json("POST", "/branches/rel/t-mid/", "{\"tag\": {\"stable\": true, \"locked\": true}}"));
        Files.createFile(s.root().resolve("branches/rel/t-new/build/.released"));
        // creation times: 9.0 < 10.0 < 8.5 (not the order of the names)
        long now = System.currentTimeMillis() / 1000 * 1000;
        Path pb = s.root().resolve("products/acme/server/main");
        stamps = new double[3];
        for (int i = 0; i < 3; i++) {
            long t = now - (3 - i) * 100_000L;
            Files.setLastModifiedTime(pb.resolve(builds[i][1] + "/.stamp"), FileTime.fromMillis(t));
            stamps[i] = t / 1000.0;
        }
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    private static List<String> names(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.isTextual() ? n.asText() : n.get("name").asText()));
        return out;
    }

    @Test
    void listings() throws Exception {
        // other tests add "alias<N>" products
        List<String> products = names(ok(s.get("/products/")).get("products"));
        assertEquals(List.of("acme"), products.stream().filter(n -> !n.startsWith("alias")).toList());
        assertEquals(products.stream().sorted().toList(), products, "sorted by name");
        JsonNode p = ok(s.get("/products/acme/")).get("product");
        assertEquals("acme", p.get("name").asText());
        assertEquals(List.of("server"), names(p.get("product_variants")));
        JsonNode v = ok(s.get("/products/acme/server/")).get("product_variant");
        assertEquals("server", v.get("name").asText());
        assertEquals(List.of("main"), names(v.get("product_branches")));
        JsonNode b = ok(s.get(B)).get("product_branch");
        assertEquals("main", b.get("name").asText());
        JsonNode versions = b.get("versions");
        assertEquals(List.of("10.0", "8.5", "9.0"), names(versions), "sorted by name");
        JsonNode v10 = versions.get(0);
        JsonNode v85 = versions.get(1);
        JsonNode v9 = versions.get(2);
        assertEquals(stamps[1], v10.get("timestamp").asDouble(), 1e-3);
        assertEquals(stamps[2], v85.get("timestamp").asDouble(), 1e-3);
        assertEquals(stamps[0], v9.get("timestamp").asDouble(), 1e-3);
        assertFlags(v10, true, false, true);
        assertFlags(v85, false, true, false);
        assertFlags(v9, false, false, true);
        // HEAD works wherever GET does
        for (String url : List.of("/products/", "/products/acme/", "/products/acme/server/", B, V)) {
            HttpResponse<String> h = s.head(url);
            assertEquals(200, h.statusCode(), url);
            assertEquals("", h.body());
        }
    }

    private static void assertFlags(JsonNode version, boolean locked, boolean released, boolean stable) {
        String n = version.get("name").asText();
        assertTrue(version.get("locked").isBoolean() && version.get("released").isBoolean()
                && version.get("stable").isBoolean(), n + ": boolean flags");
        assertEquals(locked, version.get("locked").asBoolean(), n + " locked");
        assertEquals(released, version.get("released").asBoolean(), n + " released");
        assertEquals(stable, version.get("stable").asBoolean(), n + " stable");
    }

    @Test
    void version() throws Exception {
        JsonNode v = ok(s.get(V)).get("version");
        assertEquals("8.5", v.get("name").asText());
        assertEquals(List.of("deb", "doc", "iso"), names(v.get("artifact_formats")));
        assertEquals(List.of("deb"), names(ok(s.get(B + "9.0/")).at("/version/artifact_formats")));
    }

    @Test
    void missingLevelsAre404() throws Exception {
        for (String url : List.of("/products/nope/", "/products/acme/nope/", "/products/acme/server/nope/",
                B + "nope/", B + "nope.tar", V + "nope/", V + "nope", V + "nope.tar", V + "nope.sha256",
                V + "deb/missing.deb", V + "deb/sub/")) {
            assertError(s.get(url), 404, null);
        }
        assertEquals(404, s.head(B + "nope/").statusCode());
    }

    @Test
    void aliasesRedirectByCreationTime() throws Exception {
        assertRedirect(s.get(B + "latest/"), B + "8.5/");
        assertRedirect(s.get(B + "stable/"), B + "10.0/");
        assertRedirect(s.get(B + "oldstable/"), B + "9.0/");
        assertRedirect(s.head(B + "stable/"), B + "10.0/");
        assertRedirect(s.get(B + "Latest/"), B + "8.5/");
        assertRedirect(s.get(B + "latest"), B + "8.5/");
        assertRedirect(s.get(B + "latest/deb/pkg.deb"), V + "deb/pkg.deb");
        assertRedirect(s.get(B + "oldstable/deb/"), B + "9.0/deb/");
        assertRedirect(s.get(B + "latest.tar"), B + "8.5.tar");
        assertRedirect(s.get(B + "latest/deb.sha256"), V + "deb.sha256");
        assertRedirect(s.get(B + "stable/?x=1"), B + "10.0/?x=1");
        // writes to an alias: read-only
        assert405(send(s, "DELETE", B + "latest/"));
    }

    @Test
    void aliasesFollowTheStableFlag() throws Exception {
        // a product of its own, so that flag changes do not disturb the other tests
        String p = unique("alias");
        String pb = "/products/" + p + "/v/b/";
        String[] tags = {"a1", "a2", "a3"};
        long now = System.currentTimeMillis();
        for (int i = 0; i < 3; i++) {
            String job = "/branches/" + p + "/" + tags[i] + "/j/";
            upload201(s, job + "f/x", "alias " + i);
            linkJob(s, job, p, "v", "b", "r" + (3 - i)); // names r3 r2 r1, oldest first
            Files.setLastModifiedTime(s.root().resolve("products/" + p + "/v/b/r" + (3 - i) + "/.stamp"),
                    FileTime.fromMillis(now - (3 - i) * 60_000L));
        }
        assertRedirect(s.get(pb + "latest/"), pb + "r1/");
        assertError(s.get(pb + "stable/"), 404, null);
        assertError(s.get(pb + "oldstable/"), 404, null);
        ok(s.json("POST", "/branches/" + p + "/a1/", "{\"tag\": {\"stable\": true}}"));
        assertRedirect(s.get(pb + "stable/"), pb + "r3/");
        assertError(s.get(pb + "oldstable/"), 404, null);
        ok(s.json("POST", "/branches/" + p + "/a3/", "{\"tag\": {\"stable\": true}}"));
        assertRedirect(s.get(pb + "stable/"), pb + "r1/");
        assertRedirect(s.get(pb + "oldstable/"), pb + "r3/");
        // the version's flags follow the tag
        JsonNode versions = ok(s.get(pb)).at("/product_branch/versions");
        assertEquals(List.of("r1", "r2", "r3"), names(versions));
        assertEquals(List.of(true, false, true),
                List.of(versions.get(0).get("stable").asBoolean(), versions.get(1).get("stable").asBoolean(),
                        versions.get(2).get("stable").asBoolean()));
    }

    @Test
    void canonicalRedirects() throws Exception {
        assertRedirect(s.get("/products"), "/products/");
        assertRedirect(s.get("/products/acme"), "/products/acme/");
        assertRedirect(s.get("/products/ACME/"), "/products/acme/");
        assertRedirect(s.get("/products/Acme/Server/MAIN/"), B);
        assertRedirect(s.get("/products/acme/server/main"), B);
        assertRedirect(s.get(B + "8.5"), V);
        assertRedirect(s.head(B + "8.5"), V);
        assertRedirect(s.get(V + "DEB/pkg.deb"), V + "deb/pkg.deb");
        assertRedirect(s.get("/products/ACME/server/main/8.5.tar"), B + "8.5.tar");
        // the format without its slash: several files -> the folder; one file -> the file
        assertRedirect(s.get(V + "deb"), V + "deb/");
        HttpResponse<String> one = s.get(V + "iso");
        assertRedirect(one, V + "iso/disk.iso");
        assertTrue(one.headers().firstValue("Content-Disposition").orElse("").contains("disk.iso"));
    }

    @Test
    void formatAndFilesUnderAVersion() throws Exception {
        JsonNode f = ok(s.get(V + "deb/")).get("artifact_format");
        assertEquals("deb", f.get("name").asText());
        assertFalse(f.get("dirty").asBoolean());
        assertEquals(List.of("pkg.deb", "sub/extra.deb"), names(f.get("files")));
        assertEquals(List.of("guide.txt"), names(ok(s.get(V + "doc/")).at("/artifact_format/files")));
        assertEquals(200, s.head(V + "deb/").statusCode(), "finalized: HEAD 200");

        HttpResponse<byte[]> file = s.getBytes(V + "deb/pkg.deb");
        assertEquals(200, file.statusCode());
        assertArrayEquals(PKG.getBytes(StandardCharsets.UTF_8), file.body());
        String hex = sha256(PKG);
        assertEquals("sha256:" + hex, file.headers().firstValue("Digest").orElse(null));
        String etag = file.headers().firstValue("ETag").orElse("");
        assertTrue(etag.contains(hex), "ETag is the digest: " + etag);
        assertEquals(String.valueOf(PKG.length()), file.headers().firstValue("Content-Length").orElse(null));
        HttpResponse<String> cached = s.send(s.request(V + "deb/pkg.deb").header("If-None-Match", etag).build());
        assertEquals(304, cached.statusCode());
        assertEquals(EXTRA, s.get(V + "deb/sub/extra.deb").body());
        HttpResponse<String> range = s.send(s.request(V + "deb/pkg.deb").header("Range", "bytes=8-").build());
        assertEquals(206, range.statusCode());
        assertEquals(PKG.substring(8), range.body());

        // <relpath>.sha256 computed from the digests
        HttpResponse<String> sum = s.get(V + "deb/sub/extra.deb.sha256");
        assertEquals(200, sum.statusCode());
        assertEquals(sha256(EXTRA) + "  extra.deb\n", sum.body());
        // <format>.sha256
        HttpResponse<String> sums = s.get(V + "deb.sha256");
        assertEquals(200, sums.statusCode());
        assertTrue(sums.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        assertEquals(sha256(PKG) + "  pkg.deb\n" + sha256(EXTRA) + "  sub/extra.deb\n", sums.body());
        // the same file through the branches URL
        assertEquals(PKG, s.get("/branches/rel/t-new/build/deb/pkg.deb").body());
    }

    private static List<TarReader.Member> tar(String url, String fileName) throws Exception {
        HttpResponse<byte[]> r = s.getBytes(url);
        assertEquals(200, r.statusCode(), () -> new String(r.body(), StandardCharsets.UTF_8));
        assertEquals("application/x-tar", r.headers().firstValue("Content-Type").orElse(null));
        String cd = r.headers().firstValue("Content-Disposition").orElse("");
        assertTrue(cd.equals("attachment; filename=" + fileName)
                || cd.equals("attachment; filename=\"" + fileName + "\""), cd);
        assertEquals(String.valueOf(r.body().length), r.headers().firstValue("Content-Length").orElse(null));
        HttpResponse<String> h = s.head(url);
        assertEquals(200, h.statusCode());
        assertEquals(String.valueOf(r.body().length), h.headers().firstValue("Content-Length").orElse(null));
        return Helpers.readTar(r.body());
    }

    @Test
    void formatArchive() throws Exception {
        List<TarReader.Member> m = tar(V + "deb.tar", "acme-server-v8.5-deb.tar");
        assertEquals(List.of("acme-server-v8.5-deb/pkg.deb", "acme-server-v8.5-deb/sub/extra.deb",
                "acme-server-v8.5-deb/SHA256SUMS.txt"), m.stream().map(TarReader.Member::name).toList());
        assertEquals(PKG, m.get(0).text());
        assertEquals(sha256(PKG) + "  pkg.deb\n" + sha256(EXTRA) + "  sub/extra.deb\n", m.get(2).text());
    }

    @Test
    void versionArchive() throws Exception {
        List<TarReader.Member> m = tar(B + "8.5.tar", "acme-server-v8.5.tar");
        String pre = "acme-server-v8.5/";
        assertEquals(List.of(pre + "deb/pkg.deb", pre + "deb/sub/extra.deb", pre + "doc/guide.txt",
                pre + "iso/disk.iso", pre + "SHA256SUMS.txt"), m.stream().map(TarReader.Member::name).toList());
        assertEquals(PKG, m.get(0).text());
        assertEquals(EXTRA, m.get(1).text());
        assertEquals(GUIDE, m.get(2).text());
        assertEquals(ISO, m.get(3).text());
        assertEquals(sha256(PKG) + "  deb/pkg.deb\n" + sha256(EXTRA) + "  deb/sub/extra.deb\n" + sha256(GUIDE)
                + "  doc/guide.txt\n" + sha256(ISO) + "  iso/disk.iso\n", m.get(4).text());
        List<TarReader.Member> old = tar(B + "9.0.tar", "acme-server-v9.0.tar");
        assertEquals(List.of("acme-server-v9.0/deb/pkg.deb", "acme-server-v9.0/SHA256SUMS.txt"),
                old.stream().map(TarReader.Member::name).toList());
        assertEquals("package 9.0", old.get(0).text());
    }

    @Test
    void writesAreRefused() throws Exception {
        Path deb = s.root().resolve("branches/rel/t-new/build/deb");
        byte[] digestsBefore = Files.readAllBytes(deb.resolve(".digests"));
        byte[] data = "overwrite".getBytes(StandardCharsets.UTF_8);
        String digest = TestServer.digest(data);
        // under a format: 400
        assertError(Helpers.put(s, V + "deb/new.deb", data, "Digest", digest), 400, null);
        assertError(Helpers.put(s, V + "deb/pkg.deb", data, "Digest", digest), 400, null);
        assertError(send(s, "PATCH", V + "deb/"), 400, null);
        assertError(send(s, "DELETE", V + "deb/"), 400, null);
        assertError(send(s, "DELETE", V + "deb/pkg.deb"), 400, null);
        assertError(s.json("PATCH", V + "deb/", "{}"), 400, null);
        assertFalse(Files.exists(deb.resolve("new.deb")));
        assertEquals(PKG, Files.readString(deb.resolve("pkg.deb")));
        assertArrayEquals(digestsBefore, Files.readAllBytes(deb.resolve(".digests")));
        assertFalse(Files.exists(deb.resolve(".dirty")));
        assertEquals(List.of("deb", "doc", "iso"), names(ok(s.get(V)).at("/version/artifact_formats")));
        // above the format: 405 with Allow
        for (String url : List.of("/products/", "/products/acme/", "/products/acme/server/", B, V,
                B + "8.5.tar", B + "stable/")) {
            for (String method : List.of("POST", "PUT", "DELETE", "PATCH")) {
                HttpResponse<String> r = s.send(s.request(url).header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString("{}")).build());
                assert405(r);
            }
        }
        assertTrue(Files.isDirectory(s.root().resolve("products/acme/server/main/8.5")));
        assertEquals(PKG, s.get(V + "deb/pkg.deb").body());
    }
}
