package dlrepo.api;

import static dlrepo.api.Api.assertError;
import static dlrepo.api.Api.finalizeFormat;
import static dlrepo.api.Api.ok;
import static dlrepo.api.Api.unique;
import static dlrepo.api.Api.upload201;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TarReader;
import dlrepo.TestServer;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code <job>.tar} and {@code <format>.tar}: streamed pax archives with SHA256SUMS.txt. */
class ArchiveTest {
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start();
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    /** GET a tar: checks the headers every archive has, parses it. */
    private static List<TarReader.Member> fetchTar(String url, String expectedFileName) throws Exception {
        HttpResponse<byte[]> r = Api.getBytes(s, url);
        assertEquals(200, r.statusCode(), () -> new String(r.body(), StandardCharsets.UTF_8));
        assertEquals("application/x-tar", r.headers().firstValue("Content-Type").orElse(null));
        String cd = r.headers().firstValue("Content-Disposition").orElse("");
        assertTrue(cd.equals("attachment; filename=" + expectedFileName)
                || cd.equals("attachment; filename=\"" + expectedFileName + "\""), cd);
        assertEquals(String.valueOf(r.body().length), r.headers().firstValue("Content-Length").orElse(null),
                "Content-Length equals the bytes received");
        HttpResponse<String> h = s.head(url);
        assertEquals(200, h.statusCode());
        assertEquals("", h.body());
        assertEquals(String.valueOf(r.body().length), h.headers().firstValue("Content-Length").orElse(null));
        return Api.readTar(r.body());
    }

    private static Map<String, String> contents(List<TarReader.Member> members) {
        Map<String, String> m = new LinkedHashMap<>();
        members.forEach(e -> m.put(e.name(), e.text()));
        return m;
    }

    private static void assertSums(TarReader.Member sums, Map<String, String> byName) {
        StringBuilder expected = new StringBuilder();
        byName.forEach((name, content) -> expected.append(Api.sha256(content)).append("  ").append(name).append('\n'));
        assertEquals(expected.toString(), sums.text());
    }

    private String jobWithFormats() throws Exception {
        String url = "/branches/" + unique("ar") + "/tag1/build/";
        upload201(s, url + "rpm/x.rpm", "rpm x");
        upload201(s, url + "deb/sub/b.deb", "deb b");
        upload201(s, url + "deb/a.deb", "deb a");
        upload201(s, url + "deb/Z.deb", "deb Z");
        finalizeFormat(s, url + "deb/");
        finalizeFormat(s, url + "rpm/");
        return url;
    }

    @Test
    void jobArchive() throws Exception {
        String url = jobWithFormats();
        String jobTar = url.substring(0, url.length() - 1) + ".tar";
        List<TarReader.Member> members = fetchTar(jobTar, "build-tag1.tar");
        Map<String, String> byName = contents(members);
        assertEquals(List.of("build-tag1/deb/Z.deb", "build-tag1/deb/a.deb", "build-tag1/deb/sub/b.deb",
                "build-tag1/rpm/x.rpm", "build-tag1/SHA256SUMS.txt"), new ArrayList<>(byName.keySet()));
        assertEquals("deb a", byName.get("build-tag1/deb/a.deb"));
        assertEquals("deb b", byName.get("build-tag1/deb/sub/b.deb"));
        assertEquals("rpm x", byName.get("build-tag1/rpm/x.rpm"));
        Map<String, String> files = new LinkedHashMap<>();
        files.put("deb/Z.deb", "deb Z");
        files.put("deb/a.deb", "deb a");
        files.put("deb/sub/b.deb", "deb b");
        files.put("rpm/x.rpm", "rpm x");
        assertSums(members.get(members.size() - 1), files);
        // uppercase in the URL: redirected to the canonical archive
        HttpResponse<String> r = s.get(jobTar.replace("/build.tar", "/BUILD.tar"));
        assertEquals(302, r.statusCode());
        assertEquals(jobTar, r.headers().firstValue("Location").orElse(null));
    }

    @Test
    void formatArchive() throws Exception {
        String url = jobWithFormats();
        List<TarReader.Member> members = fetchTar(url + "deb.tar", "build-tag1-deb.tar");
        assertEquals(List.of("build-tag1-deb/Z.deb", "build-tag1-deb/a.deb", "build-tag1-deb/sub/b.deb",
                "build-tag1-deb/SHA256SUMS.txt"), members.stream().map(TarReader.Member::name).toList());
        Map<String, String> files = new LinkedHashMap<>();
        files.put("Z.deb", "deb Z");
        files.put("a.deb", "deb a");
        files.put("sub/b.deb", "deb b");
        assertSums(members.get(3), files);
        assertEquals("deb Z", members.get(0).text());
    }

    @Test
    void productPrefix() throws Exception {
        String url = jobWithFormats();
        ok(s.json("PATCH", url, "{\"job\": {\"product\": \"acme\", \"product_variant\": \"server\"}}"));
        // not all four keys: the job-tag prefix stays
        fetchTar(url.substring(0, url.length() - 1) + ".tar", "build-tag1.tar");
        ok(s.json("PATCH", url, "{\"job\": {\"product_branch\": \"2.x\", \"version\": \"2.3.1\"}}"));
        List<TarReader.Member> members = fetchTar(url.substring(0, url.length() - 1) + ".tar",
                "acme-server-v2.3.1.tar");
        assertEquals(List.of("acme-server-v2.3.1/deb/Z.deb", "acme-server-v2.3.1/deb/a.deb",
                "acme-server-v2.3.1/deb/sub/b.deb", "acme-server-v2.3.1/rpm/x.rpm",
                "acme-server-v2.3.1/SHA256SUMS.txt"), members.stream().map(TarReader.Member::name).toList());
        members = fetchTar(url + "rpm.tar", "acme-server-v2.3.1-rpm.tar");
        assertEquals(List.of("acme-server-v2.3.1-rpm/x.rpm", "acme-server-v2.3.1-rpm/SHA256SUMS.txt"),
                members.stream().map(TarReader.Member::name).toList());
    }

    @Test
    void dirtyAndMissing() throws Exception {
        String url = "/branches/" + unique("ard") + "/t/job/";
        upload201(s, url + "deb/a", "a");
        assertEquals(404, s.head(url + "deb.tar").statusCode(), "HEAD of a dirty format's archive");
        finalizeFormat(s, url + "deb/");
        assertEquals(200, s.head(url + "deb.tar").statusCode());
        assertError(s.get(url + "rpm.tar"), 404, null);
        assertEquals(404, s.head(url + "rpm.tar").statusCode());
        assertError(s.get(url.replace("/job/", "/nojob/") + "deb.tar"), 404, null);
        assertError(s.get(url.replace("/job/", "/nojob.tar")), 404, null);
        HttpResponse<String> r = s.delete(url + "deb.tar");
        assertError(r, 405, null);
    }

    @Test
    void longAndNonAsciiNames() throws Exception {
        String url = "/branches/" + unique("arl") + "/t/job/";
        String longPath = "a-rather-long-directory-name/" + "x".repeat(60) + "/another-level/file-with-a-long-name.bin";
        String utf8 = "docs/r\u00e9sum\u00e9-\u65e5\u672c.txt";
        String exactly100 = "n".repeat(100 - "job-t-deb/".length());
        upload201(s, url + "deb/" + longPath, "long");
        upload201(s, url + "deb/" + encode(utf8), "utf8");
        upload201(s, url + "deb/" + exactly100, "hundred");
        upload201(s, url + "deb/short.txt", "short");
        finalizeFormat(s, url + "deb/");
        assertEquals("utf8", s.get(url + "deb/" + encode(utf8)).body());
        List<TarReader.Member> members = fetchTar(url + "deb.tar", "job-t-deb.tar");
        Map<String, TarReader.Member> byName = new LinkedHashMap<>();
        members.forEach(m -> byName.put(m.name(), m));
        List<String> expected = new ArrayList<>(List.of("job-t-deb/" + longPath, "job-t-deb/" + utf8,
                "job-t-deb/" + exactly100, "job-t-deb/short.txt"));
        expected.sort(null);
        expected.add("job-t-deb/SHA256SUMS.txt");
        assertEquals(expected, new ArrayList<>(byName.keySet()));
        assertTrue(byName.get("job-t-deb/" + longPath).viaPax(), "long name needs a pax header");
        assertTrue(byName.get("job-t-deb/" + utf8).viaPax(), "non-ASCII name needs a pax header");
        assertFalse(byName.get("job-t-deb/short.txt").viaPax());
        assertEquals("long", byName.get("job-t-deb/" + longPath).text());
        assertEquals("utf8", byName.get("job-t-deb/" + utf8).text());
        assertEquals("hundred", byName.get("job-t-deb/" + exactly100).text());
        String sums = byName.get("job-t-deb/SHA256SUMS.txt").text();
        assertTrue(sums.contains(Api.sha256("utf8") + "  " + utf8 + "\n"), sums);
        assertTrue(sums.contains(Api.sha256("long") + "  " + longPath + "\n"), sums);

        if (Api.hasCommand("python3")) {
            // a reference reader agrees on names and contents
            byte[] tar = Api.getBytes(s, url + "deb.tar").body();
            String out = Api.run(tar, "python3", "-c", "import hashlib, sys, tarfile\n"
                    + "t = tarfile.open(fileobj=sys.stdin.buffer, mode='r|')\n"
                    + "for m in t:\n"
                    + "    d = t.extractfile(m).read()\n"
                    + "    sys.stdout.buffer.write((m.name + ' ' + hashlib.sha256(d).hexdigest() + '\\n')"
                    + ".encode('utf-8'))\n");
            StringBuilder want = new StringBuilder();
            for (TarReader.Member m : members) {
                want.append(m.name()).append(' ').append(Api.sha256(m.data())).append('\n');
            }
            assertEquals(want.toString(), out);
        }
    }

    private static String encode(String path) {
        List<String> parts = new ArrayList<>();
        for (String p : path.split("/")) {
            parts.add(URLEncoder.encode(p, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return String.join("/", parts);
    }
}
