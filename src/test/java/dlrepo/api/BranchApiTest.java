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
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code /branches/} and {@code /branches/<b>/}: listings, cleanup policy, deletion. */
class BranchApiTest {
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start();
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    private Path branchDir(String b) {
        return s.root().resolve("branches").resolve(b);
    }

    @Test
    void branchListShowsCountsAndPolicies() throws Exception {
        String b = unique("list-b");
        String other = unique("list-a");
        for (String t : List.of("t1", "t2", "t3", "t4")) {
            upload201(s, "/branches/" + b + "/" + t + "/job/deb/f.txt", "x");
        }
        upload201(s, "/branches/" + other + "/t1/job/deb/f.txt", "y");
        ok(s.json("POST", "/branches/" + b + "/t1/", "{\"tag\": {\"locked\": true, \"stable\": true}}"));
        ok(s.json("POST", "/branches/" + b + "/t2/", "{\"tag\": {\"stable\": true}}"));
        Files.createFile(branchDir(b).resolve("t3/.released"));
        Files.createFile(branchDir(b).resolve("t4/.released"));
        Files.createFile(branchDir(b).resolve("t4/.locked"));
        ok(s.json("POST", "/branches/" + b + "/", "{\"branch\": {\"max_daily_tags\": 7, \"max_released_tags\": 2}}"));
        // hidden and non-folder entries are not branches
        Files.createDirectories(s.root().resolve("branches/.hidden"));
        Files.writeString(s.root().resolve("branches/not-a-folder"), "x");

        JsonNode body = ok(s.get("/branches/"));
        assertEquals(1, body.size(), "only \"branches\": " + body);
        List<String> names = new ArrayList<>();
        JsonNode mine = null;
        JsonNode theOther = null;
        for (JsonNode br : body.get("branches")) {
            names.add(br.get("name").asText());
            if (br.get("name").asText().equals(b)) {
                mine = br;
            }
            if (br.get("name").asText().equals(other)) {
                theOther = br;
            }
        }
        List<String> sorted = new ArrayList<>(names);
        sorted.sort(null);
        assertEquals(sorted, names, "branches sorted by name");
        assertFalse(names.contains(".hidden"));
        assertFalse(names.contains("not-a-folder"));
        assertTrue(mine != null && theOther != null, body.toString());
        assertEquals(List.of("name", "daily_tags", "released_tags", "locked_tags", "stable_tags", "max_daily_tags",
                "max_released_tags").stream().sorted().toList(), fieldNames(mine));
        assertEquals(2, mine.get("daily_tags").asInt());
        assertEquals(2, mine.get("released_tags").asInt());
        assertEquals(2, mine.get("locked_tags").asInt());
        assertEquals(2, mine.get("stable_tags").asInt());
        assertEquals(7, mine.get("max_daily_tags").asInt());
        assertEquals(2, mine.get("max_released_tags").asInt());
        assertEquals(1, theOther.get("daily_tags").asInt());
        assertEquals(0, theOther.get("released_tags").asInt());
        assertEquals(0, theOther.get("locked_tags").asInt());
        assertEquals(0, theOther.get("stable_tags").asInt());
        assertEquals(0, theOther.get("max_daily_tags").asInt());
        assertEquals(0, theOther.get("max_released_tags").asInt());
    }

    static List<String> fieldNames(JsonNode n) {
        List<String> l = new ArrayList<>();
        n.fieldNames().forEachRemaining(l::add);
        l.sort(null);
        return l;
    }

    @Test
    void branchShowsTagsWithFlagsAndReleasedFilter() throws Exception {
        String b = unique("show");
        upload201(s, "/branches/" + b + "/t-b/job/deb/f.txt", "x");
        upload201(s, "/branches/" + b + "/t-a/job/deb/f.txt", "x");
        upload201(s, "/branches/" + b + "/t-c/job/deb/f.txt", "x");
        ok(s.json("POST", "/branches/" + b + "/t-a/",
                "{\"tag\": {\"locked\": true, \"stable\": true, \"description\": \"First one\"}}"));
        Files.createFile(branchDir(b).resolve("t-b/.released"));
        Files.writeString(branchDir(b).resolve("t-b/.publish-status"), "published to x\n");

        JsonNode branch = ok(s.get("/branches/" + b + "/")).get("branch");
        assertEquals(List.of("cleanup_policy", "name", "tags"), fieldNames(branch));
        assertEquals(b, branch.get("name").asText());
        assertEquals(0, branch.get("cleanup_policy").get("max_daily_tags").asInt());
        assertEquals(0, branch.get("cleanup_policy").get("max_released_tags").asInt());
        JsonNode tags = branch.get("tags");
        assertEquals(3, tags.size());
        assertEquals("t-a", tags.get(0).get("name").asText());
        assertEquals("t-b", tags.get(1).get("name").asText());
        assertEquals("t-c", tags.get(2).get("name").asText());
        JsonNode a = tags.get(0);
        assertEquals(List.of("description", "locked", "name", "publish_status", "released", "stable", "timestamp"),
                fieldNames(a));
        assertTrue(a.get("locked").asBoolean());
        assertTrue(a.get("stable").asBoolean());
        assertFalse(a.get("released").asBoolean());
        assertEquals("First one", a.get("description").asText());
        assertTrue(a.get("publish_status").isNull());
        assertTrue(a.get("timestamp").isNumber());
        assertEquals(Api.mtime(branchDir(b).resolve("t-a/.stamp")), a.get("timestamp").asDouble(), 0.001);
        JsonNode tb = tags.get(1);
        assertTrue(tb.get("released").asBoolean());
        assertFalse(tb.get("locked").asBoolean());
        assertFalse(tb.get("stable").asBoolean());
        assertTrue(tb.get("description").isNull());
        assertEquals("published to x", tb.get("publish_status").asText());

        for (String q : List.of("?released", "?released=1", "?released=false")) {
            JsonNode rel = ok(s.get("/branches/" + b + "/" + q)).get("branch").get("tags");
            assertEquals(1, rel.size(), q + ": " + rel);
            assertEquals("t-b", rel.get(0).get("name").asText());
        }
    }

    @Test
    void headAndMissingBranch() throws Exception {
        String b = unique("head");
        upload201(s, "/branches/" + b + "/t/job/deb/f.txt", "x");
        HttpResponse<String> h = s.head("/branches/" + b + "/");
        assertEquals(200, h.statusCode());
        assertEquals("", h.body());
        assertEquals(200, s.head("/branches/").statusCode());
        assertError(s.get("/branches/nosuchbranch/"), 404, null);
        assertEquals(404, s.head("/branches/nosuchbranch/").statusCode());
    }

    @Test
    void methodsNotAllowed() throws Exception {
        HttpResponse<String> r = s.json("POST", "/branches/", "{}");
        assertError(r, 405, null);
        assertTrue(r.headers().firstValue("Allow").orElse("").contains("GET"), r.headers().toString());
        r = s.json("PUT", "/branches/x/", "{}");
        assertError(r, 405, null);
        assertTrue(r.headers().firstValue("Allow").isPresent());
    }

    @Test
    void setPolicy() throws Exception {
        String b = unique("pol");
        upload201(s, "/branches/" + b + "/t/job/deb/f.txt", "x");
        Path file = branchDir(b).resolve(".cleanup_policy");
        ok(s.json("POST", "/branches/" + b + "/", "{\"branch\": {\"max_daily_tags\": 3, \"max_released_tags\": 5}}"));
        assertEquals("{\"max_daily_tags\": 3, \"max_released_tags\": 5}", Api.read(file));
        JsonNode p = ok(s.get("/branches/" + b + "/")).get("branch").get("cleanup_policy");
        assertEquals(3, p.get("max_daily_tags").asInt());
        assertEquals(5, p.get("max_released_tags").asInt());

        // a missing key keeps its value
        ok(s.json("POST", "/branches/" + b + "/", "{\"branch\": {\"max_released_tags\": 0}}"));
        assertEquals("{\"max_daily_tags\": 3, \"max_released_tags\": 0}", Api.read(file));
        ok(s.json("POST", "/branches/" + b + "/", "{\"branch\": {}}"));
        assertEquals("{\"max_daily_tags\": 3, \"max_released_tags\": 0}", Api.read(file));
        ok(s.json("POST", "/branches/" + b + "/", "{\"branch\": {\"max_daily_tags\": 10}}"));
        assertEquals("{\"max_daily_tags\": 10, \"max_released_tags\": 0}", Api.read(file));
        JsonNode listed = null;
        for (JsonNode br : ok(s.get("/branches/")).get("branches")) {
            if (br.get("name").asText().equals(b)) {
                listed = br;
            }
        }
        assertEquals(10, listed.get("max_daily_tags").asInt());
        assertEquals(0, listed.get("max_released_tags").asInt());
    }

    @Test
    void badPolicies() throws Exception {
        String b = unique("badpol");
        upload201(s, "/branches/" + b + "/t/job/deb/f.txt", "x");
        Path file = branchDir(b).resolve(".cleanup_policy");
        ok(s.json("POST", "/branches/" + b + "/", "{\"branch\": {\"max_daily_tags\": 1, \"max_released_tags\": 2}}"));
        String before = Api.read(file);
        String url = "/branches/" + b + "/";
        assertError(s.json("POST", url, "{\"branch\": {\"max_daily_tags\": -1}}"), 400, "max_daily_tags");
        assertError(s.json("POST", url, "{\"branch\": {\"max_released_tags\": -5}}"), 400, "max_released_tags");
        assertError(s.json("POST", url, "{\"branch\": {\"max_daily_tags\": \"3\"}}"), 400, "max_daily_tags");
        assertError(s.json("POST", url, "{\"branch\": {\"max_daily_tags\": 1.5}}"), 400, "max_daily_tags");
        assertError(s.json("POST", url, "{\"branch\": {\"max_released_tags\": true}}"), 400, "max_released_tags");
        assertError(s.json("POST", url, "{\"branch\": {\"max_released_tags\": [1]}}"), 400, "max_released_tags");
        assertError(s.json("POST", url, "{\"branch\": {\"max_daily_tags\": 1e30}}"), 400, "max_daily_tags");
        // a valid key with an invalid one changes nothing
        assertError(s.json("POST", url, "{\"branch\": {\"max_daily_tags\": 9, \"max_released_tags\": -1}}"), 400,
                "max_released_tags");
        // not JSON, wrong shapes
        assertError(s.json("POST", url, "{\"branch\": "), 400, null);
        assertError(s.json("POST", url, "not json"), 400, null);
        assertError(s.json("POST", url, ""), 400, null);
        assertError(s.json("POST", url, "[1, 2]"), 400, null);
        assertError(s.json("POST", url, "{\"max_daily_tags\": 3}"), 400, "branch");
        assertError(s.json("POST", url, "{\"branch\": 3}"), 400, "branch");
        assertError(s.json("POST", url, "{\"branch\": [\"max_daily_tags\"]}"), 400, "branch");
        assertEquals(before, Api.read(file), "policy unchanged after refused requests");
    }

    @Test
    void deleteBranch() throws Exception {
        String b = unique("del");
        upload201(s, "/branches/" + b + "/t1/job/deb/f.txt", "x");
        upload201(s, "/branches/" + b + "/t2/job2/rpm/g.txt", "y");
        assertTrue(Files.isDirectory(branchDir(b)));
        ok(s.delete("/branches/" + b + "/"));
        assertFalse(Files.exists(branchDir(b)));
        assertError(s.get("/branches/" + b + "/"), 404, null);
        assertError(s.delete("/branches/" + b + "/"), 404, null);
        for (JsonNode br : ok(s.get("/branches/")).get("branches")) {
            assertFalse(br.get("name").asText().equals(b));
        }
        // nothing of it is left in the trash either
        assertEquals(List.of(), Api.list(s.root().resolve(".trash")));
    }

    @Test
    void deleteBranchRefusedWithLockedOrReleasedTag() throws Exception {
        String b = unique("delref");
        upload201(s, "/branches/" + b + "/t1/job/deb/f.txt", "x");
        upload201(s, "/branches/" + b + "/t2/job/deb/f.txt", "x");
        ok(s.json("POST", "/branches/" + b + "/t2/", "{\"tag\": {\"locked\": true}}"));
        assertError(s.delete("/branches/" + b + "/"), 400, "Tag t2 is locked");
        assertTrue(Files.exists(branchDir(b).resolve("t1/job/deb/f.txt")));
        assertTrue(Files.exists(branchDir(b).resolve("t2/job/deb/f.txt")));

        ok(s.json("POST", "/branches/" + b + "/t2/", "{\"tag\": {\"locked\": false}}"));
        Files.createFile(branchDir(b).resolve("t1/.released"));
        assertError(s.delete("/branches/" + b + "/"), 400, "Tag t1 is released, unrelease it first");
        assertTrue(Files.exists(branchDir(b).resolve("t1/job/deb/f.txt")));

        ok(s.json("POST", "/branches/" + b + "/t1/", "{\"tag\": {\"released\": false}}"));
        ok(s.delete("/branches/" + b + "/"));
        assertFalse(Files.exists(branchDir(b)));
    }

    @Test
    void policyOnNewBranch() throws Exception {
        // POST on a branch that has no tags yet creates it with that policy
        String b = unique("newpol");
        ok(s.json("POST", "/branches/" + b + "/", "{\"branch\": {\"max_daily_tags\": 4}}"));
        assertEquals("{\"max_daily_tags\": 4, \"max_released_tags\": 0}",
                Api.read(branchDir(b).resolve(".cleanup_policy")));
        JsonNode br = ok(s.get("/branches/" + b + "/")).get("branch");
        assertEquals(4, br.get("cleanup_policy").get("max_daily_tags").asInt());
        assertEquals(0, br.get("tags").size());
    }
}
