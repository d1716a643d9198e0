package dlrepo.api;

import static dlrepo.api.Api.assertError;
import static dlrepo.api.Api.finalizeFormat;
import static dlrepo.api.Api.ok;
import static dlrepo.api.Api.unique;
import static dlrepo.api.Api.upload201;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dlrepo.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Canonical URLs: lowercase names, trailing slashes, and the latest/stable/oldstable aliases. */
class RedirectTest {
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start();
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    private static void assertRedirect(String from, String to) throws Exception {
        HttpResponse<String> r = s.get(from);
        assertEquals(302, r.statusCode(), () -> "GET " + from + ": " + r.body());
        assertEquals(to, r.headers().firstValue("Location").orElse(null), "GET " + from);
        HttpResponse<String> h = s.head(from);
        assertEquals(302, h.statusCode(), "HEAD " + from);
        assertEquals(to, h.headers().firstValue("Location").orElse(null), "HEAD " + from);
    }

    @Test
    void caseAndSlash() throws Exception {
        String b = unique("rd");
        upload201(s, "/branches/" + b + "/t1/job/deb/File.TXT", "x");
        finalizeFormat(s, "/branches/" + b + "/t1/job/deb/");
        String B = b.toUpperCase();
        assertRedirect("/branches", "/branches/");
        assertRedirect("/branches/" + b, "/branches/" + b + "/");
        assertRedirect("/branches/" + B + "/", "/branches/" + b + "/");
        assertRedirect("/branches/" + B, "/branches/" + b + "/");
        assertRedirect("/branches/" + B + "/?released", "/branches/" + b + "/?released");
        assertRedirect("/branches/" + b + "/t1", "/branches/" + b + "/t1/");
        assertRedirect("/branches/" + b + "/T1/", "/branches/" + b + "/t1/");
        assertRedirect("/branches/" + B + "/T1/?arch=x86&os=Linux", "/branches/" + b + "/t1/?arch=x86&os=Linux");
        assertRedirect("/branches/" + b + "/t1/job", "/branches/" + b + "/t1/job/");
        assertRedirect("/branches/" + b + "/t1/Job", "/branches/" + b + "/t1/job/");
        assertRedirect("/branches/" + b + "/t1/JOB/", "/branches/" + b + "/t1/job/");
        assertRedirect("/branches/" + b + "/t1/job/DEB/", "/branches/" + b + "/t1/job/deb/");
        // file paths keep their case, the names above them are lowercased
        assertRedirect("/branches/" + B + "/T1/JOB/DEB/File.TXT", "/branches/" + b + "/t1/job/deb/File.TXT");
        assertRedirect("/branches/" + b + "/T1/job.tar", "/branches/" + b + "/t1/job.tar");
        assertRedirect("/branches/" + b + "/t1/job/Deb.sha256", "/branches/" + b + "/t1/job/deb.sha256");
        assertEquals("x", s.get("/branches/" + b + "/t1/job/deb/File.TXT").body());
        assertError(s.get("/branches/" + b + "/t1/job/deb/file.txt"), 404, null);
    }

    @Test
    void aliases() throws Exception {
        String b = unique("alias");
        String base = "/branches/" + b + "/";
        // creation order differs from name order
        for (String t : new String[] {"t-zulu", "t-alpha", "t-mike"}) {
            upload201(s, base + t + "/job/deb/f.txt", t);
            finalizeFormat(s, base + t + "/job/deb/");
        }
        Path dir = s.root().resolve("branches").resolve(b);
        Api.setMtime(dir.resolve("t-zulu/.stamp"), 1_000_000_000L);
        Api.setMtime(dir.resolve("t-alpha/.stamp"), 1_100_000_000L);
        Api.setMtime(dir.resolve("t-mike/.stamp"), 1_200_000_000L);
        // no stable tag yet
        assertRedirect(base + "latest/", base + "t-mike/");
        assertError(s.get(base + "stable/"), 404, null);
        assertError(s.get(base + "oldstable/"), 404, null);
        assertEquals(404, s.head(base + "stable/job/deb/f.txt").statusCode());

        ok(s.json("POST", base + "t-zulu/", "{\"tag\": {\"stable\": true}}"));
        assertRedirect(base + "stable/", base + "t-zulu/");
        assertError(s.get(base + "oldstable/"), 404, null);

        ok(s.json("POST", base + "t-alpha/", "{\"tag\": {\"stable\": true}}"));
        assertRedirect(base + "latest/", base + "t-mike/");
        assertRedirect(base + "stable/", base + "t-alpha/");
        assertRedirect(base + "oldstable/", base + "t-zulu/");
        assertRedirect(base + "latest", base + "t-mike/");
        assertRedirect(base + "LATEST/", base + "t-mike/");
        assertRedirect(base + "Stable/job/", base + "t-alpha/job/");
        assertRedirect(base + "stable/job/deb/f.txt", base + "t-alpha/job/deb/f.txt");
        assertRedirect(base + "oldstable/job/deb/f.txt?x=1", base + "t-zulu/job/deb/f.txt?x=1");
        assertRedirect(base + "stable/job.tar", base + "t-alpha/job.tar");
        assertRedirect(base + "stable/job/deb.tar", base + "t-alpha/job/deb.tar");
        assertRedirect(base + "latest/job/deb", base + "t-mike/job/deb");
        assertEquals("t-alpha", s.get(base + "t-alpha/job/deb/f.txt").body());

        // the newest by creation time, whatever the names
        Api.setMtime(dir.resolve("t-zulu/.stamp"), 1_300_000_000L);
        assertRedirect(base + "latest/", base + "t-zulu/");
        assertRedirect(base + "stable/", base + "t-zulu/");
        assertRedirect(base + "oldstable/", base + "t-alpha/");

        // a branch that does not exist has no latest
        assertError(s.get("/branches/" + unique("none") + "/latest/"), 404, null);
    }
}
