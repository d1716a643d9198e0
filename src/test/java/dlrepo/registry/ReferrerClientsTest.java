package dlrepo.registry;

import static dlrepo.registry.Reg.JSON;
import static dlrepo.registry.Reg.assertStatus;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.TestServer;
import dlrepo.registry.Reg.Blob;
import dlrepo.registry.Reg.Image;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What cosign (OCI 1.1 referrers mode and its newer bundle format), notation and {@code
 * oras attach}/{@code oras discover} send, replayed request by request with the checks
 * those clients make ({@link OciClient}): signatures and SBOMs pushed by digest with a
 * {@code subject}, found again through {@code GET /v2/<name>/referrers/<digest>}, pulled
 * byte for byte, and stored with the image they sign in its tag's {@code container} format.
 */
class ReferrerClientsTest {
    static final String COSIGN_SIG = "application/vnd.dev.cosign.artifact.sig.v1+json";
    static final String COSIGN_PAYLOAD = "application/vnd.dev.cosign.simplesigning.v1+json";
    static final String SIGSTORE_BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json";
    static final String NOTARY = "application/vnd.cncf.notary.signature";
    static final String SPDX = "application/spdx+json";
    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"));
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    private static ObjectNode manifestHead(String artifactType) {
        ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", Reg.OCI_MANIFEST);
        if (artifactType != null) {
            m.put("artifactType", artifactType);
        }
        return m;
    }

    /** oras-go's PackManifest (image-spec v1.1): artifactType, the empty config with its data, layers, subject, created. */
    static Image orasArtifact(String artifactType, List<ObjectNode> layers, List<Blob> layerBlobs, ObjectNode subject,
            Map<String, String> annotations) {
        ObjectNode m = manifestHead(artifactType);
        m.set("config", OciClient.EMPTY.descriptor().put("data", "e30="));
        m.putArray("layers").addAll(layers);
        m.set("subject", subject);
        ObjectNode a = m.putObject("annotations");
        annotations.forEach(a::put);
        a.put("org.opencontainers.image.created", "2026-12-01T00:00:00Z");
        List<Blob> blobs = new ArrayList<>(List.of(OciClient.EMPTY));
        blobs.addAll(layerBlobs);
        return OciClient.image(m, blobs);
    }

    /** notation sign: a JWS envelope as the one layer, the thumbprint annotation; blobs pushed the oras-go way. */
    static Image notationSign(OciClient c, String name, ObjectNode subject, String thumbprint) throws Exception {
        String jws = "{\"payload\":\"" + Base64.getEncoder().encodeToString(("{\"targetArtifact\":" + subject + "}")
                .getBytes(StandardCharsets.UTF_8)) + "\",\"protected\":\"eyJhbGciOiJQUzI1NiJ9\",\"header\":{\"x5c\":[\""
                + thumbprint + "\"]},\"signature\":\"" + Reg.unique("sig") + "\"}";
        Blob envelope = Blob.of(jws.getBytes(StandardCharsets.UTF_8), "application/jose+json");
        c.pushBlobOras(name, envelope);
        c.pushBlobOras(name, OciClient.EMPTY);
        Image sig = orasArtifact(NOTARY, List.of(envelope.descriptor()), List.of(envelope), subject,
                Map.of("io.cncf.notary.x509chain.thumbprint#S256", "[\"" + thumbprint + "\"]"));
        c.pushReferrer(name, sig, subject.get("digest").asText());
        return sig;
    }

    /** oras attach --artifact-type <type> <subject> <file>: the file as the one layer, titled. */
    static Image orasAttach(OciClient c, String name, ObjectNode subject, String artifactType, String file, byte[] data)
            throws Exception {
        Blob layer = Blob.of(data, artifactType);
        c.pushBlobOras(name, layer);
        c.pushBlobOras(name, OciClient.EMPTY);
        ObjectNode d = layer.descriptor();
        d.putObject("annotations").put("org.opencontainers.image.title", file);
        Image a = orasArtifact(artifactType, List.of(d), List.of(layer), subject, Map.of());
        c.pushReferrer(name, a, subject.get("digest").asText());
        return a;
    }

    private static JsonNode only(List<JsonNode> l) {
        assertEquals(1, l.size(), l.toString());
        return l.get(0);
    }

    /** The descriptor a referrers listing must give for {@code m} (point 1 of the contract). */
    private static void assertDescriptor(Image m, String artifactType, JsonNode d) throws Exception {
        assertEquals(m.digest(), d.get("digest").asText());
        assertEquals(Reg.OCI_MANIFEST, d.get("mediaType").asText());
        assertEquals(m.bytes().length, d.get("size").asLong());
        assertEquals(artifactType, d.path("artifactType").asText(null), d.toString());
        JsonNode annotations = JSON.readTree(m.bytes()).get("annotations");
        if (annotations == null) {
            assertFalse(d.has("annotations"), d.toString());
        } else {
            assertEquals(annotations, d.get("annotations"));
        }
    }

    /** The descriptors of {@code .referrers} for {@code subject} are those the API lists. */
    private static void assertSameAsFile(Path container, String subject, List<JsonNode> listed) throws Exception {
        assertEquals(listed, OciClient.referrersFile(container).get(subject));
    }

    @Test
    void cosignSignsAndAttestsThroughTheReferrersApiAndVerifies() throws Exception {
        String job = Reg.unique("cosign");
        String name = "main/" + job;
        Image img = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 2, 2000);
        OciClient c = new OciClient(s);

        // cosign sign --registry-referrers-mode=oci-1-1 main/x:v1 (go-containerregistry):
        // the tag resolved to its digest, HEAD by digest for the subject descriptor
        ObjectNode byTag = c.resolve(name, "v1");
        assertEquals(img.digest(), byTag.get("digest").asText());
        ObjectNode subject = c.resolve(name, img.digest());
        assertEquals(OciClient.descriptor(img), subject);
        String payload = "{\"critical\":{\"identity\":{\"docker-reference\":\"127.0.0.1:" + s.port() + "/" + name
                + "\"},\"image\":{\"docker-manifest-digest\":\"" + img.digest()
                + "\"},\"type\":\"cosign container image signature\"},\"optional\":null}";
        Blob layer = Blob.of(payload.getBytes(StandardCharsets.UTF_8), COSIGN_PAYLOAD);
        c.pushBlobGgcr(name, layer);
        Blob config = Blob.of(("{\"architecture\":\"\",\"created\":\"0001-01-01T00:00:00Z\",\"history\":[{\"created\":"
                + "\"0001-01-01T00:00:00Z\"}],\"os\":\"\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
                + layer.digest() + "\"]},\"config\":{}}").getBytes(StandardCharsets.UTF_8), COSIGN_SIG);
        c.pushBlobGgcr(name, config);
        ObjectNode m = manifestHead(null);
        m.set("config", OciClient.descriptor(COSIGN_SIG, config.digest(), config.data().length));
        String signature = "MEUCIQD" + Reg.unique("x");
        ObjectNode l = layer.descriptor();
        l.putObject("annotations").put("dev.cosignproject.cosign/signature", signature);
        m.putArray("layers").add(l);
        m.set("subject", subject);
        Image sig = OciClient.image(m, List.of(config, layer));
        c.pushReferrer(name, sig, img.digest());

        // cosign verify: referrers filtered by the signature type, the manifest, the payload
        JsonNode found = only(c.referrers(name, img.digest(), COSIGN_SIG));
        assertDescriptor(sig, COSIGN_SIG, found);
        JsonNode got = c.fetchManifest(name, found);
        assertEquals(signature, got.at("/layers/0/annotations").get("dev.cosignproject.cosign/signature").asText());
        assertEquals(img.digest(), got.at("/subject/digest").asText());
        byte[] p = c.fetchBlob(name, got.at("/layers/0"));
        assertArrayEquals(layer.data(), p);
        assertEquals(img.digest(), JSON.readTree(p).at("/critical/image/docker-manifest-digest").asText());
        assertArrayEquals(config.data(), c.fetchBlob(name, got.get("config")));

        // cosign attest --new-bundle-format (WriteReferrer): the empty config, the bundle as
        // the one layer, artifactType on the manifest and on its config descriptor
        Blob bundle = Blob.of(("{\"mediaType\":\"" + SIGSTORE_BUNDLE + "\",\"verificationMaterial\":{},"
                + "\"dsseEnvelope\":{\"payload\":\"" + Reg.unique("p") + "\",\"payloadType\":"
                + "\"application/vnd.in-toto+json\",\"signatures\":[]}}").getBytes(StandardCharsets.UTF_8),
                SIGSTORE_BUNDLE);
        c.pushBlobGgcr(name, OciClient.EMPTY);
        c.pushBlobGgcr(name, bundle);
        ObjectNode b = manifestHead(null);
        b.set("config", OciClient.EMPTY.descriptor().put("artifactType", SIGSTORE_BUNDLE));
        b.putArray("layers").add(bundle.descriptor());
        b.putObject("annotations").put("dev.sigstore.bundle.content", "dsse-envelope")
                .put("dev.sigstore.bundle.predicateType", "https://slsa.dev/provenance/v1")
                .put("org.opencontainers.image.created", "2026-12-01T00:00:00Z");
        b.set("subject", subject);
        b.put("artifactType", SIGSTORE_BUNDLE);
        Image att = OciClient.image(b, List.of(OciClient.EMPTY, bundle));
        c.pushReferrer(name, att, img.digest());

        // cosign verify --new-bundle-format: every referrer, then each manifest and its bundle
        List<JsonNode> all = c.referrers(name, img.digest(), null);
        assertEquals(List.of(sig.digest(), att.digest()).stream().sorted().toList(),
                all.stream().map(d -> d.get("digest").asText()).toList());
        JsonNode bd = all.stream().filter(d -> d.get("digest").asText().equals(att.digest())).findFirst().orElseThrow();
        assertDescriptor(att, SIGSTORE_BUNDLE, bd);
        assertArrayEquals(bundle.data(), c.fetchBlob(name, c.fetchManifest(name, bd).at("/layers/0")));
        assertDescriptor(att, SIGSTORE_BUNDLE, only(c.referrers(name, img.digest(), SIGSTORE_BUNDLE)));
        assertEquals(List.of(), c.referrers(name, img.digest(), NOTARY));

        // stored with the image, in v1's container format; neither a tag nor a served file
        Path container = OciClient.container(s, name, "v1");
        OciClient.assertLinked(container, sig.digest());
        OciClient.assertLinked(container, att.digest());
        assertEquals(List.of(img.digest()), List.copyOf(OciClient.referrersFile(container).keySet()));
        assertSameAsFile(container, img.digest(), all);
        assertEquals(List.of("v1"), c.tags(name));
        assertEquals(img.digest(), c.resolve(name, "v1").get("digest").asText(), "the tag still names the image");
        var file = s.get("/branches/main/v1/" + job + "/container/.referrers");
        assertNotEquals(200, file.statusCode(), file.body());
        String listing = s.send(s.request("/branches/main/v1/" + job + "/container/").header("Accept",
                "application/json").GET().build()).body();
        assertFalse(listing.contains(".referrers"), listing);
    }

    @Test
    void notationFindsTheReferrersApiAndItsSignatures() throws Exception {
        String name = "main/" + Reg.unique("notation");
        Image img = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 1500);
        OciClient c = new OciClient(s);
        // oras-go (under notation) pings the API with the zero digest before its first
        // push with a subject: anything but 200 + the index type means "use sha256-<hex> tags"
        assertEquals(List.of(), c.referrers(name, OciClient.ZERO_DIGEST, null));
        ObjectNode subject = c.resolve(name, "v1");
        Image first = notationSign(c, name, subject, "b7a69a70992ae4f9ff103ebe04a2c3ba6c777e439253ce36562e6e98375068c3");
        Image second = notationSign(c, name, subject, "932eb6f5598435d4ef23f97b0b5acb515fae2b8d8fac046ab813ddc419dd5e89");

        // notation verify / notation ls: the signatures by type, each envelope fetched
        List<JsonNode> sigs = c.referrers(name, img.digest(), NOTARY);
        assertEquals(List.of(first.digest(), second.digest()).stream().sorted().toList(),
                sigs.stream().map(d -> d.get("digest").asText()).toList());
        Map<String, Image> pushed = new LinkedHashMap<>();
        pushed.put(first.digest(), first);
        pushed.put(second.digest(), second);
        for (JsonNode d : sigs) {
            Image expected = pushed.get(d.get("digest").asText());
            assertDescriptor(expected, NOTARY, d);
            JsonNode m = c.fetchManifest(name, d);
            assertEquals(1, m.get("layers").size());
            assertEquals("application/jose+json", m.at("/layers/0/mediaType").asText());
            assertArrayEquals(expected.layers().get(0).data(), c.fetchBlob(name, m.at("/layers/0")));
        }
        assertEquals(sigs, c.referrers(name, img.digest(), null), "nothing else refers to the image");
        Path container = OciClient.container(s, name, "v1");
        OciClient.assertLinked(container, first.digest());
        OciClient.assertLinked(container, second.digest());
        assertSameAsFile(container, img.digest(), sigs);
    }

    @Test
    void orasAttachesAnSbomToOnePlatformAndDiscoversTheTree() throws Exception {
        String name = "main/" + Reg.unique("oras");
        List<Image> children = new ArrayList<>();
        for (String arch : List.of("amd64", "arm64")) {
            Image child = Reg.pushBlobs(s, name, Reg.OCI_MANIFEST, arch, 1, 1200);
            assertStatus(201, Reg.putManifest(s, name, child.digest(), child));
            children.add(child);
        }
        Image index = Reg.index(Reg.OCI_INDEX, children, List.of("amd64", "arm64"));
        assertStatus(201, Reg.putManifest(s, name, "v1", index));
        Image arm = children.get(1);
        OciClient c = new OciClient(s);

        // oras attach --artifact-type application/spdx+json main/x@<arm64> sbom.spdx.json
        ObjectNode armDesc = c.resolve(name, arm.digest());
        assertEquals(OciClient.descriptor(arm), armDesc);
        byte[] spdx = ("{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"" + Reg.unique("sbom") + "\",\"packages\":[]}")
                .getBytes(StandardCharsets.UTF_8);
        Image sbom = orasAttach(c, name, armDesc, SPDX, "sbom.spdx.json", spdx);
        // then the SBOM is signed: a referrer of a referrer
        Image sig = notationSign(c, name, c.resolve(name, sbom.digest()),
                "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90");

        // oras discover --depth <n> main/x:v1, then main/x@<arm64>: breadth first
        ObjectNode top = c.resolve(name, "v1");
        assertEquals(index.digest(), top.get("digest").asText());
        Map<String, List<String>> tree = new LinkedHashMap<>();
        List<String> todo = new ArrayList<>(List.of(index.digest(), children.get(0).digest(), arm.digest()));
        while (!todo.isEmpty()) {
            String d = todo.remove(0);
            List<String> found = c.referrerDigests(name, d, null);
            tree.put(d, found);
            todo.addAll(found);
        }
        Map<String, List<String>> expected = new LinkedHashMap<>();
        expected.put(index.digest(), List.of());
        expected.put(children.get(0).digest(), List.of());
        expected.put(arm.digest(), List.of(sbom.digest()));
        expected.put(sbom.digest(), List.of(sig.digest()));
        expected.put(sig.digest(), List.of());
        assertEquals(expected, tree);
        assertDescriptor(sbom, SPDX, only(c.referrers(name, arm.digest(), SPDX)));
        assertEquals(List.of(), c.referrers(name, arm.digest(), NOTARY));
        assertDescriptor(sig, NOTARY, only(c.referrers(name, sbom.digest(), NOTARY)));

        // oras pull main/x@<sbom>: the file back, byte for byte
        JsonNode m = c.fetchManifest(name, only(c.referrers(name, arm.digest(), null)));
        assertEquals("sbom.spdx.json", m.at("/layers/0/annotations").get("org.opencontainers.image.title").asText());
        assertArrayEquals(spdx, c.fetchBlob(name, m.at("/layers/0")));

        Path container = OciClient.container(s, name, "v1");
        OciClient.assertLinked(container, index.digest());
        OciClient.assertLinked(container, sbom.digest());
        OciClient.assertLinked(container, sig.digest());
        assertEquals(List.of(arm.digest(), sbom.digest()).stream().sorted().toList(),
                List.copyOf(OciClient.referrersFile(container).keySet()));
        assertSameAsFile(container, arm.digest(), c.referrers(name, arm.digest(), null));
        assertSameAsFile(container, sbom.digest(), c.referrers(name, sbom.digest(), null));
        // the index is unchanged by the attachments: the tag still pulls the same bytes
        assertEquals(index.digest(), c.resolve(name, "v1").get("digest").asText());
    }

    /**
     * oras manifest delete main/x@<sbom>: with the referrers API known to work oras-go sends
     * a plain DELETE by digest (202). The SBOM leaves the image with its own signature; the
     * platform image and the other referrers stay.
     */
    @Test
    void orasDeletesAnSbomAndItsSignatureGoesWithIt() throws Exception {
        String job = Reg.unique("orasdel");
        String name = "main/" + job;
        Image img = Reg.pushImage(s, name, "v1", Reg.OCI_MANIFEST, 1, 1000);
        OciClient c = new OciClient(s);
        ObjectNode subject = c.resolve(name, "v1");
        Image sbom = orasAttach(c, name, subject, SPDX, "sbom.spdx.json",
                ("{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"" + Reg.unique("d") + "\"}").getBytes(StandardCharsets.UTF_8));
        Image sbomSig = notationSign(c, name, c.resolve(name, sbom.digest()),
                "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0");
        Image imgSig = notationSign(c, name, subject, "1f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0");
        Path container = OciClient.container(s, name, "v1");
        OciClient.assertLinked(container, sbomSig.digest());

        HttpResponse<String> del = c.send("DELETE", "/v2/" + name + "/manifests/" + sbom.digest(), null);
        assertStatus(202, del);
        assertEquals(List.of(imgSig.digest()), c.referrerDigests(name, img.digest(), null));
        assertEquals(List.of(), c.referrers(name, sbom.digest(), null));
        assertEquals(img.digest(), c.resolve(name, "v1").get("digest").asText(), "the image stays");
        assertEquals(List.of(img.digest()), List.copyOf(OciClient.referrersFile(container).keySet()));
        OciClient.assertReferrersFile(container, img.digest(), List.of(imgSig.digest()));
        OciClient.assertLinked(container, img.digest());
        OciClient.assertLinked(container, imgSig.digest());
        Map<String, String> digests = OciClient.digestsFile(container);
        for (Image gone : List.of(sbom, sbomSig)) {
            assertFalse(java.nio.file.Files.exists(container.resolve(OciClient.rel("manifests", gone.digest()))));
            assertFalse(digests.containsKey(OciClient.rel("manifests", gone.digest())), digests.toString());
            String layer = gone.layers().get(0).digest();
            assertFalse(java.nio.file.Files.exists(container.resolve(OciClient.rel("blobs", layer))), layer);
            assertFalse(digests.containsKey(OciClient.rel("blobs", layer)), digests.toString());
        }
        // the empty config is still used by the image's signature
        assertTrue(digests.containsKey(OciClient.rel("blobs", OciClient.EMPTY.digest())));
        Reg.assertError(c.send("DELETE", "/v2/" + name + "/manifests/" + sbomSig.digest(), null), 404,
                "MANIFEST_UNKNOWN");
    }

    /** The same image under two names: a signature pushed to one is not the other's. */
    @Test
    void referrersBelongToTheImageNameTheyArePushedTo() throws Exception {
        String a = "main/" + Reg.unique("named");
        String b = "main/" + Reg.unique("named");
        Image img = Reg.pushImage(s, a, "v1", Reg.OCI_MANIFEST, 1, 1000);
        for (Blob blob : List.of(img.config(), img.layers().get(0))) {
            Reg.pushBlob(s, b, blob);
        }
        assertStatus(201, Reg.putManifest(s, b, "v1", img));
        OciClient c = new OciClient(s);
        Image sig = notationSign(c, a, c.resolve(a, "v1"), "2f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0");
        assertEquals(List.of(sig.digest()), c.referrerDigests(a, img.digest(), null));
        assertEquals(List.of(), c.referrers(b, img.digest(), null));
        assertFalse(java.nio.file.Files.exists(OciClient.container(s, b, "v1").resolve(".referrers")));
        assertFalse(java.nio.file.Files.exists(OciClient.container(s, b, "v1").resolve(OciClient.rel("manifests",
                sig.digest()))));
        // a later push of the image to another tag of the second name brings nothing from the first
        assertStatus(201, Reg.putManifest(s, b, "v2", img));
        assertEquals(List.of(), c.referrers(b, img.digest(), null));
    }

    @Test
    void anArtifactPushedBeforeItsSubjectIsListedAndStoredOnceTheSubjectIsTagged() throws Exception {
        String name = "main/" + Reg.unique("early");
        Image img = Reg.pushBlobs(s, name, Reg.OCI_MANIFEST, "amd64", 1, 1000);
        OciClient c = new OciClient(s);
        assertEquals(404, c.manifestStatus(name, img.digest()), "the subject is not pushed yet");
        Image sbom = orasAttach(c, name, OciClient.descriptor(img), SPDX, "sbom.spdx.json",
                ("{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"" + Reg.unique("e") + "\"}").getBytes(StandardCharsets.UTF_8));
        // waiting for its subject: listed (everything is readable here) and pullable
        assertDescriptor(sbom, SPDX, only(c.referrers(name, img.digest(), null)));
        c.fetchManifest(name, only(c.referrers(name, img.digest(), SPDX)));

        assertStatus(201, Reg.putManifest(s, name, "v1", img));
        JsonNode d = only(c.referrers(name, img.digest(), null));
        assertDescriptor(sbom, SPDX, d);
        JsonNode m = c.fetchManifest(name, d);
        c.fetchBlob(name, m.at("/layers/0"));
        Path container = OciClient.container(s, name, "v1");
        OciClient.assertLinked(container, sbom.digest());
        OciClient.assertReferrersFile(container, img.digest(), List.of(sbom.digest()));
        assertTrue(c.tags(name).equals(List.of("v1")), c.tags(name).toString());
    }
}
