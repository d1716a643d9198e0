package dlrepo.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every kind of write sent to a read-only replica: 405, {@code Allow: GET, HEAD}, the
 * message naming the read-write server ({@code DLREPO_PRIMARY_URL}, else "the read-write
 * server"), {@code X-Dlrepo-Primary}; a page for browsers; the registry's error form under
 * {@code /v2/}; refused before authentication; and nothing changes on disk.
 */
class ReplicaRefusesWritesTest {
    static final String TAG = "/branches/main/v1/";
    static final String JOB = TAG + "job/";
    static final String MESSAGE = "This server is a read-only replica: send writes to " + Replicas.PRIMARY;

    /** A write: method, path, headers (name, value...), body. */
    record Write(String method, String path, byte[] body, String... headers) {
    }

    static List<Write> writes(String digest) {
        byte[] json = "{\"job\": {\"locked\": true}}".getBytes();
        return List.of(
                new Write("PUT", JOB + "f/new.txt", "new".getBytes(), "Digest", TestServer.digest("new")),
                new Write("PUT", JOB + "f/a.txt", "changed".getBytes(), "Digest", TestServer.digest("changed")),
                new Write("PUT", JOB + "f/link.txt", new byte[0], "Digest", digest, "X-Dlrepo-Link", digest),
                new Write("PATCH", JOB + "f/", new byte[0]),
                new Write("DELETE", JOB + "f/", null),
                new Write("DELETE", JOB + "f/a.txt", null),
                new Write("PUT", JOB, json, "Content-Type", "application/json"),
                new Write("PATCH", JOB, "{\"job\": {\"arch\": \"x\"}}".getBytes(), "Content-Type", "application/json"),
                new Write("DELETE", JOB, null),
                new Write("POST", TAG, "{\"tag\": {\"released\": true}}".getBytes(), "Content-Type", "application/json"),
                new Write("POST", TAG, "{\"tag\": {\"stable\": true}}".getBytes(), "Content-Type", "application/json"),
                new Write("DELETE", TAG, null),
                new Write("POST", "/branches/main/", "{\"branch\": {\"max_daily_tags\": 1}}".getBytes(),
                        "Content-Type", "application/json"),
                new Write("DELETE", "/branches/main/", null),
                new Write("PUT", "/branches/other/t/j/f/x.txt", "x".getBytes(), "Digest", TestServer.digest("x")),
                new Write("PUT", "/~alice/branches/b/t/j/f/x.txt", "x".getBytes(), "Digest", TestServer.digest("x")),
                new Write("DELETE", "/~alice/branches/b/", null),
                new Write("POST", "/cleanup", new byte[0]),
                new Write("PUT", "/products/p/v/b/1.0/f/x", "x".getBytes()),
                // 405 on the writer too (no handler answers OPTIONS)
                new Write("OPTIONS", JOB, null),
                new Write("FOO", "/", null));
    }

    static List<Write> registryWrites(String digest) {
        return List.of(
                new Write("POST", "/v2/main/app/blobs/uploads/", new byte[0]),
                new Write("POST", "/v2/main/app/blobs/uploads/?digest=" + TestServer.digest("l"), "l".getBytes()),
                new Write("POST", "/v2/main/app/blobs/uploads/?mount=" + digest + "&from=main/job", new byte[0]),
                new Write("PATCH", "/v2/main/app/blobs/uploads/some-uuid", "l".getBytes()),
                new Write("PUT", "/v2/main/app/blobs/uploads/some-uuid?digest=" + digest, new byte[0]),
                new Write("DELETE", "/v2/main/app/blobs/uploads/some-uuid", null),
                new Write("PUT", "/v2/main/app/manifests/v2", "{}".getBytes(), "Content-Type",
                        "application/vnd.oci.image.manifest.v1+json"),
                new Write("DELETE", "/v2/main/app/manifests/v1", null),
                new Write("DELETE", "/v2/main/app/blobs/" + digest, null));
    }

    static HttpResponse<String> send(TestServer s, Write w, String... extra) throws Exception {
        HttpRequest.Builder b = s.request(w.path()).method(w.method(), w.body() == null
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(w.body()));
        if (w.headers().length > 0) {
            b.headers(w.headers());
        }
        if (extra.length > 0) {
            b.headers(extra);
        }
        return s.send(b.build());
    }

    static void populate(TestServer writer) throws Exception {
        writer.uploadFinalized(JOB + "f/a.txt", "a");
        writer.anonymous().uploadFinalized("/~alice/branches/b/t/j/f/a.txt", "a");
        assertEquals(200, writer.json("PATCH", JOB, dlrepo.products.Helpers.productMeta("p", "v", "b", "1.0"))
                .statusCode());
    }

    @Test
    void everyWriteIsRefusedNamingThePrimary() throws Exception {
        try (Replicas rs = Replicas.start()) {
            populate(rs.writer);
            Replicas.Image image = Replicas.push(rs.writer, "main/app", "v1", Replicas.random(1000, 3));
            String digest = TestServer.digest("a");
            Map<String, Replicas.Entry> before = Replicas.snapshot(rs.writer.root());
            for (Write w : writes(digest)) {
                HttpResponse<String> r = send(rs.replica, w);
                String what = w.method() + " " + w.path();
                assertEquals(405, r.statusCode(), () -> what + ": " + r.body());
                assertEquals("GET, HEAD", r.headers().firstValue("Allow").orElse(null), what);
                assertEquals(Replicas.PRIMARY, r.headers().firstValue("X-Dlrepo-Primary").orElse(null), what);
                assertEquals(MESSAGE, Replicas.JSON.readTree(r.body()).get("error").asText(), what);
                // a browser gets a page
                HttpResponse<String> page = send(rs.replica, w, "Accept", "text/html");
                assertEquals(405, page.statusCode(), what);
                assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"), what);
                assertTrue(page.body().contains(Replicas.PRIMARY), what);
            }
            for (Write w : registryWrites(image.blobs().keySet().iterator().next())) {
                HttpResponse<String> r = send(rs.replica, w);
                String what = w.method() + " " + w.path();
                assertEquals(405, r.statusCode(), () -> what + ": " + r.body());
                assertEquals("GET, HEAD", r.headers().firstValue("Allow").orElse(null), what);
                JsonNode err = Replicas.JSON.readTree(r.body()).get("errors").get(0);
                assertEquals("UNSUPPORTED", err.get("code").asText(), what);
                assertEquals(MESSAGE, err.get("message").asText(), what);
                assertEquals("registry/2.0", r.headers().firstValue("Docker-Distribution-Api-Version").orElse(null));
            }
            Replicas.assertSame(before, Replicas.snapshot(rs.writer.root()));
            // the same writes go through on the writer: the refusals are the replica's
            assertEquals(201, send(rs.writer, writes(digest).get(0)).statusCode());
            assertEquals("new", rs.replica.get(JOB + "f/new.txt").body());
        }
    }

    @Test
    void withoutPrimaryUrlTheMessageNamesTheReadWriteServer() throws Exception {
        try (Replicas rs = Replicas.start(Map.of(), Map.of())) {
            populate(rs.writer);
            HttpResponse<String> r = send(rs.replica, writes(null).get(0));
            assertEquals(405, r.statusCode());
            assertEquals("This server is a read-only replica: send writes to the read-write server",
                    Replicas.JSON.readTree(r.body()).get("error").asText());
            assertFalse(r.headers().firstValue("X-Dlrepo-Primary").isPresent());
            assertTrue(Replicas.JSON.readTree(rs.replica.get("/cleanup").body()).get("cleanup").get("primary_url")
                    .isNull());
        }
    }

    /** Refused before authentication: no credential check, no 401 first, for anyone. */
    @Test
    void refusedBeforeAuthentication() throws Exception {
        try (TestAuth auth = new TestAuth().user("ci", "secret", "ci").acl("ci", "rw /**")) {
            TestServer writer = auth.start();
            TestServer replica = null;
            try {
                assertTrue(writer.daemon().cleanup().awaitIdle(30_000));
                writer.as("ci", "secret").uploadFinalized(JOB + "f/a.txt", "a");
                Map<String, String> env = auth.env("DLREPO_PRIMARY_URL", Replicas.PRIMARY);
                replica = Replicas.replica(writer.root(), env);
                for (String[] who : List.of(new String[0],
                        new String[] {"Authorization", dlrepo.Caller.basicHeader("ci", "secret")},
                        new String[] {"Authorization", dlrepo.Caller.basicHeader("ci", "wrong")})) {
                    HttpResponse<String> r = send(replica, writes(null).get(0), who);
                    assertEquals(405, r.statusCode(), r::body);
                    assertFalse(r.headers().firstValue("WWW-Authenticate").isPresent());
                }
                // reads still check credentials
                assertEquals(401, replica.get(JOB + "f/a.txt").statusCode());
                assertEquals("a", replica.as("ci", "secret").get(JOB + "f/a.txt").body());
            } finally {
                if (replica != null) {
                    replica.stop();
                }
                writer.close();
            }
        }
    }
}
