package dlrepo.registry;

import static dlrepo.registry.Reg.assertError;
import static dlrepo.registry.Reg.assertStatus;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Caller;
import dlrepo.Check;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Blobs pushed and waiting for their manifest, with authentication on (the "private user
 * repositories" ACLs): each login may have a bounded number, and one over her bound is
 * refused instead of anyone's pushes being forgotten; what a login pushed to an image is
 * kept as long as that push goes on, however long its largest layer takes.
 */
class PendingPushTest {
    private static final int MAX = 5;
    private static final int IDLE_SECONDS = 3;
    private static TestAuth auth;
    private static TestServer s;
    private static Caller alice;
    private static Caller mallory;

    @BeforeAll
    static void start() throws Exception {
        auth = new TestAuth().user("alice", "alice-pw", "users").user("mallory", "mallory-pw", "users");
        // etc/acls-examples/3-user-repositories
        auth.acl("users", "r /** !/~*/** !/v2/u/**", "rw /~$user/**", "rw /v2/u/$user/**");
        s = auth.start("DLREPO_REGISTRY_MAX_PENDING", Integer.toString(MAX),
                "DLREPO_REGISTRY_IDLE_TIMEOUT", Integer.toString(IDLE_SECONDS), "DLREPO_CHUNK_SIZE", "65536");
        alice = s.as("alice", "alice-pw");
        mallory = s.as("mallory", "mallory-pw");
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
        auth.close();
    }

    static HttpResponse<String> post(Caller c, String path, byte[] body) throws Exception {
        return c.send(c.request(path).header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
    }

    static HttpResponse<String> push(Caller c, String name, Reg.Blob b) throws Exception {
        return post(c, "/v2/" + name + "/blobs/uploads/?digest=" + b.digest(), b.data());
    }

    static HttpResponse<String> putManifest(Caller c, String name, String tag, Reg.Image img) throws Exception {
        return c.put("/v2/" + name + "/manifests/" + tag, img.bytes(), "Content-Type", img.mediaType());
    }

    @Test
    void aLoginOverHerBoundIsRefusedAndNoOneElseLosesAnything() throws Exception {
        String hers = "u/alice/" + Check.unique("b") + "/j";
        Reg.Blob config = Reg.config("amd64", Reg.OCI_CONFIG);
        assertStatus(201, push(alice, hers, config));
        String his = "u/mallory/" + Check.unique("b") + "/j";
        Reg.Blob[] filler = new Reg.Blob[MAX];
        for (int i = 0; i < MAX; i++) {
            filler[i] = i == 0 ? Reg.config("arm64", Reg.OCI_CONFIG) : Reg.Blob.of(Reg.data(100), Reg.OCI_LAYER);
            assertStatus(201, push(mallory, his, filler[i]));
        }
        // one more, in every way a push starts: refused, with a message that says why
        HttpResponse<String> refused = push(mallory, his, Reg.Blob.of(Reg.data(100), Reg.OCI_LAYER));
        assertError(refused, 403, "DENIED");
        assertTrue(refused.body().contains("manifest"), refused.body());
        assertError(post(mallory, "/v2/" + his + "/blobs/uploads/", new byte[0]), 403, "DENIED");
        assertError(post(mallory, "/v2/" + his + "/blobs/uploads/?mount=" + config.digest(), new byte[0]), 403,
                "DENIED");
        // pushing one of his again is no new push
        assertStatus(201, push(mallory, his, filler[0]));
        // alice keeps hers and pushes on
        assertStatus(200, alice.head("/v2/" + hers + "/blobs/" + config.digest()));
        Reg.Blob layer = Reg.Blob.of(Reg.data(1000), Reg.OCI_LAYER);
        assertStatus(201, push(alice, hers, layer));
        assertStatus(201, putManifest(alice, hers, "v1", Reg.manifest(Reg.OCI_MANIFEST, config, List.of(layer))));
        // a manifest using his pushes makes room again
        assertStatus(201, putManifest(mallory, his, "v1",
                Reg.manifest(Reg.OCI_MANIFEST, filler[0], List.of(filler).subList(1, MAX))));
        assertStatus(201, push(mallory, his, Reg.Blob.of(Reg.data(100), Reg.OCI_LAYER)));
    }

    /**
     * A push whose last layer takes longer than the idle timeout: the blobs pushed before
     * it are still there for the manifest. What nobody uses is dropped.
     */
    @Test
    void aLongPushKeepsItsFirstBlobs() throws Exception {
        String name = "u/alice/" + Check.unique("long") + "/j";
        String idle = "u/alice/" + Check.unique("idle") + "/j";
        Reg.Blob config = Reg.config("amd64", Reg.OCI_CONFIG);
        Reg.Blob small = Reg.Blob.of(Reg.data(1000), Reg.OCI_LAYER);
        Reg.Blob forgotten = Reg.Blob.of(Reg.data(1000), Reg.OCI_LAYER);
        assertStatus(201, push(alice, name, config));
        assertStatus(201, push(alice, name, small));
        assertStatus(201, push(alice, idle, forgotten));
        // the large layer: one chunk that trickles in for twice the idle timeout
        HttpResponse<String> start = post(alice, "/v2/" + name + "/blobs/uploads/", new byte[0]);
        assertStatus(202, start);
        String location = Reg.location(start);
        Reg.Blob large = Reg.Blob.of(Reg.data(400_000), Reg.OCI_LAYER);
        try (SlowPatch slow = new SlowPatch(s, location, large.data(), "Authorization",
                Caller.basicHeader("alice", "alice-pw"))) {
            int steps = IDLE_SECONDS * 2 * 4;
            for (int i = 1; i <= steps; i++) {
                Thread.sleep(250);
                slow.sendUpTo(large.data().length * i / steps);
            }
            String answer = slow.finish();
            assertTrue(answer.startsWith("HTTP/1.1 202"), answer);
        }
        assertStatus(201, alice.put(Reg.withParam(location, "digest=" + large.digest()), new byte[0]));
        assertStatus(201, putManifest(alice, name, "v1",
                Reg.manifest(Reg.OCI_MANIFEST, config, List.of(small, large))));
        assertError(alice.get("/v2/" + idle + "/blobs/" + forgotten.digest()), 404, "BLOB_UNKNOWN");
    }
}
