package dlrepo.registry;

import static dlrepo.registry.Reg.JSON;
import static dlrepo.registry.Reg.assertError;
import static dlrepo.registry.Reg.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.Check;
import dlrepo.TestServer;
import dlrepo.registry.Reg.Blob;
import dlrepo.registry.Reg.Image;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Referrers (OCI distribution 1.1): manifests with a {@code subject}, pushed and listed. */
class ReferrersTest {
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"));
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    private static String name() {
        return "main/" + Reg.unique("refs");
    }

    /**
     * A referrer of {@code subject}: an image manifest over a pushed config of
     * {@code configType} and one layer, with {@code artifactType} (null: none) and one
     * annotation; its blobs are pushed to {@code name}.
     */
    static Image referrer(TestServer srv, String name, Image subject, String artifactType, String configType)
            throws Exception {
        Image r = referrer(subject, artifactType, configType);
        Reg.pushBlob(srv, name, r.config());
        Reg.pushBlob(srv, name, r.layers().get(0));
        return r;
    }

    /** A referrer of {@code subject} as {@link #referrer(TestServer, String, Image, String, String)}, nothing pushed. */
    static Image referrer(Image subject, String artifactType, String configType) {
        Blob config = Blob.of(("{\"n\":\"" + Reg.unique("c") + "\"}").getBytes(StandardCharsets.UTF_8), configType);
        Blob layer = Blob.of(Reg.data(64), "application/vnd.example.sig");
        ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", Reg.OCI_MANIFEST);
        if (artifactType != null) {
            m.put("artifactType", artifactType);
        }
        m.set("config", config.descriptor());
        m.putArray("layers").add(layer.descriptor());
        m.set("subject", descriptor(subject));
        m.putObject("annotations").put("org.example.note", Reg.unique("note"));
        byte[] bytes = m.toString().getBytes(StandardCharsets.UTF_8);
        return new Image(bytes, TestServer.digest(bytes), Reg.OCI_MANIFEST, config, List.of(layer));
    }

    static ObjectNode descriptor(Image img) {
        ObjectNode d = JSON.createObjectNode();
        d.put("mediaType", img.mediaType());
        d.put("digest", img.digest());
        d.put("size", img.bytes().length);
        return d;
    }

    @Test
    void putWithSubjectAnswersOciSubject() throws Exception {
        String name = name();
        Image subject = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 100);
        Image sig = referrer(s, name, subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
        HttpResponse<String> r = Reg.putManifest(s, name, sig.digest(), sig);
        assertStatus(201, r);
        assertEquals(subject.digest(), r.headers().firstValue("OCI-Subject").orElse(null));
        assertEquals(sig.digest(), r.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertEquals("/v2/" + name + "/manifests/" + sig.digest(), Reg.location(r));
        // a subject nobody pushed is accepted too (the specification requires it)
        Image ghost = Reg.manifest(Reg.OCI_MANIFEST, Reg.config("arm64", Reg.OCI_CONFIG), List.of());
        Image orphan = referrer(s, name, ghost, null, "application/vnd.example.sbom");
        r = Reg.putManifest(s, name, orphan.digest(), orphan);
        assertStatus(201, r);
        assertEquals(ghost.digest(), r.headers().firstValue("OCI-Subject").orElse(null));
        // a manifest without subject: no header
        Image plain = Reg.pushBlobs(s, name, Reg.OCI_MANIFEST, "amd64", 1, 10);
        r = Reg.putManifest(s, name, "v2", plain);
        assertStatus(201, r);
        assertFalse(r.headers().firstValue("OCI-Subject").isPresent());
    }

    @Test
    void badSubjectIsRefused() throws Exception {
        String name = name();
        Image subject = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 100);
        Image sig = referrer(s, name, subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
        for (String bad : List.of("\"digest\":\"sha256:nothex\"", "\"digest\":\"md5:00\"", "\"nodigest\":1")) {
            String text = sig.text().replaceFirst("\"subject\":\\{[^}]*\\}",
                    "\"subject\":{\"mediaType\":\"" + Reg.OCI_MANIFEST + "\"," + bad + ",\"size\":1}");
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            assertError(Reg.putManifest(s, name, TestServer.digest(bytes), Reg.OCI_MANIFEST, bytes), 400,
                    "MANIFEST_INVALID");
        }
        byte[] notObject = sig.text().replaceFirst("\"subject\":\\{[^}]*\\}", "\"subject\":\"x\"")
                .getBytes(StandardCharsets.UTF_8);
        assertError(Reg.putManifest(s, name, TestServer.digest(notObject), Reg.OCI_MANIFEST, notObject), 400,
                "MANIFEST_INVALID");
    }

    /** An index referrer (no artifactType, no annotations) over {@code children}, pushed by digest before. */
    static Image indexReferrer(Image subject, List<Image> children) {
        ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", Reg.OCI_INDEX);
        ArrayNode l = m.putArray("manifests");
        children.forEach(c -> l.add(descriptor(c)));
        m.set("subject", descriptor(subject));
        byte[] bytes = m.toString().getBytes(StandardCharsets.UTF_8);
        return new Image(bytes, TestServer.digest(bytes), Reg.OCI_INDEX, null, List.of());
    }

    /** The referrers list of {@code digest}, checked as the contract says every answer is. */
    static JsonNode referrers(TestServer srv, String name, String digest, String query) throws Exception {
        HttpResponse<String> r = srv.get("/v2/" + name + "/referrers/" + digest + (query == null ? "" : query));
        assertStatus(200, r);
        assertEquals(Reg.OCI_INDEX, r.headers().firstValue("Content-Type").orElse(null));
        assertEquals("registry/2.0", r.headers().firstValue("Docker-Distribution-API-Version").orElse(null));
        assertEquals(query != null && query.contains("artifactType="),
                r.headers().firstValue("OCI-Filters-Applied").isPresent());
        JsonNode index = Reg.json(r);
        assertEquals(2, index.get("schemaVersion").asInt());
        assertEquals(Reg.OCI_INDEX, index.get("mediaType").asText());
        List<String> digests = digests(index);
        assertEquals(digests.stream().sorted().distinct().toList(), digests, "sorted by digest, no duplicate");
        return index;
    }

    static List<String> digests(JsonNode index) {
        List<String> out = new ArrayList<>();
        index.get("manifests").forEach(d -> out.add(d.get("digest").asText()));
        return out;
    }

    static JsonNode find(JsonNode index, Image img) {
        for (JsonNode d : index.get("manifests")) {
            if (d.get("digest").asText().equals(img.digest())) {
                return d;
            }
        }
        throw new AssertionError(img.digest() + " not listed in " + index);
    }

    static List<String> sorted(Image... imgs) {
        return java.util.Arrays.stream(imgs).map(Image::digest).sorted().toList();
    }

    private static Path container(String name, String tag) {
        String[] p = name.split("/");
        return s.root().resolve("branches/" + p[0] + "/" + tag + "/" + p[1] + "/container");
    }

    private static Path entry(String name, String tag, String kind, String digest) {
        String hex = digest.substring("sha256:".length());
        return container(name, tag).resolve(kind + "/sha256/" + hex.substring(0, 2) + "/" + hex);
    }

    @Test
    void listsReferrersWithTheirDescriptorsAndFilters() throws Exception {
        String name = name();
        Image subject = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 100);
        assertStatus(201, Reg.putManifest(s, name, "v2", subject));
        Image sig = referrer(s, name, subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
        Image sbom = referrer(s, name, subject, null, "application/vnd.example.sbom.config");
        Image plain = Reg.pushBlobs(s, name, Reg.OCI_MANIFEST, "arm64", 1, 10);
        assertStatus(201, Reg.putManifest(s, name, plain.digest(), plain));
        Image idx = indexReferrer(subject, List.of(plain));
        for (Image r : List.of(sig, sbom, idx)) {
            assertStatus(201, Reg.putManifest(s, name, r.digest(), r));
        }
        JsonNode all = referrers(s, name, subject.digest(), null);
        assertEquals(sorted(sig, sbom, idx), digests(all));
        JsonNode d = find(all, sig);
        assertEquals(Reg.OCI_MANIFEST, d.get("mediaType").asText());
        assertEquals(sig.bytes().length, d.get("size").asLong());
        assertEquals("application/vnd.example.sig", d.get("artifactType").asText());
        assertEquals(Reg.JSON.readTree(sig.bytes()).get("annotations"), d.get("annotations"));
        // no artifactType: the config's media type
        assertEquals("application/vnd.example.sbom.config", find(all, sbom).get("artifactType").asText());
        // an index without one: none; no annotations: none
        JsonNode i = find(all, idx);
        assertEquals(Reg.OCI_INDEX, i.get("mediaType").asText());
        assertFalse(i.has("artifactType"), i.toString());
        assertFalse(i.has("annotations"), i.toString());
        // the filter, and its header
        JsonNode filtered = referrers(s, name, subject.digest(), "?artifactType=application/vnd.example.sig");
        assertEquals(List.of(sig.digest()), digests(filtered));
        assertEquals(List.of(), digests(referrers(s, name, subject.digest(), "?artifactType=none/such")));
        // HEAD answers the same headers
        HttpResponse<String> head = s.head("/v2/" + name + "/referrers/" + subject.digest());
        assertStatus(200, head);
        assertEquals(Reg.OCI_INDEX, head.headers().firstValue("Content-Type").orElse(null));

        // on disk: linked into both tags holding the subject, in .digests, indexed in .referrers
        for (String tag : List.of("v1", "v2")) {
            for (Image r : List.of(sig, sbom, idx, plain)) {
                assertTrue(Files.isRegularFile(entry(name, tag, "manifests", r.digest())), tag + " " + r.digest());
            }
            for (Blob b : List.of(sig.config(), sig.layers().get(0), sbom.config(), plain.layers().get(0))) {
                assertTrue(Files.isRegularFile(entry(name, tag, "blobs", b.digest())), tag + " " + b.digest());
            }
            JsonNode digestsFile = Reg.JSON.readTree(container(name, tag).resolve(".digests").toFile());
            assertTrue(digestsFile.has("manifests/sha256/" + sig.hex().substring(0, 2) + "/" + sig.hex()));
            assertFalse(digestsFile.has(".referrers"));
            JsonNode index = Reg.JSON.readTree(container(name, tag).resolve(".referrers").toFile());
            assertEquals(List.of(subject.digest()), Reg.strings(JSON.valueToTree(
                    java.util.stream.StreamSupport.stream(
                            java.util.Spliterators.spliteratorUnknownSize(index.fieldNames(), 0), false).toList())));
            assertEquals(all.get("manifests"), index.get(subject.digest()));
            // the tag's image is unchanged
            assertEquals(subject.digest() + "\n", Files.readString(container(name, tag).resolve(".manifest")));
        }
        // not listed nor served as a file of the format
        String format = "/branches/" + name.split("/")[0] + "/v1/" + name.split("/")[1] + "/container/";
        assertEquals(400, s.get(format + ".referrers").statusCode());
        HttpResponse<String> listing = s.get(format);
        Check.assertStatus(200, listing);
        assertFalse(listing.body().contains(".referrers"), listing.body());
        assertTrue(listing.body().contains(sig.hex()), listing.body());
        // a referrer is pulled by digest as any manifest
        assertStatus(200, s.get("/v2/" + name + "/manifests/" + sig.digest()));
        // the tag still pulls its image
        assertEquals(subject.digest(), s.head("/v2/" + name + "/manifests/v1").headers()
                .firstValue("Docker-Content-Digest").orElse(null));
    }

    @Test
    void answersEmptyOrErrors() throws Exception {
        String name = name();
        Image subject = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 100);
        assertEquals(List.of(), digests(referrers(s, name, subject.digest(), null)));
        String unknown = TestServer.digest(Reg.data(10));
        assertEquals(List.of(), digests(referrers(s, name, unknown, null)));
        // a name with no image at all: empty too, never 404
        assertEquals(List.of(), digests(referrers(s, "main/" + Reg.unique("none"), unknown, null)));
        assertError(s.get("/v2/" + name + "/referrers/sha256:abc"), 400, "DIGEST_INVALID");
        assertError(s.get("/v2/" + name + "/referrers/latest"), 400, "DIGEST_INVALID");
        assertError(Reg.send(s, "POST", "/v2/" + name + "/referrers/" + unknown, new byte[0]), 405, "UNSUPPORTED");
        assertError(Reg.send(s, "DELETE", "/v2/" + name + "/referrers/" + unknown, null), 405, "UNSUPPORTED");
    }

    /**
     * The order of the conformance suite: referrers pushed before their subject is tagged
     * wait (listed); pushing the subject's tag links them in, with the referrers of those
     * referrers.
     */
    @Test
    void referrersPushedBeforeTheirSubjectWaitThenJoinItsTag() throws Exception {
        String name = name();
        Image subject = Reg.pushBlobs(s, name, Reg.OCI_MANIFEST, "amd64", 1, 100);
        Image sig = referrer(s, name, subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
        Image sigOfSig = referrer(s, name, sig, "application/vnd.example.sig", Reg.OCI_CONFIG);
        Image idx = indexReferrer(subject, List.of(sig));
        for (Image r : List.of(sig, sigOfSig, idx)) {
            HttpResponse<String> put = Reg.putManifest(s, name, r.digest(), r);
            assertStatus(201, put);
        }
        assertEquals(sorted(sig, idx), digests(referrers(s, name, subject.digest(), null)));
        assertEquals(List.of(sigOfSig.digest()), digests(referrers(s, name, sig.digest(), null)));
        assertFalse(Files.exists(container(name, "v1")));

        assertStatus(201, Reg.putManifest(s, name, "v1", subject));
        assertEquals(sorted(sig, idx), digests(referrers(s, name, subject.digest(), null)));
        assertEquals(List.of(sigOfSig.digest()), digests(referrers(s, name, sig.digest(), null)));
        for (Image r : List.of(sig, sigOfSig, idx)) {
            assertTrue(Files.isRegularFile(entry(name, "v1", "manifests", r.digest())), r.digest());
        }
        assertTrue(Files.isRegularFile(entry(name, "v1", "blobs", sigOfSig.layers().get(0).digest())));
        JsonNode index = Reg.JSON.readTree(container(name, "v1").resolve(".referrers").toFile());
        assertEquals(List.of(sigOfSig.digest()), digests(JSON.createObjectNode().set("manifests",
                index.get(sig.digest()))));
        assertEquals(subject.digest() + "\n", Files.readString(container(name, "v1").resolve(".manifest")));

        // a second tag of the same image brings them too, from the first tag
        assertStatus(201, Reg.putManifest(s, name, "v2", subject));
        for (Image r : List.of(sig, sigOfSig, idx)) {
            assertTrue(Files.isRegularFile(entry(name, "v2", "manifests", r.digest())), r.digest());
        }
        // a referrer pushed now joins both
        Image late = referrer(s, name, subject, "application/vnd.example.late", Reg.OCI_CONFIG);
        assertStatus(201, Reg.putManifest(s, name, late.digest(), late));
        assertTrue(Files.isRegularFile(entry(name, "v1", "manifests", late.digest())));
        assertTrue(Files.isRegularFile(entry(name, "v2", "manifests", late.digest())));
    }

    @Test
    void aSubjectNeverPushedKeepsItsReferrersWaiting() throws Exception {
        String name = name();
        Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 100);
        Image ghost = Reg.manifest(Reg.OCI_MANIFEST, Reg.config("arm64", Reg.OCI_CONFIG), List.of());
        Image sig = referrer(s, name, ghost, "application/vnd.example.sig", Reg.OCI_CONFIG);
        assertStatus(201, Reg.putManifest(s, name, sig.digest(), sig));
        JsonNode list = referrers(s, name, ghost.digest(), null);
        assertEquals(List.of(sig.digest()), digests(list));
        assertEquals("application/vnd.example.sig", find(list, sig).get("artifactType").asText());
        assertFalse(Files.exists(entry(name, "v1", "manifests", sig.digest())));
        assertFalse(Files.exists(container(name, "v1").resolve(".referrers")));
        // not listed under another name
        assertEquals(List.of(), digests(referrers(s, "main/" + Reg.unique("other"), ghost.digest(), null)));
    }

    @Test
    void aReferrerOfAnImageInALockedJobIsRefused() throws Exception {
        String name = name();
        Image subject = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 100);
        String[] p = name.split("/");
        Check.assertStatus(200, s.json("PUT", "/branches/" + p[0] + "/v1/" + p[1] + "/",
                "{\"job\": {\"locked\": true}}"));
        Image sig = referrer(s, name, subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
        JsonNode err = assertError(Reg.putManifest(s, name, sig.digest(), sig), 403, "DENIED");
        assertTrue(err.toString().contains("is locked") && err.toString().contains("v1"), err.toString());
        assertFalse(Files.exists(entry(name, "v1", "manifests", sig.digest())));
        assertFalse(Files.exists(container(name, "v1").resolve(".referrers")));
        assertEquals(List.of(), digests(referrers(s, name, subject.digest(), null)));
    }

    /** Referrer blobs linked into a user's image count against her quota like the image's. */
    @Test
    void referrerBlobsCountAgainstTheQuota() throws Exception {
        try (TestServer q = TestServer.start(Map.of("DLREPO_USER_QUOTA", "1000000", "DLREPO_TAG_CLEANUP_PERIOD",
                "0"))) {
            String user = Check.unique("quser");
            String name = "u/" + user + "/b/j";
            Image subject = Reg.pushImage(q, name, "t1", Reg.OCI_MANIFEST, 1, 100);
            Image sig = referrer(q, name, subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
            Blob big = Blob.of(Reg.data(600_000), "application/vnd.example.sbom");
            Reg.pushBlob(q, name, big);
            String text = sig.text().replace(sig.layers().get(0).descriptor().toString(), big.descriptor().toString());
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            assertStatus(201, Reg.putManifest(q, name, TestServer.digest(bytes), Reg.OCI_MANIFEST, bytes));
            String usage = q.anonymous().ok("/~" + user + "/").toString();
            long expected = subject.bytes().length + subject.config().data().length + 100 + bytes.length
                    + sig.config().data().length + 600_000;
            assertTrue(usage.contains("\"disk_usage\":" + expected), expected + " in " + usage);
            // counted once: 600 KB more do not fit
            Blob other = Blob.of(Reg.data(600_000), Reg.OCI_LAYER);
            assertStatus(403, Reg.post(q, "/v2/" + name + "/blobs/uploads/?digest=" + other.digest(), other.data()));
        }
    }

    /**
     * A referrer that is an index over an index is refused, as a tag's image is: before,
     * it was accepted and linked without the inner index's children, so it could not be
     * pulled whole.
     */
    @Test
    void anIndexReferrerOverAnIndexIsRefused() throws Exception {
        String name = name();
        Image subject = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 100);
        Image child = Reg.pushBlobs(s, name, Reg.OCI_MANIFEST, "arm64", 1, 10);
        assertStatus(201, Reg.putManifest(s, name, child.digest(), child));
        Image inner = Reg.index(Reg.OCI_INDEX, List.of(child), List.of("arm64"));
        assertStatus(201, Reg.putManifest(s, name, inner.digest(), inner));
        Image outer = indexReferrer(subject, List.of(inner));
        JsonNode err = assertError(Reg.putManifest(s, name, outer.digest(), outer), 400, "MANIFEST_INVALID");
        assertTrue(err.toString().contains("nested indexes"), err.toString());
        assertEquals(List.of(), digests(referrers(s, name, subject.digest(), null)));
        assertFalse(Files.exists(entry(name, "v1", "manifests", outer.digest())));
    }

    /**
     * An index referrer may list the tagged image itself as a child: deleting the referrer
     * leaves the image whole. Before, the image's own manifest was unlinked with the
     * referrer's children (no other manifest of the image references it) and the tag broke.
     */
    @Test
    void deletingAnIndexReferrerOverTheImageKeepsTheImage() throws Exception {
        String name = name();
        Image subject = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 100);
        Image idx = indexReferrer(subject, List.of(subject));
        assertStatus(201, Reg.putManifest(s, name, idx.digest(), idx));
        assertEquals(List.of(idx.digest()), digests(referrers(s, name, subject.digest(), null)));
        assertStatus(202, delete(name, idx.digest()));
        assertEquals(List.of(), digests(referrers(s, name, subject.digest(), null)));
        assertTrue(Files.exists(entry(name, "v1", "manifests", subject.digest())));
        assertTrue(Files.exists(entry(name, "v1", "blobs", subject.config().digest())));
        HttpResponse<String> pulled = s.get("/v2/" + name + "/manifests/v1");
        assertStatus(200, pulled);
        assertEquals(subject.digest(), pulled.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertTrue(Files.readString(container(name, "v1").resolve(".digests")).contains(subject.hex()));
    }

    /**
     * A user's usage stays the size of the files in her images through every change of an
     * image's entries: referrers attached and detached, the tag pushed again over an index
     * that keeps the signed image, then over another image. Each change looks on disk
     * only at the entries it adds or drops, so this checks its sums against the disk.
     */
    @Test
    void theUsageFollowsEveryChangeOfTheImage() throws Exception {
        try (TestServer q = TestServer.start(Map.of("DLREPO_USER_QUOTA", "10000000", "DLREPO_TAG_CLEANUP_PERIOD",
                "0"))) {
            String user = Check.unique("uuser");
            String name = "u/" + user + "/b/j";
            Path tree = q.root().resolve("users/" + user + "/branches");
            Image subject = Reg.pushImage(q, name, "t1", Reg.OCI_MANIFEST, 2, 1000);
            assertUsageIsOnDisk(q, user, tree);
            Image sig = referrer(q, name, subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
            Image sbom = referrer(q, name, subject, "application/spdx+json", Reg.OCI_CONFIG);
            assertStatus(201, Reg.putManifest(q, name, sig.digest(), sig));
            assertStatus(201, Reg.putManifest(q, name, sbom.digest(), sbom));
            Image sigOfSbom = referrer(q, name, sbom, "application/vnd.example.sig", Reg.OCI_CONFIG);
            assertStatus(201, Reg.putManifest(q, name, sigOfSbom.digest(), sigOfSbom));
            assertUsageIsOnDisk(q, user, tree);
            assertStatus(201, Reg.putManifest(q, name, "t2", subject));
            assertUsageIsOnDisk(q, user, tree);
            assertStatus(202, Reg.send(q, "DELETE", "/v2/" + name + "/manifests/" + sbom.digest(), null));
            assertUsageIsOnDisk(q, user, tree);
            assertStatus(201, Reg.putManifest(q, name, "t1", Reg.index(Reg.OCI_INDEX, List.of(subject),
                    List.of("amd64"))));
            assertUsageIsOnDisk(q, user, tree);
            assertStatus(201, Reg.putManifest(q, name, "t1", Reg.pushBlobs(q, name, Reg.OCI_MANIFEST, "arm64", 1, 10)));
            assertUsageIsOnDisk(q, user, tree);
            assertEquals(List.of(sig.digest()), digests(referrers(q, name, subject.digest(), null)));
        }
    }

    /** The user's counted usage is the size of the files of her formats (their dot files aside). */
    private static void assertUsageIsOnDisk(TestServer q, String user, Path tree) throws Exception {
        long onDisk;
        try (var files = Files.walk(tree)) {
            onDisk = files.filter(f -> Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                    .filter(f -> !tree.relativize(f).toString().matches("(.*/)?\\..*"))
                    .mapToLong(f -> f.toFile().length()).sum();
        }
        String usage = q.anonymous().ok("/~" + user + "/").toString();
        assertTrue(usage.contains("\"disk_usage\":" + onDisk + ","), onDisk + " on disk, counted: " + usage);
    }

    private static HttpResponse<String> delete(String name, String ref) throws Exception {
        return Reg.send(s, "DELETE", "/v2/" + name + "/manifests/" + ref, null);
    }

    /**
     * Deleting a referrer by digest unlinks it from every tag holding its subject (its
     * files no other manifest uses go with it); the last one takes {@code .referrers}.
     */
    @Test
    void deletingAReferrerByDigestDetachesIt() throws Exception {
        String name = name();
        Image subject = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 100);
        assertStatus(201, Reg.putManifest(s, name, "v2", subject));
        Image sig = referrer(s, name, subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
        Image sbom = referrer(s, name, subject, "application/vnd.example.sbom", Reg.OCI_CONFIG);
        // a second signature sharing the first one's layer
        String shared = sig.text().replace(sig.config().descriptor().toString(), sbom.config().descriptor().toString());
        byte[] sharedBytes = shared.getBytes(StandardCharsets.UTF_8);
        Image sig2 = new Image(sharedBytes, TestServer.digest(sharedBytes), Reg.OCI_MANIFEST, sbom.config(),
                sig.layers());
        for (Image r : List.of(sig, sbom, sig2)) {
            assertStatus(201, Reg.putManifest(s, name, r.digest(), r));
        }
        assertEquals(sorted(sig, sbom, sig2), digests(referrers(s, name, subject.digest(), null)));

        HttpResponse<String> r = delete(name, sig.digest());
        assertStatus(202, r);
        assertEquals(sorted(sbom, sig2), digests(referrers(s, name, subject.digest(), null)));
        for (String tag : List.of("v1", "v2")) {
            assertFalse(Files.exists(entry(name, tag, "manifests", sig.digest())), tag);
            assertFalse(Files.exists(entry(name, tag, "blobs", sig.config().digest())), tag);
            assertTrue(Files.exists(entry(name, tag, "blobs", sig.layers().get(0).digest())), "shared with sig2");
            String digestsFile = Files.readString(container(name, tag).resolve(".digests"));
            assertFalse(digestsFile.contains(sig.hex()), digestsFile);
            assertFalse(digestsFile.contains(sig.config().hex()), digestsFile);
            assertEquals(subject.digest() + "\n", Files.readString(container(name, tag).resolve(".manifest")));
        }
        assertEquals(subject.digest(), s.head("/v2/" + name + "/manifests/v1").headers()
                .firstValue("Docker-Content-Digest").orElse(null));
        assertStatus(202, delete(name, sig2.digest()));
        assertStatus(202, delete(name, sbom.digest()));
        assertEquals(List.of(), digests(referrers(s, name, subject.digest(), null)));
        for (String tag : List.of("v1", "v2")) {
            assertFalse(Files.exists(container(name, tag).resolve(".referrers")), tag);
            assertFalse(Files.exists(entry(name, tag, "blobs", sig.layers().get(0).digest())), tag);
            assertTrue(Files.exists(entry(name, tag, "manifests", subject.digest())), tag);
        }
        // a referrer that waits is forgotten
        Image ghost = Reg.manifest(Reg.OCI_MANIFEST, Reg.config("arm64", Reg.OCI_CONFIG), List.of());
        Image waiting = referrer(s, name, ghost, "application/vnd.example.sig", Reg.OCI_CONFIG);
        assertStatus(201, Reg.putManifest(s, name, waiting.digest(), waiting));
        assertEquals(List.of(waiting.digest()), digests(referrers(s, name, ghost.digest(), null)));
        assertStatus(202, delete(name, waiting.digest()));
        assertEquals(List.of(), digests(referrers(s, name, ghost.digest(), null)));
    }

    /** An index referrer deleted: its children that are referrers of their own stay listed. */
    @Test
    void deletingAnIndexReferrerKeepsTheReferrersItLists() throws Exception {
        String name = name();
        Image subject = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 100);
        Image sig = referrer(s, name, subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
        assertStatus(201, Reg.putManifest(s, name, sig.digest(), sig));
        Image idx = indexReferrer(subject, List.of(sig));
        assertStatus(201, Reg.putManifest(s, name, idx.digest(), idx));
        assertStatus(202, delete(name, idx.digest()));
        assertEquals(List.of(sig.digest()), digests(referrers(s, name, subject.digest(), null)));
        assertTrue(Files.exists(entry(name, "v1", "manifests", sig.digest())));
        assertFalse(Files.exists(entry(name, "v1", "manifests", idx.digest())));
    }

    /** Deleting the subject drops its referrers with its image; another tag holding it keeps its own. */
    @Test
    void deletingTheSubjectDropsItsReferrers() throws Exception {
        String name = name();
        Image subject = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 100);
        assertStatus(201, Reg.putManifest(s, name, "v2", subject));
        Image sig = referrer(s, name, subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
        assertStatus(201, Reg.putManifest(s, name, sig.digest(), sig));
        assertStatus(202, delete(name, "v1"));
        assertFalse(Files.exists(container(name, "v1")));
        assertEquals(List.of(sig.digest()), digests(referrers(s, name, subject.digest(), null)));
        assertTrue(Files.exists(entry(name, "v2", "manifests", sig.digest())));
        // through the artifact API too
        String[] p = name.split("/");
        dlrepo.Check.assertStatus(200, s.delete("/branches/" + p[0] + "/v2/"));
        assertEquals(List.of(), digests(referrers(s, name, subject.digest(), null)));
        // pushed again: the signature is gone with the tags that held it
        assertStatus(201, Reg.putManifest(s, name, "v3", subject));
        assertEquals(List.of(), digests(referrers(s, name, subject.digest(), null)));
    }

    /**
     * A waiting referrer stays readable by digest to its pusher (and what it links) as long
     * as it is listed, after her pending pushes were forgotten (idle timeout); never to
     * another user.
     */
    @Test
    void aWaitingReferrerIsReadBackByItsPusherOnly() throws Exception {
        try (dlrepo.TestAuth auth = new dlrepo.TestAuth().user("alice", "alice-pw", "users")
                .user("bob", "bob-pw", "users")) {
            auth.acl("users", "ra /v2/**");
            try (TestServer a = auth.start("DLREPO_REGISTRY_IDLE_TIMEOUT", "3", "DLREPO_TAG_CLEANUP_PERIOD", "0")) {
                dlrepo.Caller alice = a.as("alice", "alice-pw");
                dlrepo.Caller bob = a.as("bob", "bob-pw");
                String name = name();
                Image ghost = Reg.manifest(Reg.OCI_MANIFEST, Reg.config("arm64", Reg.OCI_CONFIG), List.of());
                Image sig = referrer(ghost, "application/vnd.example.sig", Reg.OCI_CONFIG);
                for (Blob b : List.of(sig.config(), sig.layers().get(0))) {
                    assertStatus(201, alice.send(alice.request("/v2/" + name + "/blobs/uploads/?digest=" + b.digest())
                            .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(b.data())).build()));
                }
                assertStatus(201, alice.put("/v2/" + name + "/manifests/" + sig.digest(), sig.bytes(),
                        "Content-Type", sig.mediaType()));
                Thread.sleep(3500); // her pending pushes are forgotten
                String list = "/v2/" + name + "/referrers/" + ghost.digest();
                assertEquals(List.of(sig.digest()), digests(Reg.json(alice.get(list))));
                assertStatus(200, alice.get("/v2/" + name + "/manifests/" + sig.digest()));
                assertStatus(200, alice.get("/v2/" + name + "/blobs/" + sig.layers().get(0).digest()));
                assertEquals(List.of(), digests(Reg.json(bob.get(list))));
                assertError(bob.get("/v2/" + name + "/manifests/" + sig.digest()), 404, "MANIFEST_UNKNOWN");
                assertError(bob.get("/v2/" + name + "/blobs/" + sig.layers().get(0).digest()), 404, "BLOB_UNKNOWN");
            }
        }
    }

    /** Referrers waiting for their subject are bounded per image name (DLREPO_REGISTRY_MAX_PENDING). */
    @Test
    void waitingReferrersAreBounded() throws Exception {
        try (TestServer b = TestServer.start(Map.of("DLREPO_REGISTRY_MAX_PENDING", "2", "DLREPO_TAG_CLEANUP_PERIOD",
                "0"))) {
            String name = name();
            Image ghost = Reg.manifest(Reg.OCI_MANIFEST, Reg.config("arm64", Reg.OCI_CONFIG), List.of());
            for (int i = 0; i < 2; i++) {
                Image r = referrer(b, name, ghost, "application/vnd.example.sig", Reg.OCI_CONFIG);
                assertStatus(201, Reg.putManifest(b, name, r.digest(), r));
            }
            Image third = referrer(b, name, ghost, "application/vnd.example.sig", Reg.OCI_CONFIG);
            JsonNode err = assertError(Reg.putManifest(b, name, third.digest(), third), 403, "DENIED");
            assertTrue(err.toString().contains("referrers"), err.toString());
            // another name has its own bound; a tagged subject takes them in
            String other = name();
            Image r = referrer(b, other, ghost, "application/vnd.example.sig", Reg.OCI_CONFIG);
            assertStatus(201, Reg.putManifest(b, other, r.digest(), r));
            Reg.pushBlob(b, name, ghost.config());
            assertStatus(201, Reg.putManifest(b, name, "v1", ghost));
            assertStatus(201, Reg.putManifest(b, name, third.digest(), third));
            assertEquals(3, digests(referrers(b, name, ghost.digest(), null)).size());
        }
    }

    /** A product image name lists the referrers of its versions' images; it takes no push. */
    @Test
    void productNamesListTheReferrersOfTheirVersions() throws Exception {
        String p = Reg.unique("prod");
        String b = Reg.unique("br");
        Image subject = Reg.pushImage(s, b + "/app", "t1", Reg.OCI_MANIFEST, 1, 100);
        Image sig = referrer(s, b + "/app", subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
        assertStatus(201, Reg.putManifest(s, b + "/app", sig.digest(), sig));
        dlrepo.products.Helpers.linkJob(s, "/branches/" + b + "/t1/app/", p, "server", "main", "1.0");
        String product = p + "/server/main";
        assertEquals(List.of(sig.digest()), digests(referrers(s, product, subject.digest(), null)));
        assertStatus(200, s.get("/v2/" + product + "/manifests/" + sig.digest()));
        Image other = referrer(s, b + "/app", subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
        assertError(Reg.putManifest(s, product, other.digest(), other), 403, "DENIED");
        assertError(delete(product, sig.digest()), 405, "UNSUPPORTED");
        assertEquals(List.of(sig.digest()), digests(referrers(s, product, subject.digest(), null)));
    }

    /**
     * After a restart: waiting referrers are forgotten, unless a client keeping the
     * {@code sha256-<hex>} tag schema tagged them (that tag's image links them: listed);
     * a container format left dirty by a cut-short change gets its {@code .referrers}
     * rebuilt from its entries.
     */
    @Test
    void aRestartKeepsWhatIsOnDisk() throws Exception {
        Path root = Files.createTempDirectory("dlrepo-refs-");
        Map<String, String> env = Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0");
        String name = name();
        Image subject;
        Image sig;
        Image ghost = Reg.manifest(Reg.OCI_MANIFEST, Reg.config("arm64", Reg.OCI_CONFIG), List.of());
        Image waiting;
        Image schemaSig;
        TestServer first = TestServer.start(root, env);
        try {
            subject = Reg.pushImage(first, name, "v1", Reg.OCI_MANIFEST, 1, 100);
            sig = referrer(first, name, subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
            assertStatus(201, Reg.putManifest(first, name, sig.digest(), sig));
            waiting = referrer(first, name, ghost, "application/vnd.example.sig", Reg.OCI_CONFIG);
            assertStatus(201, Reg.putManifest(first, name, waiting.digest(), waiting));
            schemaSig = referrer(first, name, ghost, "application/vnd.example.sbom", Reg.OCI_CONFIG);
            assertStatus(201, Reg.putManifest(first, name, schemaSig.digest(), schemaSig));
            Image schema = Reg.index(Reg.OCI_INDEX, List.of(schemaSig), List.of("amd64"));
            assertStatus(201, Reg.putManifest(first, name, "sha256-" + ghost.hex(), schema));
            assertEquals(sorted(waiting, schemaSig), digests(referrers(first, name, ghost.digest(), null)));
        } finally {
            first.stop();
        }
        Path v1 = container(root, name, "v1");
        Files.writeString(v1.resolve(".referrers"), "{}");
        Files.createFile(v1.resolve(".dirty"));
        try (TestServer second = TestServer.start(root, env)) {
            assertEquals(List.of(sig.digest()), digests(referrers(second, name, subject.digest(), null)));
            JsonNode index = Reg.JSON.readTree(v1.resolve(".referrers").toFile());
            assertEquals(sig.digest(), index.at("/" + subject.digest() + "/0/digest").asText());
            assertEquals(List.of(schemaSig.digest()), digests(referrers(second, name, ghost.digest(), null)));
        }
    }

    private static Path container(Path root, String name, String tag) {
        String[] p = name.split("/");
        return root.resolve("branches/" + p[0] + "/" + tag + "/" + p[1] + "/container");
    }

    /**
     * Pushing a tag again keeps the referrers of the manifests the new image shares with
     * the one it replaces; those of manifests it drops leave with them.
     */
    @Test
    void pushingATagAgainKeepsTheReferrersOfWhatStays() throws Exception {
        String name = name();
        Image subject = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 100);
        Image sig = referrer(s, name, subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
        assertStatus(201, Reg.putManifest(s, name, sig.digest(), sig));
        assertStatus(201, Reg.putManifest(s, name, "v1", subject));
        assertEquals(List.of(sig.digest()), digests(referrers(s, name, subject.digest(), null)));
        assertTrue(Files.exists(entry(name, "v1", "manifests", sig.digest())));
        // an index over the signed image: the signature stays with it
        Image idx = Reg.index(Reg.OCI_INDEX, List.of(subject), List.of("amd64"));
        assertStatus(201, Reg.putManifest(s, name, "v1", idx));
        assertEquals(List.of(sig.digest()), digests(referrers(s, name, subject.digest(), null)));
        assertTrue(Files.exists(entry(name, "v1", "manifests", sig.digest())));
        // another image: the signature leaves with the image it signs
        Image other = Reg.pushBlobs(s, name, Reg.OCI_MANIFEST, "arm64", 1, 10);
        assertStatus(201, Reg.putManifest(s, name, "v1", other));
        assertEquals(List.of(), digests(referrers(s, name, subject.digest(), null)));
        assertFalse(Files.exists(entry(name, "v1", "manifests", sig.digest())));
        assertFalse(Files.exists(container(name, "v1").resolve(".referrers")));
    }

    /**
     * What a listing copies is bounded: a referrer's annotations (16 KiB with its type),
     * and the referrers of one subject in one image (1,000; the listing reads them all).
     */
    @Test
    void referrersAreBounded() throws Exception {
        String name = name();
        Image subject = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 100);
        Image sig = referrer(s, name, subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
        ObjectNode big = (ObjectNode) JSON.readTree(sig.bytes());
        big.putObject("annotations").put("org.example.note", "x".repeat(17_000));
        byte[] bytes = big.toString().getBytes(StandardCharsets.UTF_8);
        JsonNode refused = assertError(Reg.putManifest(s, name, TestServer.digest(bytes), Reg.OCI_MANIFEST, bytes),
                400, "MANIFEST_INVALID");
        assertTrue(refused.toString().contains("16384"), refused.toString());
        assertEquals(List.of(), digests(referrers(s, name, subject.digest(), null)));

        // an image whose index already lists 1,000 referrers of the subject takes no more
        assertStatus(201, Reg.putManifest(s, name, sig.digest(), sig));
        Path index = container(name, "v1").resolve(".referrers");
        ObjectNode full = (ObjectNode) JSON.readTree(Files.readAllBytes(index));
        ArrayNode list = (ArrayNode)
                full.get(subject.digest());
        for (int i = 1; i < 1000; i++) {
            ObjectNode d = list.get(0).deepCopy();
            d.put("digest", TestServer.digest(("fake" + i).getBytes(StandardCharsets.UTF_8)));
            list.add(d);
        }
        Files.write(index, full.toString().getBytes(StandardCharsets.UTF_8));
        Image more = referrer(s, name, subject, "application/vnd.example.sig", Reg.OCI_CONFIG);
        JsonNode denied = assertError(Reg.putManifest(s, name, more.digest(), more), 403, "DENIED");
        assertTrue(denied.toString().contains("1000 referrers"), denied.toString());
        assertFalse(Files.exists(entry(name, "v1", "manifests", more.digest())));
        // the one already there may be pushed again
        assertStatus(201, Reg.putManifest(s, name, sig.digest(), sig));
    }
}
