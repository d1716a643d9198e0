package dlrepo.api;

import static dlrepo.api.Api.assertError;
import static dlrepo.api.Api.ok;
import static dlrepo.api.Api.unique;
import static dlrepo.api.Api.upload201;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code /branches/<b>/<t>/}: jobs and their filter, flags, release, deletion. */
class TagApiTest {
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start();
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    private Path tagDir(String b, String t) {
        return s.root().resolve("branches").resolve(b).resolve(t);
    }

    private static List<String> jobNames(JsonNode tag) {
        List<String> l = new ArrayList<>();
        tag.get("jobs").forEach(j -> l.add(j.get("name").asText()));
        return l;
    }

    /** A tag with three jobs carrying metadata; returns its URL. */
    private String tagWithJobs() throws Exception {
        String b = unique("tb");
        String url = "/branches/" + b + "/t1/";
        upload201(s, url + "x86/deb/a.deb", "a");
        upload201(s, url + "arm/deb/a.deb", "b");
        upload201(s, url + "doc/html/index.html", "c");
        ok(s.json("PATCH", url + "x86/", "{\"job\": {\"arch\": \"x86_64\", \"os\": \"Linux\", \"kind\": \"build\"}}"));
        ok(s.json("PATCH", url + "arm/", "{\"job\": {\"arch\": \"aarch64\", \"os\": \"Linux\", \"kind\": \"build\"}}"));
        ok(s.json("PATCH", url + "doc/", "{\"job\": {\"kind\": \"doc\"}}"));
        return url;
    }

    @Test
    void tagShape() throws Exception {
        String url = tagWithJobs();
        Files.createFile(s.root().resolve(url.substring(1)).resolve("arm/.released"));
        ok(s.json("PUT", url + "doc/", "{\"job\": {\"internal\": true}}"));
        JsonNode tag = ok(s.get(url)).get("tag");
        // the spec's fields (a timestamp may come with them)
        assertTrue(BranchApiTest.fieldNames(tag).containsAll(
                List.of("description", "jobs", "locked", "name", "publish_status", "released", "stable")),
                tag.toString());
        assertEquals("t1", tag.get("name").asText());
        assertFalse(tag.get("released").asBoolean());
        assertFalse(tag.get("locked").asBoolean());
        assertFalse(tag.get("stable").asBoolean());
        assertTrue(tag.get("publish_status").isNull());
        assertTrue(tag.get("description").isNull());
        assertEquals(List.of("arm", "doc", "x86"), jobNames(tag));
        JsonNode arm = tag.get("jobs").get(0);
        assertEquals(List.of("arch", "internal", "kind", "locked", "name", "os", "released"),
                BranchApiTest.fieldNames(arm));
        assertEquals("aarch64", arm.get("arch").asText());
        assertEquals("Linux", arm.get("os").asText(), "metadata values keep their case");
        assertTrue(arm.get("released").asBoolean());
        assertFalse(arm.get("locked").asBoolean());
        assertFalse(arm.get("internal").asBoolean());
        JsonNode doc = tag.get("jobs").get(1);
        assertTrue(doc.get("internal").asBoolean());
        assertEquals(200, s.head(url).statusCode());
        assertEquals("", s.head(url).body());
    }

    @Test
    void jobFilters() throws Exception {
        String url = tagWithJobs();
        assertEquals(List.of("arm", "x86"), jobNames(ok(s.get(url + "?kind=build")).get("tag")));
        assertEquals(List.of("doc"), jobNames(ok(s.get(url + "?kind=doc")).get("tag")));
        assertEquals(List.of("x86"), jobNames(ok(s.get(url + "?kind=build&arch=x86_64")).get("tag")));
        assertEquals(List.of("arm"), jobNames(ok(s.get(url + "?arch=aarch64&os=Linux&kind=build")).get("tag")));
        assertEquals(List.of(), jobNames(ok(s.get(url + "?kind=doc&arch=x86_64")).get("tag")));
        assertEquals(List.of(), jobNames(ok(s.get(url + "?kind=nothing")).get("tag")));
        assertEquals(List.of(), jobNames(ok(s.get(url + "?nokey=x")).get("tag")));
        assertEquals(List.of("arm", "doc", "x86"), jobNames(ok(s.get(url)).get("tag")));
    }

    @Test
    void missingTag() throws Exception {
        String b = unique("mt");
        upload201(s, "/branches/" + b + "/t1/job/deb/a", "a");
        assertError(s.get("/branches/" + b + "/nope/"), 404, null);
        assertEquals(404, s.head("/branches/" + b + "/nope/").statusCode());
        assertError(s.json("POST", "/branches/" + b + "/nope/", "{\"tag\": {\"locked\": true}}"), 404, null);
        assertFalse(Files.exists(tagDir(b, "nope")));
        assertError(s.delete("/branches/" + b + "/nope/"), 404, null);
        assertError(s.get("/branches/nobranch" + b + "/t1/"), 404, null);
    }

    @Test
    void flagsAndDescription() throws Exception {
        String b = unique("flags");
        String url = "/branches/" + b + "/t/";
        upload201(s, url + "job/deb/a", "a");
        Path dir = tagDir(b, "t");
        assertTrue(Files.exists(dir.resolve(".stamp")), "upload creates the tag .stamp");

        ok(s.json("POST", url, "{\"tag\": {\"locked\": true}}"));
        assertTrue(Files.exists(dir.resolve(".locked")));
        assertFalse(Files.exists(dir.resolve(".stable")));
        ok(s.json("POST", url, "{\"tag\": {\"stable\": true, \"description\": \"Release candidate\"}}"));
        assertTrue(Files.exists(dir.resolve(".locked")), "missing flag keeps its value");
        assertTrue(Files.exists(dir.resolve(".stable")));
        assertEquals("Release candidate\n", Api.read(dir.resolve(".description")));
        assertEquals(0, Files.size(dir.resolve(".locked")));
        assertEquals(0, Files.size(dir.resolve(".stable")));
        JsonNode tag = ok(s.get(url)).get("tag");
        assertTrue(tag.get("locked").asBoolean());
        assertTrue(tag.get("stable").asBoolean());
        assertEquals("Release candidate", tag.get("description").asText());

        ok(s.json("POST", url, "{\"tag\": {\"locked\": false, \"stable\": false}}"));
        assertFalse(Files.exists(dir.resolve(".locked")));
        assertFalse(Files.exists(dir.resolve(".stable")));
        assertEquals("Release candidate\n", Api.read(dir.resolve(".description")));
        ok(s.json("POST", url, "{\"tag\": {\"description\": \"\"}}"));
        assertFalse(Files.exists(dir.resolve(".description")), "empty description removes the file");
        tag = ok(s.get(url)).get("tag");
        assertFalse(tag.get("locked").asBoolean());
        assertFalse(tag.get("stable").asBoolean());
        assertTrue(tag.get("description").isNull());
    }

    @Test
    void badTagBodies() throws Exception {
        String b = unique("badtag");
        String url = "/branches/" + b + "/t/";
        upload201(s, url + "job/deb/a", "a");
        assertError(s.json("POST", url, "{\"tag\": {\"locked\": \"yes\"}}"), 400, "locked");
        assertError(s.json("POST", url, "{\"tag\": {\"stable\": 1}}"), 400, "stable");
        assertError(s.json("POST", url, "{\"tag\": {\"released\": \"true\"}}"), 400, "released");
        assertError(s.json("POST", url, "{\"tag\": {\"description\": 3}}"), 400, "description");
        assertError(s.json("POST", url, "{\"tag\": []}"), 400, "tag");
        assertError(s.json("POST", url, "{\"locked\": true}"), 400, "tag");
        assertError(s.json("POST", url, "{oops"), 400, null);
        assertFalse(Files.exists(tagDir(b, "t").resolve(".locked")));
        assertFalse(Files.exists(tagDir(b, "t").resolve(".stable")));
    }

    @Test
    void releaseNeedsPublishSettings() throws Exception {
        String b = unique("rel");
        String url = "/branches/" + b + "/t/";
        upload201(s, url + "job/deb/a", "a");
        Path dir = tagDir(b, "t");
        assertError(s.json("POST", url, "{\"tag\": {\"released\": true, \"locked\": true}}"), 421, null);
        assertFalse(Files.exists(dir.resolve(".released")));
        assertFalse(Files.exists(dir.resolve(".locked")), "nothing of a refused request is applied");

        // unrelease is allowed without publish settings: clears the flags locally
        Files.createFile(dir.resolve(".released"));
        Files.createFile(dir.resolve("job/.released"));
        ok(s.json("POST", url, "{\"tag\": {\"released\": false}}"));
        assertFalse(Files.exists(dir.resolve(".released")));
        assertFalse(Files.exists(dir.resolve("job/.released")));
        JsonNode tag = ok(s.get(url)).get("tag");
        assertFalse(tag.get("released").asBoolean());
        assertFalse(tag.get("jobs").get(0).get("released").asBoolean());
        ok(s.json("POST", url, "{\"tag\": {\"released\": false}}"));
    }

    @Test
    void deleteTag() throws Exception {
        String b = unique("deltag");
        upload201(s, "/branches/" + b + "/t1/job/deb/a", "a");
        upload201(s, "/branches/" + b + "/t2/job/deb/a", "a");
        ok(s.delete("/branches/" + b + "/t1/"));
        assertFalse(Files.exists(tagDir(b, "t1")));
        assertTrue(Files.exists(tagDir(b, "t2/job/deb/a")));
        assertError(s.get("/branches/" + b + "/t1/"), 404, null);
        assertError(s.delete("/branches/" + b + "/t1/"), 404, null);
        JsonNode tags = ok(s.get("/branches/" + b + "/")).get("branch").get("tags");
        assertEquals(1, tags.size());
        assertEquals("t2", tags.get(0).get("name").asText());
    }

    @Test
    void deleteTagRefusedWhenLockedOrReleased() throws Exception {
        String b = unique("deltagref");
        String url = "/branches/" + b + "/t/";
        upload201(s, url + "job/deb/a", "a");
        ok(s.json("POST", url, "{\"tag\": {\"locked\": true}}"));
        assertError(s.delete(url), 400, "Tag t is locked");
        assertTrue(Files.exists(tagDir(b, "t/job/deb/a")));
        ok(s.json("POST", url, "{\"tag\": {\"locked\": false}}"));
        Files.createFile(tagDir(b, "t").resolve(".released"));
        assertError(s.delete(url), 400, "Tag t is released, unrelease it first");
        assertTrue(Files.exists(tagDir(b, "t/job/deb/a")));
        Files.delete(tagDir(b, "t").resolve(".released"));
        ok(s.delete(url));
        assertFalse(Files.exists(tagDir(b, "t")));
    }
}
