package dlrepo.api;

import static dlrepo.api.Api.assertError;
import static dlrepo.api.Api.finalizeFormat;
import static dlrepo.api.Api.ok;
import static dlrepo.api.Api.unique;
import static dlrepo.api.Api.upload201;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code /branches/<b>/<t>/<j>/}: details, lock/internal, metadata, digest, deletion. */
class JobApiTest {
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        // formats named debug* are internal
        s = TestServer.start(Map.of("DLREPO_INTERNAL_FORMAT_FILTER", "debug"));
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    private Path dir(String url) {
        return s.root().resolve(url.substring(1));
    }

    /** A job with finalized formats deb and rpm; returns its URL (ending with '/'). */
    private String finalizedJob() throws Exception {
        String url = "/branches/" + unique("jb") + "/t/job/";
        upload201(s, url + "rpm/x.rpm", "rpm data");
        upload201(s, url + "deb/b.deb", "deb b");
        upload201(s, url + "deb/sub/a.deb", "deb a");
        finalizeFormat(s, url + "deb/");
        finalizeFormat(s, url + "rpm/");
        return url;
    }

    @Test
    void jobShape() throws Exception {
        String url = finalizedJob();
        ok(s.json("PATCH", url, "{\"job\": {\"version\": \"1.2\", \"Build-Host\": \"CI-1\"}}"));
        JsonNode job = ok(s.get(url)).get("job");
        assertEquals(List.of("Build-Host", "artifact_formats", "digest", "internal", "locked", "name", "released",
                "timestamp", "version"), BranchApiTest.fieldNames(job));
        assertEquals("job", job.get("name").asText());
        assertEquals("1.2", job.get("version").asText());
        assertEquals("CI-1", job.get("Build-Host").asText());
        assertFalse(job.get("locked").asBoolean());
        assertFalse(job.get("released").asBoolean());
        assertFalse(job.get("internal").asBoolean());
        assertEquals("", job.get("digest").asText());
        assertTrue(job.get("timestamp").isNumber());
        assertTrue(Files.exists(dir(url).resolve(".stamp")), "upload creates the job .stamp");
        assertEquals(Api.mtime(dir(url).resolve(".stamp")), job.get("timestamp").asDouble(), 0.001);
        List<String> formats = new ArrayList<>();
        job.get("artifact_formats").forEach(f -> formats.add(f.asText()));
        assertEquals(List.of("deb", "rpm"), formats);
        assertEquals(200, s.head(url).statusCode());
        assertEquals("", s.head(url).body());

        Files.createFile(dir(url).resolve(".released"));
        assertTrue(ok(s.get(url)).get("job").get("released").asBoolean());
    }

    @Test
    void missingJob() throws Exception {
        String url = finalizedJob();
        String missing = url.replace("/job/", "/nojob/");
        assertError(s.get(missing), 404, null);
        assertEquals(404, s.head(missing).statusCode());
        assertError(s.json("PUT", missing, "{\"job\": {\"locked\": true}}"), 404, null);
        assertError(s.json("PATCH", missing, "{\"job\": {\"a\": \"b\"}}"), 404, null);
        assertError(s.delete(missing), 404, null);
        assertFalse(Files.exists(dir(missing)));
    }

    @Test
    void metadataMerge() throws Exception {
        String url = finalizedJob();
        Path meta = dir(url).resolve(".metadata");
        ok(s.json("PATCH", url, "{\"job\": {\"zeta\": \"Last\", \"alpha\": \"First\", \"mid\": \"x\", \"gone\": \"y\"}}"));
        assertEquals("{\"alpha\": \"First\", \"gone\": \"y\", \"mid\": \"x\", \"zeta\": \"Last\"}", Api.read(meta));
        // merge: untouched keys stay, null / "" / false delete, numbers and true become text
        ok(s.json("PATCH", url, "{\"job\": {\"gone\": null, \"mid\": \"\", \"zeta\": false, \"num\": 42, "
                + "\"float\": 1.5, \"flag\": true, \"new\": \"Value With Case\"}}"));
        assertEquals("{\"alpha\": \"First\", \"flag\": \"true\", \"float\": \"1.5\", \"new\": \"Value With Case\", "
                + "\"num\": \"42\"}", Api.read(meta));
        JsonNode job = ok(s.get(url)).get("job");
        assertEquals("First", job.get("alpha").asText());
        assertTrue(job.get("num").isTextual(), "numbers are stored as text: " + job);
        assertEquals("42", job.get("num").asText());
        assertTrue(job.get("flag").isTextual());
        assertEquals("true", job.get("flag").asText());
        assertEquals("1.5", job.get("float").asText());
        assertFalse(job.has("gone"));
        assertFalse(job.has("mid"));
        assertFalse(job.has("zeta"));
        // deleting a key that is not there is fine
        ok(s.json("PATCH", url, "{\"job\": {\"never\": null}}"));
        // non-ASCII values survive, escaped like Python's json.dumps
        ok(s.json("PATCH", url, "{\"job\": {\"alpha\": \"caf\u00e9\"}}"));
        assertTrue(Api.read(meta).startsWith("{\"alpha\": \"caf\\u00e9\", "), Api.read(meta));
        assertEquals("caf\u00e9", ok(s.get(url)).get("job").get("alpha").asText());
    }

    @Test
    void badMetadata() throws Exception {
        String url = finalizedJob();
        ok(s.json("PATCH", url, "{\"job\": {\"a\": \"b\"}}"));
        String before = Api.read(dir(url).resolve(".metadata"));
        assertError(s.json("PATCH", url, "{\"job\": {\"obj\": {\"x\": 1}}}"), 400, "obj");
        assertError(s.json("PATCH", url, "{\"job\": {\"arr\": [1]}}"), 400, "arr");
        assertError(s.json("PATCH", url, "{\"job\": {\"c\": \"d\", \"obj\": {}}}"), 400, "obj");
        for (String reserved : List.of("name", "locked", "digest", "timestamp", "artifact_formats")) {
            assertError(s.json("PATCH", url, "{\"job\": {\"" + reserved + "\": \"x\"}}"), 400, reserved);
        }
        assertError(s.json("PATCH", url, "{\"job\": 3}"), 400, "job");
        assertError(s.json("PATCH", url, "{\"nojob\": {}}"), 400, "job");
        assertError(s.json("PATCH", url, "nope"), 400, null);
        assertEquals(before, Api.read(dir(url).resolve(".metadata")), "refused PATCHes change nothing");
    }

    @Test
    void lockRefusedWithDirtyFormat() throws Exception {
        String url = finalizedJob();
        upload201(s, url + "iso/x.iso", "iso");
        assertError(s.json("PUT", url, "{\"job\": {\"locked\": true}}"), 400, "Job has dirty formats");
        assertFalse(Files.exists(dir(url).resolve(".locked")));
        assertFalse(Files.exists(dir(url).resolve(".digest")));
        assertFalse(ok(s.get(url)).get("job").get("locked").asBoolean());
        finalizeFormat(s, url + "iso/");
        ok(s.json("PUT", url, "{\"job\": {\"locked\": true}}"));
        assertTrue(Files.exists(dir(url).resolve(".locked")));
    }

    /** The layout's job digest, computed here from the files on disk. */
    private String expectedDigest(String url, List<String> formats) throws Exception {
        Map<String, String> parts = new TreeMap<>();
        for (String f : formats) {
            parts.put(f, "sha256:" + Api.sha256(Files.readAllBytes(dir(url).resolve(f).resolve(".digests"))));
        }
        parts.put(".metadata", "sha256:" + Api.sha256(Files.readAllBytes(dir(url).resolve(".metadata"))));
        return Api.sha256(Api.pyDumps(parts));
    }

    @Test
    void lockComputesDigest() throws Exception {
        String url = finalizedJob();
        upload201(s, url + "debug-syms/x.dbg", "symbols");
        finalizeFormat(s, url + "debug-syms/");
        ok(s.json("PATCH", url, "{\"job\": {\"version\": \"2.0\", \"product\": \"Tool\"}}"));
        // .digests: sorted keys, Python json style
        assertEquals("{\"b.deb\": \"sha256:" + Api.sha256("deb b") + "\", \"sub/a.deb\": \"sha256:"
                + Api.sha256("deb a") + "\"}", Api.read(dir(url).resolve("deb/.digests")));

        ok(s.json("PUT", url, "{\"job\": {\"locked\": true}}"));
        String expected = expectedDigest(url, List.of("deb", "rpm"));
        JsonNode job = ok(s.get(url)).get("job");
        assertTrue(job.get("locked").asBoolean());
        assertEquals(expected, job.get("digest").asText(), "internal format debug-syms excluded");
        assertTrue(job.get("digest").asText().matches("[0-9a-f]{64}"));
        assertEquals(expected, Api.read(dir(url).resolve(".digest")).strip());
        assertTrue(Files.exists(dir(url).resolve(".locked")));
        assertEquals(0, Files.size(dir(url).resolve(".locked")));

        if (Api.hasCommand("python3")) {
            // the reference implementation of the serialization
            String py = "import hashlib, json, sys\n"
                    + "d = sys.argv[1]\n"
                    + "parts = {f: 'sha256:' + hashlib.sha256(open(d + '/' + f + '/.digests', 'rb').read()).hexdigest()"
                    + " for f in ('deb', 'rpm')}\n"
                    + "parts['.metadata'] = 'sha256:' + hashlib.sha256(open(d + '/.metadata', 'rb').read()).hexdigest()\n"
                    + "print(hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest())\n";
            String out = Api.run(new byte[0], "python3", "-c", py, dir(url).toString());
            assertEquals(out.strip(), job.get("digest").asText());
        }

        // writes to the internal format are allowed in a locked job and do not change the digest
        upload201(s, url + "debug-syms/y.dbg", "more symbols");
        finalizeFormat(s, url + "debug-syms/");
        ok(s.json("PUT", url, "{\"job\": {\"locked\": false}}"));
        assertFalse(Files.exists(dir(url).resolve(".locked")));
        assertFalse(Files.exists(dir(url).resolve(".digest")));
        assertEquals("", ok(s.get(url)).get("job").get("digest").asText(), "unlock clears the digest");
        ok(s.json("PUT", url, "{\"job\": {\"locked\": true}}"));
        assertEquals(expected, ok(s.get(url)).get("job").get("digest").asText());

        // the digest follows the metadata
        ok(s.json("PUT", url, "{\"job\": {\"locked\": false}}"));
        ok(s.json("PATCH", url, "{\"job\": {\"version\": \"2.1\"}}"));
        ok(s.json("PUT", url, "{\"job\": {\"locked\": true}}"));
        String changed = ok(s.get(url)).get("job").get("digest").asText();
        assertNotEquals(expected, changed);
        assertEquals(expectedDigest(url, List.of("deb", "rpm")), changed);
    }

    @Test
    void lockedJobRefusesMetadataAndInternalChanges() throws Exception {
        String url = finalizedJob();
        ok(s.json("PATCH", url, "{\"job\": {\"a\": \"b\"}}"));
        ok(s.json("PUT", url, "{\"job\": {\"locked\": true}}"));
        String meta = Api.read(dir(url).resolve(".metadata"));
        assertError(s.json("PATCH", url, "{\"job\": {\"a\": \"c\"}}"), 400, "Job is locked");
        assertEquals(meta, Api.read(dir(url).resolve(".metadata")));
        assertError(s.json("PUT", url, "{\"job\": {\"internal\": true}}"), 400, "Job is locked");
        assertFalse(Files.exists(dir(url).resolve(".internal")));
        // setting it to its current value is not a change
        ok(s.json("PUT", url, "{\"job\": {\"internal\": false}}"));
        // locking again is harmless, the digest stays
        String digest = ok(s.get(url)).get("job").get("digest").asText();
        ok(s.json("PUT", url, "{\"job\": {\"locked\": true}}"));
        assertEquals(digest, ok(s.get(url)).get("job").get("digest").asText());
        // one request may unlock and change internal
        ok(s.json("PUT", url, "{\"job\": {\"locked\": false, \"internal\": true}}"));
        assertTrue(Files.exists(dir(url).resolve(".internal")));
        JsonNode job = ok(s.get(url)).get("job");
        assertTrue(job.get("internal").asBoolean());
        assertFalse(job.get("locked").asBoolean());
        ok(s.json("PUT", url, "{\"job\": {\"internal\": false}}"));
        assertFalse(Files.exists(dir(url).resolve(".internal")));
    }

    @Test
    void badJobPut() throws Exception {
        String url = finalizedJob();
        assertError(s.json("PUT", url, "{\"job\": {\"locked\": \"yes\"}}"), 400, "locked");
        assertError(s.json("PUT", url, "{\"job\": {\"internal\": 0}}"), 400, "internal");
        assertError(s.json("PUT", url, "{\"job\": true}"), 400, "job");
        assertError(s.json("PUT", url, "]"), 400, null);
        assertFalse(Files.exists(dir(url).resolve(".locked")));
        assertFalse(Files.exists(dir(url).resolve(".internal")));
    }

    @Test
    void deleteJob() throws Exception {
        String url = finalizedJob();
        String other = url.replace("/job/", "/other/");
        upload201(s, other + "deb/o", "o");
        ok(s.delete(url));
        assertFalse(Files.exists(dir(url)));
        assertTrue(Files.exists(dir(other).resolve("deb/o")));
        assertError(s.get(url), 404, null);
        assertError(s.delete(url), 404, null);
        JsonNode tag = ok(s.get(url.substring(0, url.length() - "job/".length()))).get("tag");
        assertEquals(1, tag.get("jobs").size());
        assertEquals("other", tag.get("jobs").get(0).get("name").asText());
        // the blobs stay for the GC: deletion does not remove them synchronously
        assertTrue(Files.exists(Api.blob(s, Api.sha256("deb b"))));
    }
}
