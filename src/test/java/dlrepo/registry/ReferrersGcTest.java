package dlrepo.registry;

import static dlrepo.registry.Reg.assertStatus;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.TestServer;
import dlrepo.products.Helpers;
import dlrepo.registry.Reg.Blob;
import dlrepo.registry.Reg.Image;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Referrers live and die with their subject (orphan lifetime 0): signatures and SBOMs stay
 * through cleanups while a tag holds their subject, and are collected with it once the
 * subject is deleted (by digest, or its tag by the tag policy). The daemon is restarted
 * before the cleanups that must collect: blobs just pushed are protected for a while
 * (BlobStore.PROBE_GRACE) whatever the lifetime; after a restart only the links count.
 */
class ReferrersGcTest {
    static final Map<String, String> ENV = Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0", "DLREPO_ORPHAN_BLOB_LIFETIME", "0");
    Path root;
    TestServer s;

    @BeforeEach
    void start() throws Exception {
        root = Files.createTempDirectory("dlrepo-refgc-");
        s = TestServer.start(root, ENV);
    }

    @AfterEach
    void stop() throws Exception {
        s.close();
    }

    /** A new daemon on the same root: nothing in memory (pending pushes, probe grace) protects a blob any more. */
    private void restart() throws Exception {
        s.stop();
        s = TestServer.start(root, ENV);
    }

    /** An orphan cleanup, awaited. */
    private void cleanup() throws Exception {
        assertTrue(s.daemon().cleanup().awaitIdle(30_000));
        s.daemon().cleanup().scheduleCleanup(false);
        assertTrue(s.daemon().cleanup().awaitIdle(30_000));
    }

    /** A real orphan (old, linked nowhere): the cleanup that follows must delete it, proving it ran. */
    private Path plantOrphan() throws Exception {
        byte[] data = Reg.data(100);
        Path p = Helpers.blob(s, Helpers.sha256(data));
        Files.createDirectories(p.getParent());
        // aged before it appears: a cleanup already running would otherwise take it between write and touch
        Path tmp = Files.write(Files.createTempFile(root, "orphan", ".tmp"), data);
        Files.setLastModifiedTime(tmp, FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
        Files.move(tmp, p, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return p;
    }

    private Path stored(String digest) {
        return Helpers.blob(s, digest.substring("sha256:".length()));
    }

    /** A signature (notation) and an SBOM (oras attach) of {@code img}. */
    private List<Image> signAndAttach(String name, Image img) throws Exception {
        OciClient c = new OciClient(s);
        var subject = OciClient.descriptor(img);
        Image sig = ReferrerClientsTest.notationSign(c, name, subject, Helpers.sha256(Reg.unique("cert")));
        Image sbom = ReferrerClientsTest.orasAttach(c, name, subject, ReferrerClientsTest.SPDX, "sbom.spdx.json",
                ("{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"" + Reg.unique("s") + "\"}").getBytes(StandardCharsets.UTF_8));
        return List.of(sig, sbom);
    }

    private static List<String> digests(List<Image> l) {
        return l.stream().map(Image::digest).sorted().toList();
    }

    /** Every referrer listed for {@code subject}, its manifest and every blob readable, byte for byte. */
    private void assertReadable(String name, String subject, List<Image> referrers) throws Exception {
        OciClient c = new OciClient(s);
        List<JsonNode> listed = c.referrers(name, subject, null);
        assertEquals(digests(referrers), listed.stream().map(d -> d.get("digest").asText()).toList());
        for (Image r : referrers) {
            JsonNode d = listed.stream().filter(x -> x.get("digest").asText().equals(r.digest())).findFirst().orElseThrow();
            c.fetchManifest(name, d);
            assertArrayEquals(r.config().data(), c.fetchBlob(name, OciClient.descriptor(r.config().mediaType(),
                    r.config().digest(), r.config().data().length)));
            for (Blob b : r.layers()) {
                assertArrayEquals(b.data(), c.fetchBlob(name, b.descriptor()));
            }
            assertTrue(Files.isRegularFile(stored(r.digest())));
        }
    }

    /** Gone for good: not listed, manifest and unique layers 404 and out of {@code .blobs}. */
    private void assertCollected(String name, String subject, List<Image> referrers) throws Exception {
        OciClient c = new OciClient(s);
        assertEquals(List.of(), c.referrers(name, subject, null));
        for (Image r : referrers) {
            assertFalse(Files.exists(stored(r.digest())), "manifest " + r.digest() + " collected");
            Reg.assertError(c.send("GET", "/v2/" + name + "/manifests/" + r.digest(), null), 404, "MANIFEST_UNKNOWN");
            for (Blob b : r.layers()) {
                assertFalse(Files.exists(stored(b.digest())), "layer " + b.digest() + " of " + r.digest() + " collected");
                Reg.assertError(c.send("GET", "/v2/" + name + "/blobs/" + b.digest(), null), 404, "BLOB_UNKNOWN");
            }
        }
    }

    @Test
    void subjectSignatureAndSbomSurviveCleanups() throws Exception {
        String name = "main/" + Reg.unique("keep");
        Image img = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 3000);
        List<Image> refs = signAndAttach(name, img);
        cleanup();
        assertReadable(name, img.digest(), refs);
        restart();
        Path orphan = plantOrphan();
        cleanup();
        assertFalse(Files.exists(orphan), "the cleanup ran");
        assertReadable(name, img.digest(), refs);
        Path container = OciClient.container(s, name, "v1");
        for (Image r : refs) {
            OciClient.assertLinked(container, r.digest());
        }
        assertEquals(200, new OciClient(s).manifestStatus(name, "v1"));
    }

    /**
     * The same image in v1 and v2 (v2 pushed after the signatures: the tag push brings
     * them along); v1 deleted through the registry or the HTTP API: they stay with v2.
     */
    @ParameterizedTest
    @ValueSource(strings = {"registry", "branches"})
    void referrersStayWithTheTagThatStillHoldsTheirSubject(String how) throws Exception {
        String branch = Reg.unique("two");
        String name = branch + "/app";
        Image img = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 3000);
        List<Image> refs = signAndAttach(name, img);
        assertStatus(201, Reg.putManifest(s, name, "v2", img));
        for (String tag : List.of("v1", "v2")) {
            for (Image r : refs) {
                OciClient.assertLinked(OciClient.container(s, name, tag), r.digest());
            }
            OciClient.assertReferrersFile(OciClient.container(s, name, tag), img.digest(), digests(refs));
        }
        if (how.equals("registry")) {
            assertStatus(202, Reg.send(s, "DELETE", "/v2/" + name + "/manifests/v1", null));
        } else {
            assertEquals(200, s.delete("/branches/" + branch + "/v1/").statusCode());
        }
        assertEquals(404, new OciClient(s).manifestStatus(name, "v1"));
        cleanup();
        assertReadable(name, img.digest(), refs);
        restart();
        Path orphan = plantOrphan();
        cleanup();
        assertFalse(Files.exists(orphan), "the cleanup ran");
        assertReadable(name, img.digest(), refs);
        assertFalse(Files.exists(OciClient.container(s, name, "v1")));
        for (Image r : refs) {
            OciClient.assertLinked(OciClient.container(s, name, "v2"), r.digest());
        }
    }

    @Test
    void deletingTheSubjectByDigestLetsTheCleanupCollectItsReferrers() throws Exception {
        String name = "main/" + Reg.unique("gone");
        Image img = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 3000);
        Image kept = Reg.pushImage(s, name, "v2", Reg.OCI_MANIFEST, 1, 3000);
        List<Image> refs = signAndAttach(name, img);
        List<Image> keptRefs = signAndAttach(name, kept);
        assertStatus(202, Reg.send(s, "DELETE", "/v2/" + name + "/manifests/" + img.digest(), null));
        assertEquals(404, new OciClient(s).manifestStatus(name, "v1"));
        assertFalse(Files.exists(OciClient.container(s, name, "v1")));
        restart();
        cleanup();
        assertCollected(name, img.digest(), refs);
        assertFalse(Files.exists(stored(img.digest())), "the subject's manifest collected too");
        assertEquals(404, new OciClient(s).manifestStatus(name, img.digest()));
        // the other image and its referrers are untouched
        assertReadable(name, kept.digest(), keptRefs);
    }

    /** Another image pushed to the tag replaces the old one and its referrers; nothing else holds them. */
    @Test
    void replacingTheTagsImageLetsTheCleanupCollectTheOldReferrers() throws Exception {
        String name = "main/" + Reg.unique("repl");
        Image old = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 3000);
        List<Image> refs = signAndAttach(name, old);
        Image current = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 3000);
        List<Image> currentRefs = signAndAttach(name, current);
        Path container = OciClient.container(s, name, "v1");
        assertEquals(List.of(current.digest()), List.copyOf(OciClient.referrersFile(container).keySet()));
        restart();
        cleanup();
        assertCollected(name, old.digest(), refs);
        assertReadable(name, current.digest(), currentRefs);
    }

    @Test
    void theTagPolicyDeletingTheTagTakesItsReferrers() throws Exception {
        String branch = Reg.unique("policy");
        String name = branch + "/app";
        Image img = Reg.pushImage(s, name, "t0", Reg.OCI_MANIFEST, 1, 3000);
        List<Image> refs = signAndAttach(name, img);
        Image newer = Reg.pushImage(s, name, "t1", Reg.OCI_MANIFEST, 1, 3000);
        long now = System.currentTimeMillis();
        for (String tag : List.of("t0", "t1")) {
            Path stamp = s.root().resolve("branches/" + branch + "/" + tag + "/.stamp");
            if (!Files.exists(stamp)) {
                Files.createFile(stamp);
            }
            Files.setLastModifiedTime(stamp, FileTime.fromMillis(now - (tag.equals("t0") ? 120_000 : 60_000)));
        }
        assertEquals(200, s.json("POST", "/branches/" + branch + "/",
                "{\"branch\": {\"max_daily_tags\": 1, \"max_released_tags\": 0}}").statusCode());
        s.daemon().cleanup().schedule(true, "test");
        assertTrue(s.daemon().cleanup().awaitIdle(30_000));
        assertFalse(Files.exists(s.root().resolve("branches/" + branch + "/t0")), "the policy deleted t0");
        assertEquals(200, new OciClient(s).manifestStatus(name, "t1"));
        restart();
        cleanup();
        assertCollected(name, img.digest(), refs);
        assertEquals(newer.digest(), new OciClient(s).resolve(name, "t1").get("digest").asText());
    }

    @Test
    void aReferrerWaitingForItsSubjectIsKeptOnceTheSubjectIsTagged() throws Exception {
        String name = "main/" + Reg.unique("wait");
        Image img = Reg.pushBlobs(s, name, Reg.OCI_MANIFEST, "amd64", 1, 3000);
        List<Image> refs = signAndAttach(name, img);
        // cleanups while it waits: the push is recent, its blobs stay
        cleanup();
        assertReadable(name, img.digest(), refs);
        assertStatus(201, Reg.putManifest(s, name, "v1", img));
        for (Image r : refs) {
            OciClient.assertLinked(OciClient.container(s, name, "v1"), r.digest());
        }
        restart();
        Path orphan = plantOrphan();
        cleanup();
        assertFalse(Files.exists(orphan), "the cleanup ran");
        assertReadable(name, img.digest(), refs);
    }

    /**
     * Spec (content management): once a manifest is deleted, a GET by its digest answers 404,
     * with or without authentication, cleanup or not. Its blobs are the GC's, as after any
     * delete: without authentication they stay readable until it collects them.
     */
    @Test
    void aManifestDeletedByDigestIsUnknownAtOnce() throws Exception {
        String name = "main/" + Reg.unique("del");
        Image img = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 1000);
        List<Image> refs = signAndAttach(name, img);
        assertStatus(202, Reg.send(s, "DELETE", "/v2/" + name + "/manifests/" + img.digest(), null));
        OciClient c = new OciClient(s);
        org.junit.jupiter.api.Assertions.assertAll(
                () -> assertEquals(404, c.manifestStatus(name, img.digest()), "GET manifests/<deleted subject>"),
                () -> assertEquals(List.of(), c.referrerDigests(name, img.digest(), null), "its referrers left with it"),
                () -> assertEquals(404, c.manifestStatus(name, refs.get(0).digest()), "GET manifests/<its signature>"),
                () -> assertEquals(200, c.blobStatus(name, refs.get(0).layers().get(0).digest()),
                        "GET blobs/<the signature's layer>, before the GC"));
        restart();
        cleanup();
        assertEquals(404, new OciClient(s).blobStatus(name, refs.get(0).layers().get(0).digest()), "after the GC");
    }
}
