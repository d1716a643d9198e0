package dlrepo.publish;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.Caller;
import dlrepo.Check;
import dlrepo.CountingProxy;
import dlrepo.DaemonProcess;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The remote server dies (SIGKILL) in the middle of a job: the release ends with an
 * {@code error:} status, the tag is not released, and nothing of the interrupted job is
 * visible as complete on the remote. Restarted on the same root and port, a new release
 * finishes the work without sending again the jobs published before the failure.
 */
class PublishFailureTest {
    static final String BIG = "b-big";

    @Test
    void remoteKilledMidJobThenRestarted() throws Exception {
        try (TestAuth remoteAuth = new TestAuth().user(Sites.LOGIN, Sites.PASSWORD, "publish").acl("publish", "rw /**")) {
            Path remoteRoot = Files.createTempDirectory("dlrepo-remote-");
            int port = DaemonProcess.freePort();
            Map<String, String> remoteEnv = remoteAuth.env();
            DaemonProcess remote = DaemonProcess.startOnPort(port, remoteRoot, remoteEnv);
            try (CountingProxy proxy = new CountingProxy(port);
                    Sites sites = Sites.start("DLREPO_PUBLISH_URL", proxy.url())) {
                Caller ci = sites.ci();
                Random random = new Random(9);
                Map<String, Integer> jobs = Map.of("a-first", 3, BIG, 10, "c-last", 2);
                for (Map.Entry<String, Integer> j : jobs.entrySet()) {
                    int size = j.getKey().equals(BIG) ? 1 << 20 : 10_000;
                    for (int i = 0; i < j.getValue(); i++) {
                        byte[] b = new byte[size];
                        random.nextBytes(b);
                        assertStatus(201, ci.upload("/branches/main/t1/" + j.getKey() + "/deb/f" + i + ".deb", b));
                    }
                    assertStatus(200, ci.send("PATCH", "/branches/main/t1/" + j.getKey() + "/deb/"));
                    assertStatus(200, ci.json("PUT", "/branches/main/t1/" + j.getKey() + "/", "{\"job\": {\"locked\": true}}"));
                }

                proxy.throttleMillis = 10;
                assertStatus(200, sites.release("main", "t1", true));
                assertTrue(Check.eventually(60_000, () -> bodiesOf(proxy, BIG) >= 2), "the big job is being sent");
                remote.process().destroyForcibly(); // SIGKILL
                remote.process().waitFor();
                String status = sites.awaitDone("main", "t1", 60_000);
                assertTrue(status.startsWith("error: " + proxy.url() + ": "), status);
                JsonNode tag = sites.tag("main", "t1");
                assertFalse(tag.get("released").asBoolean(), tag.toString());
                String before = Files.readString(sites.internal().root().resolve("branches/main/t1/.publish-status"))
                        .strip();
                assertEquals(status, before);

                proxy.throttleMillis = 0;
                remote = DaemonProcess.startOnPort(port, remoteRoot, remoteEnv);
                Http pub = new Http(port);
                // the job published before the failure is complete there
                assertEquals(localDigest(sites, "a-first"), pub.ok("/branches/main/t1/a-first/").at("/job/digest")
                        .asText());
                // the interrupted one is not: unlocked, its format not finalized
                HttpResponse<String> big = pub.get("/branches/main/t1/" + BIG + "/");
                if (big.statusCode() == 200) {
                    assertEquals("", Check.JSON.readTree(big.body()).at("/job/digest").asText(), big.body());
                    assertFalse(Check.JSON.readTree(big.body()).at("/job/locked").asBoolean(), big.body());
                } else {
                    assertStatus(404, big);
                }
                assertStatus(404, pub.head("/branches/main/t1/" + BIG + "/deb/"));
                assertStatus(404, pub.get("/branches/main/t1/c-last/"));

                proxy.awaitQuiet();
                proxy.reset();
                assertStatus(200, sites.release("main", "t1", true));
                assertEquals("published to " + proxy.url(), sites.awaitDone("main", "t1", 120_000));
                assertTrue(sites.tag("main", "t1").get("released").asBoolean());
                assertEquals(0, bodiesOf(proxy, "a-first"), "the job published before the failure is not sent again");
                assertTrue(bodiesOf(proxy, BIG) > 0);
                for (String job : List.of("a-first", BIG, "c-last")) {
                    assertEquals(localDigest(sites, job), pub.ok("/branches/main/t1/" + job + "/").at("/job/digest")
                            .asText(), job);
                    assertStatus(200, pub.head("/branches/main/t1/" + job + "/deb/"));
                }
                assertEquals(Sites.tree(sites.internal(), "main", "t1"), remoteTree(remoteRoot));
            } finally {
                remote.close();
                TestServer.deleteTree(remoteRoot);
            }
        }
    }

    /** File bodies sent for {@code job}. */
    static long bodiesOf(CountingProxy proxy, String job) {
        return proxy.bodies().stream().filter(r -> r.method().equals("PUT") && r.path().contains("/" + job + "/")
                && !r.path().endsWith("/")).count();
    }

    static String localDigest(Sites sites, String job) throws Exception {
        String d = sites.ci().ok("/branches/main/t1/" + job + "/").at("/job/digest").asText();
        assertEquals(64, d.length());
        return d;
    }

    /** The artifacts below {@code branches/main/t1} of the remote's root, as {@link Sites#tree} lists them. */
    static java.util.TreeMap<String, String> remoteTree(Path root) throws Exception {
        java.util.TreeMap<String, String> map = new java.util.TreeMap<>();
        try (var s = Files.walk(root.resolve("branches/main/t1"))) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String rel = root.relativize(p).toString();
                if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS) && !("/" + rel).contains("/.")) {
                    map.put(rel, TestServer.digest(Files.readAllBytes(p)).substring(7));
                }
            }
        }
        return map;
    }

    /** Requests to the remote process as the publisher. */
    record Http(int port) {
        static final java.net.http.HttpClient CLIENT = java.net.http.HttpClient.newHttpClient();

        HttpResponse<String> send(String method, String path) throws Exception {
            return CLIENT.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + path))
                    .header("Authorization", Caller.basicHeader(Sites.LOGIN, Sites.PASSWORD))
                    .header("Accept", "application/json")
                    .method(method, java.net.http.HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
        }

        HttpResponse<String> get(String path) throws Exception {
            return send("GET", path);
        }

        HttpResponse<String> head(String path) throws Exception {
            return send("HEAD", path);
        }

        JsonNode ok(String path) throws Exception {
            HttpResponse<String> r = get(path);
            assertEquals(200, r.statusCode(), () -> "GET " + path + ": " + r.body());
            return Check.JSON.readTree(r.body());
        }
    }
}
