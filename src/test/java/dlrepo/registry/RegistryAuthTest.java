package dlrepo.registry;

import static dlrepo.registry.Reg.assertError;
import static dlrepo.registry.Reg.assertStatus;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.TestServer;
import dlrepo.registry.Reg.Blob;
import dlrepo.registry.Reg.Image;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The registry with authentication and ACLs (auth.md): reads per ACL, anonymous pulls where
 * the ANONYMOUS group may read, pushes (POST, PATCH, PUT under /v2/) only with 'a' on
 * {@code /v2/<name>/...}; refusals in the registry's error format, 401 UNAUTHORIZED with
 * {@code WWW-Authenticate} (so that {@code docker login} prompts) and 403 DENIED.
 */
class RegistryAuthTest {
    static Path dir;
    static TestServer s;
    static final String CI = basic("ci", "ci-pass");
    static final String READER = basic("reader", "reader-pass");
    static final String OUTSIDER = basic("outsider", "outsider-pass");
    static final String MAIN_ONLY = basic("mainonly", "mainonly-pass");
    static final String NOT_V1 = basic("notv1", "notv1-pass");
    static final String NOT_REF_V1 = basic("notrefv1", "notrefv1-pass");
    static final String TAGGER = basic("tagger", "tagger-pass");
    static final String BLIND = basic("blind", "blind-pass");
    static Image publicImage;
    static Image mainImage;
    static Image secretImage;

    static String basic(String login, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((login + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("dlrepo-regauth-");
        Path acls = Files.createDirectory(dir.resolve("acls"));
        Files.writeString(dir.resolve("auth"), "ci:ci-pass:ci\nreader:reader-pass:readers\noutsider:outsider-pass:others\n"
                + "mainonly:mainonly-pass:mainonly\nnotv1:notv1-pass:notv1\nnotrefv1:notrefv1-pass:notrefv1\n"
                + "tagger:tagger-pass:tagger\nblind:blind-pass:blind\n");
        Files.writeString(acls.resolve("ci"), "ra /v2/**\nr /branches/**\n");
        Files.writeString(acls.resolve("readers"), "r /v2/** !/v2/secret/**\n");
        Files.writeString(acls.resolve("others"), "r /branches/**\n");
        Files.writeString(acls.resolve("mainonly"), "r /v2/main/**\n");
        Files.writeString(acls.resolve("notv1"), "r /v2/** !/v2/main/app/manifests/v1\n");
        Files.writeString(acls.resolve("ANONYMOUS"), "r /v2/public/**\n");
        Files.writeString(acls.resolve("notrefv1"), "r /v2/** !/v2/main/refacl/manifests/v1\n");
        Files.writeString(acls.resolve("blind"), "ra /v2/main/refblind/** !/v2/main/refblind/manifests/v1\n");
        Files.writeString(acls.resolve("tagger"), "r /v2/**\nra /v2/main/refacl/** !/v2/main/refacl/manifests/v1\n");
        s = TestServer.start(Map.of("DLREPO_AUTH_DISABLED", "0", "DLREPO_AUTH_FILE", dir.resolve("auth").toString(),
                "DLREPO_ACLS_DIR", acls.toString(), "DLREPO_TAG_CLEANUP_PERIOD", "0"));
        publicImage = push(CI, "public/app", "v1");
        mainImage = push(CI, "main/app", "v1");
        secretImage = push(CI, "secret/app", "v1");
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
        TestServer.deleteTree(dir);
    }

    private static HttpResponse<String> call(String auth, String method, String path, byte[] body, String... headers)
            throws IOException, InterruptedException {
        return s.send(auth, method, path, body, headers);
    }

    private static HttpResponse<String> get(String auth, String path) throws IOException, InterruptedException {
        return call(auth, "GET", path, null);
    }

    /** Pushes a one-layer image with {@code auth}; asserts every step succeeds. */
    private static Image push(String auth, String name, String tag) throws Exception {
        Blob config = Reg.config("amd64", Reg.OCI_CONFIG);
        Blob layer = Blob.of(Reg.data(500), Reg.OCI_LAYER);
        for (Blob b : List.of(config, layer)) {
            assertStatus(201, call(auth, "POST", "/v2/" + name + "/blobs/uploads/?digest=" + b.digest(), b.data()));
        }
        Image img = Reg.manifest(Reg.OCI_MANIFEST, config, List.of(layer));
        assertStatus(201, call(auth, "PUT", "/v2/" + name + "/manifests/" + tag, img.bytes(), "Content-Type",
                img.mediaType()));
        return img;
    }

    private static void assertUnauthorized(HttpResponse<String> r) throws IOException {
        assertError(r, 401, "UNAUTHORIZED");
        assertEquals("Basic realm=\"dlrepo\"", r.headers().firstValue("WWW-Authenticate").orElse(null),
                () -> "WWW-Authenticate of " + r.request().method() + " " + r.uri());
    }

    @Test
    void baseEndpointNeedsCredentials() throws Exception {
        assertUnauthorized(get(null, "/v2/"));
        assertUnauthorized(get(null, "/v2"));
        assertUnauthorized(get(basic("ci", "wrong"), "/v2/"));
        assertUnauthorized(get(basic("nobody", "x"), "/v2/"));
        // every authenticated caller may log in, whatever its rights on images
        for (String auth : List.of(CI, READER, OUTSIDER, MAIN_ONLY)) {
            HttpResponse<String> r = get(auth, "/v2/");
            assertStatus(200, r);
            assertEquals("{}", r.body().strip());
        }
    }

    @Test
    void anonymousPullsWhereTheAclAllows() throws Exception {
        HttpResponse<byte[]> r = s.client().send(s.request("/v2/public/app/manifests/v1").GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertStatus(200, r);
        assertArrayEquals(publicImage.bytes(), r.body());
        assertStatus(200, get(null, "/v2/public/app/blobs/" + publicImage.layers().get(0).digest()));
        assertStatus(200, get(null, "/v2/public/app/tags/list"));
        // elsewhere: 401, so that the client asks for credentials
        assertUnauthorized(get(null, "/v2/main/app/manifests/v1"));
        assertUnauthorized(call(null, "HEAD", "/v2/main/app/manifests/v1", null));
        assertUnauthorized(get(null, "/v2/main/app/tags/list"));
        assertUnauthorized(get(null, "/v2/_catalog"));
        // anonymous callers never push, even where they may read
        assertUnauthorized(call(null, "POST", "/v2/public/app/blobs/uploads/", null));
        assertUnauthorized(call(null, "PUT", "/v2/public/app/manifests/v2", publicImage.bytes(), "Content-Type",
                Reg.OCI_MANIFEST));
        assertError(get(null, "/v2/public/app/manifests/v2"), 404, "MANIFEST_UNKNOWN");
    }

    @Test
    void readersPullButDoNotPush() throws Exception {
        HttpResponse<String> r = get(READER, "/v2/main/app/manifests/v1");
        assertStatus(200, r);
        assertEquals(mainImage.digest(), r.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertError(get(READER, "/v2/secret/app/manifests/v1"), 403, "DENIED");
        assertError(get(OUTSIDER, "/v2/main/app/manifests/v1"), 403, "DENIED");

        // every push step needs 'a': POST, PATCH, PUT
        assertError(call(READER, "POST", "/v2/main/app/blobs/uploads/", null), 403, "DENIED");
        Blob b = Blob.of(Reg.data(100), Reg.OCI_LAYER);
        assertError(call(READER, "POST", "/v2/main/app/blobs/uploads/?digest=" + b.digest(), b.data()), 403, "DENIED");
        assertError(call(READER, "PUT", "/v2/main/app/manifests/v2", mainImage.bytes(), "Content-Type",
                Reg.OCI_MANIFEST), 403, "DENIED");
        assertError(call(READER, "POST", "/v2/main/app/blobs/uploads/?mount=" + mainImage.layers().get(0).digest()
                + "&from=main/app", null), 403, "DENIED");
        HttpResponse<String> start = call(CI, "POST", "/v2/main/app/blobs/uploads/", null);
        assertStatus(202, start);
        String loc = Reg.location(start);
        assertError(call(READER, "PATCH", loc, b.data()), 403, "DENIED");
        assertError(call(READER, "PUT", loc + "?digest=" + b.digest(), b.data()), 403, "DENIED");
        assertError(call(READER, "DELETE", loc, null), 403, "DENIED");
        assertUnauthorized(call(null, "PATCH", loc, b.data()));
        // the session was not touched by the refused requests
        HttpResponse<String> status = get(CI, loc);
        assertStatus(204, status);
        assertEquals("0-0", status.headers().firstValue("Range").orElse(null));
        assertStatus(201, call(CI, "PUT", loc + "?digest=" + b.digest(), b.data()));
        assertError(get(READER, "/v2/main/app/manifests/v2"), 404, "MANIFEST_UNKNOWN");
    }

    @Test
    void catalogListsWhatTheCallerMayRead() throws Exception {
        assertEquals(List.of("main/app", "public/app", "secret/app"),
                Reg.strings(Reg.json(get(CI, "/v2/_catalog")).get("repositories")));
        assertEquals(List.of("main/app", "public/app"),
                Reg.strings(Reg.json(get(READER, "/v2/_catalog")).get("repositories")));
        assertEquals(List.of("main/app"), Reg.strings(Reg.json(get(MAIN_ONLY, "/v2/_catalog")).get("repositories")));
        assertEquals(List.of(), Reg.strings(Reg.json(get(OUTSIDER, "/v2/_catalog")).get("repositories")));
        assertStatus(200, get(MAIN_ONLY, "/v2/main/app/manifests/v1"));
        assertError(get(MAIN_ONLY, "/v2/public/app/manifests/v1"), 403, "DENIED");
        // the catalog is not a way around the ACL on other /v2/ paths
        assertError(get(OUTSIDER, "/v2/_catalog/x/tags/list"), 403, "DENIED");
    }

    /** Upper case is not folded to a name the ACL did not check: 400 NAME_INVALID, never the image. */
    @Test
    void upperCaseNamesDoNotBypassTheAcl() throws Exception {
        for (String name : List.of("SECRET/app", "Secret/app", "secret/APP", "sEcReT/app")) {
            for (String auth : new String[] {READER, null}) {
                HttpResponse<String> r = get(auth, "/v2/" + name + "/manifests/v1");
                assertNotEquals(200, r.statusCode(), name + ": " + r.body());
                assertFalse(r.body().contains(secretImage.config().digest()), r.body());
                assertTrue(List.of(400, 401, 403).contains(r.statusCode()), r.statusCode() + " " + r.body());
                String code = r.statusCode() == 400 ? "NAME_INVALID" : r.statusCode() == 401 ? "UNAUTHORIZED" : "DENIED";
                assertError(r, r.statusCode(), code);
                HttpResponse<String> blob = get(auth, "/v2/" + name + "/blobs/" + secretImage.layers().get(0).digest());
                assertNotEquals(200, blob.statusCode(), name);
            }
        }
        // percent-encoded letters and dot segments do not get around the ACL either
        for (String path : List.of("/v2/%73ecret/app/manifests/v1", "/v2/public/../secret/app/manifests/v1",
                "/v2/public/%2e%2e/secret/app/manifests/v1")) {
            String resp = s.raw("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: "
                    + READER + "\r\n\r\n");
            assertFalse(resp.startsWith("HTTP/1.1 200"), path + ": " + resp);
            assertFalse(resp.contains(secretImage.config().digest()), path);
        }
    }

    @Test
    void userRepositoryPushNeedsTheAddRight() throws Exception {
        Image img = push(CI, "u/ci/main/app", "v1");
        HttpResponse<String> r = get(READER, "/v2/u/ci/main/app/manifests/v1");
        assertStatus(200, r);
        assertEquals(img.digest(), r.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertError(call(READER, "PUT", "/v2/u/reader/main/app/manifests/v1", img.bytes(), "Content-Type",
                Reg.OCI_MANIFEST), 403, "DENIED");
        List<String> repos = new ArrayList<>(Reg.strings(Reg.json(get(CI, "/v2/_catalog")).get("repositories")));
        assertTrue(repos.contains("u/ci/main/app"), repos.toString());
    }

    /** A tag denied by an ACL stays denied however the client spells it (case, alias). */
    @Test
    void aDeniedTagCannotBeReachedThroughAnotherSpelling() throws Exception {
        String accept = "application/vnd.oci.image.manifest.v1+json";
        assertEquals(200, call(READER, "GET", "/v2/main/app/manifests/v1", null, "Accept", accept).statusCode());
        for (String ref : new String[] {"v1", "V1", "latest"}) {
            HttpResponse<String> r = call(NOT_V1, "GET", "/v2/main/app/manifests/" + ref, null, "Accept", accept);
            assertError(r, 403, "DENIED");
        }
    }

    /** Pushes referrer {@code r}'s blobs and then the referrer by digest with {@code auth}. */
    private static HttpResponse<String> pushReferrer(String auth, String name, Image r) throws Exception {
        for (Blob b : List.of(r.config(), r.layers().get(0))) {
            assertStatus(201, call(auth, "POST", "/v2/" + name + "/blobs/uploads/?digest=" + b.digest(), b.data()));
        }
        return call(auth, "PUT", "/v2/" + name + "/manifests/" + r.digest(), r.bytes(), "Content-Type",
                r.mediaType());
    }

    private static List<String> referrers(String auth, String name, String subject) throws Exception {
        HttpResponse<String> r = get(auth, "/v2/" + name + "/referrers/" + subject);
        assertStatus(200, r);
        return ReferrersTest.digests(Reg.json(r));
    }

    /**
     * Referrers are listed under the ACL of the tags that link them, waiting ones only to
     * their pusher; linking one into a tag needs the push right on that tag.
     */
    @Test
    void referrersFollowTheTagAcls() throws Exception {
        String name = "main/refacl";
        Image subject = push(CI, name, "v1");
        Image sig = ReferrersTest.referrer(subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
        // the tagger may push to the name but not to v1, which holds the subject
        JsonNode refused = assertError(pushReferrer(TAGGER, name, sig), 403, "DENIED");
        assertTrue(refused.toString().contains("/v2/main/refacl/manifests/v1"), refused.toString());
        assertEquals(List.of(), referrers(CI, name, subject.digest()));
        assertFalse(Files.exists(s.root().resolve("branches/main/v1/refacl/container/.referrers")));

        assertStatus(201, pushReferrer(CI, name, sig));
        assertEquals(List.of(sig.digest()), referrers(CI, name, subject.digest()));
        assertEquals(List.of(sig.digest()), referrers(READER, name, subject.digest()));
        // not readable in v1, nowhere else: not listed
        assertEquals(List.of(), referrers(NOT_REF_V1, name, subject.digest()));
        assertError(get(NOT_REF_V1, "/v2/" + name + "/manifests/" + sig.digest()), 404, "MANIFEST_UNKNOWN");
        assertError(get(OUTSIDER, "/v2/" + name + "/referrers/" + subject.digest()), 403, "DENIED");
        // the same image in v2 brings its signature along: readable there
        assertStatus(201, call(CI, "PUT", "/v2/" + name + "/manifests/v2", subject.bytes(), "Content-Type",
                subject.mediaType()));
        assertEquals(List.of(sig.digest()), referrers(NOT_REF_V1, name, subject.digest()));

        // waiting referrers (subject in no tag): their pusher only
        Image ghost = Reg.manifest(Reg.OCI_MANIFEST, Reg.config("arm64", Reg.OCI_CONFIG), List.of());
        Image byCi = ReferrersTest.referrer(ghost, "application/vnd.example.sig", Reg.OCI_CONFIG);
        Image byTagger = ReferrersTest.referrer(ghost, "application/vnd.example.sig", Reg.OCI_CONFIG);
        assertStatus(201, pushReferrer(CI, name, byCi));
        assertStatus(201, pushReferrer(TAGGER, name, byTagger));
        assertEquals(List.of(byCi.digest()), referrers(CI, name, ghost.digest()));
        assertEquals(List.of(byTagger.digest()), referrers(TAGGER, name, ghost.digest()));
        assertEquals(List.of(), referrers(READER, name, ghost.digest()));
    }

    /**
     * A tag the pusher of a referrer may not read is none of her business: the referrer is
     * linked into the tags she may read (and push to) only, and no answer names the other one.
     */
    @Test
    void aReferrerPushNeverRevealsAnUnreadableTag() throws Exception {
        String name = "main/refblind";
        Image subject = push(CI, name, "v1");
        assertStatus(201, call(CI, "PUT", "/v2/" + name + "/manifests/v2", subject.bytes(), "Content-Type",
                subject.mediaType()));
        Image sig = ReferrersTest.referrer(subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
        HttpResponse<String> r = pushReferrer(BLIND, name, sig);
        assertStatus(201, r);
        assertFalse(r.body().contains("v1"), r.body());
        assertEquals(List.of(sig.digest()), referrers(BLIND, name, subject.digest()));
        assertTrue(Files.exists(s.root().resolve("branches/main/v2/refblind/container/.referrers")));
        assertFalse(Files.exists(s.root().resolve("branches/main/v1/refblind/container/.referrers")));
    }
}
