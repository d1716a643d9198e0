package dlrepo.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.Caller;
import dlrepo.Check;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An internal server publishing to two public ones, all in-process on loopback, each with
 * its own temporary root and authentication:
 * <ul>
 * <li>{@code public1}, {@code public2}: user {@code publisher:secret} (group {@code publish},
 * {@code rw /**});</li>
 * <li>{@code internal}: user {@code ci:ci-pw} ({@code rw /**}), DLREPO_PUBLISH_URL naming both
 * public servers, DLREPO_PUBLISH_AUTH the file {@link #publishAuth} ({@code publisher:secret}).</li>
 * </ul>
 */
public final class Sites implements AutoCloseable {
    public static final String LOGIN = "publisher";
    public static final String PASSWORD = "secret";

    public final TestAuth publicAuth1;
    public final TestAuth publicAuth2;
    public final TestAuth internalAuth;
    public final TestServer public1;
    public final TestServer public2;
    public final Path publishAuth;
    private final Map<String, String> internalEnv;
    private TestServer internal;

    private Sites(TestAuth a1, TestServer p1, TestAuth a2, TestServer p2, TestAuth ai, Path publishAuth,
            Map<String, String> internalEnv) {
        this.publicAuth1 = a1;
        this.public1 = p1;
        this.publicAuth2 = a2;
        this.public2 = p2;
        this.internalAuth = ai;
        this.publishAuth = publishAuth;
        this.internalEnv = internalEnv;
    }

    /** Starts the three servers; {@code internalEnv} (key, value, ...) adds to the internal one's settings. */
    public static Sites start(String... internalEnv) throws IOException {
        TestAuth a1 = publicSite();
        TestServer p1 = a1.start();
        TestAuth a2 = publicSite();
        TestServer p2 = a2.start();
        TestAuth ai = new TestAuth().user("ci", "ci-pw", "ci").acl("ci", "rw /**");
        Path publishAuth = ai.dir.resolve("publish-auth");
        Files.writeString(publishAuth, LOGIN + ":" + PASSWORD + "\n");
        Map<String, String> env = new HashMap<>();
        env.put("DLREPO_PUBLISH_URL", url(p1) + "," + url(p2));
        env.put("DLREPO_PUBLISH_AUTH", publishAuth.toString());
        for (int i = 0; i + 1 < internalEnv.length; i += 2) {
            env.put(internalEnv[i], internalEnv[i + 1]);
        }
        Sites s = new Sites(a1, p1, a2, p2, ai, publishAuth, env);
        s.internal = TestServer.start(ai.env(flatten(env)));
        return s;
    }

    private static TestAuth publicSite() throws IOException {
        return new TestAuth().user(LOGIN, PASSWORD, "publish").acl("publish", "rw /**");
    }

    private static String[] flatten(Map<String, String> env) {
        List<String> kv = new ArrayList<>();
        env.forEach((k, v) -> {
            kv.add(k);
            kv.add(v);
        });
        return kv.toArray(new String[0]);
    }

    /** {@code http://127.0.0.1:<port>} of a server. */
    public static String url(TestServer s) {
        return "http://127.0.0.1:" + s.port();
    }

    /** The DLREPO_PUBLISH_URL value the internal server was started with. */
    public String publishUrl() {
        return internalEnv.get("DLREPO_PUBLISH_URL");
    }

    public TestServer internal() {
        return internal;
    }

    /** Stops the internal server and starts a new one on the same root with the same settings. */
    public TestServer restartInternal() throws IOException {
        internal.stop();
        internal = TestServer.start(internal.root(), internalAuth.env(flatten(internalEnv)));
        return internal;
    }

    /**
     * Another internal server (own temporary root, the same users) with the same publish
     * settings plus {@code extraEnv} (key, value, ...; these override); the caller closes it.
     */
    public TestServer startInternal(String... extraEnv) throws IOException {
        Map<String, String> env = new HashMap<>(internalEnv);
        for (int i = 0; i + 1 < extraEnv.length; i += 2) {
            env.put(extraEnv[i], extraEnv[i + 1]);
        }
        return TestServer.start(internalAuth.env(flatten(env)));
    }

    /** The internal server's CI user. */
    public Caller ci() {
        return internal.as("ci", "ci-pw");
    }

    /** The publisher's view of a public server. */
    public static Caller publisher(TestServer site) {
        return site.as(LOGIN, PASSWORD);
    }

    public List<TestServer> publics() {
        return List.of(public1, public2);
    }

    /** The tag as the internal server's JSON shows it. */
    public JsonNode tag(String branch, String tag) throws Exception {
        return ci().ok("/branches/" + branch + "/" + tag + "/").get("tag");
    }

    /** Sends {@code {"tag": {"released": <released>}}}; the answer. */
    public HttpResponse<String> release(String branch, String tag, boolean released) throws Exception {
        return ci().json("POST", "/branches/" + branch + "/" + tag + "/",
                "{\"tag\": {\"released\": " + released + "}}");
    }

    /**
     * Waits until the tag's {@code publish_status} starts with {@code prefix}; the status.
     * Fails (with the last status seen) after {@code millis}.
     */
    public String awaitStatus(String branch, String tag, String prefix, long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        String status = "";
        while (System.currentTimeMillis() < deadline) {
            JsonNode s = tag(branch, tag).get("publish_status");
            status = s == null || s.isNull() ? "" : s.asText();
            if (status.startsWith(prefix)) {
                return status;
            }
            Thread.sleep(20);
        }
        fail("publish_status of " + branch + "/" + tag + " should start with '" + prefix + "', is '" + status + "'");
        return status;
    }

    /** Waits until no publication of the tag runs any more (its status is no longer in progress/uploading). */
    public String awaitDone(String branch, String tag, long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        String status = "";
        while (System.currentTimeMillis() < deadline) {
            JsonNode s = tag(branch, tag).get("publish_status");
            status = s == null || s.isNull() ? "" : s.asText();
            if (!status.startsWith("in progress") && !status.startsWith("uploading ")) {
                return status;
            }
            Thread.sleep(20);
        }
        fail("publication of " + branch + "/" + tag + " still running: '" + status + "'");
        return status;
    }

    /**
     * {@code <path below the root> -> sha256 hex} of every regular file below
     * {@code branches/<branch>/<tag>} in a server's root (or of all branches when
     * {@code tag} is null), names starting with '.' left out: the artifacts only.
     */
    public static TreeMap<String, String> tree(TestServer site, String branch, String tag) throws IOException {
        Path dir = site.root().resolve("branches");
        if (branch != null) {
            dir = dir.resolve(branch);
            if (tag != null) {
                dir = dir.resolve(tag);
            }
        }
        TreeMap<String, String> map = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return map;
        }
        try (var s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                String rel = site.root().relativize(p).toString();
                if (("/" + rel).contains("/.")) {
                    continue;
                }
                map.put(rel, TestServer.digest(Files.readAllBytes(p)).substring("sha256:".length()));
            }
        }
        return map;
    }

    /** The JSON of a job on a server, as the publisher sees it, or null if 404. */
    public static JsonNode remoteJob(TestServer site, String branch, String tag, String job) throws Exception {
        HttpResponse<String> r = publisher(site).get("/branches/" + encode(branch) + "/" + encode(tag) + "/"
                + encode(job) + "/");
        if (r.statusCode() == 404) {
            return null;
        }
        assertEquals(200, r.statusCode(), r.body());
        return Check.JSON.readTree(r.body()).get("job");
    }

    /** A name as one URL path segment (percent-encoded UTF-8). */
    public static String encode(String segment) {
        return java.net.URLEncoder.encode(segment, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Override
    public void close() throws IOException {
        for (AutoCloseable c : new AutoCloseable[] {internal, public1, public2, internalAuth, publicAuth1, publicAuth2}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // best effort
            }
        }
    }
}
