package dlrepo.registry;

import static dlrepo.registry.Reg.JSON;
import static dlrepo.registry.Reg.assertError;
import static dlrepo.registry.Reg.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.TestServer;
import dlrepo.registry.Reg.Blob;
import dlrepo.registry.Reg.Image;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
        Blob config = Blob.of(("{\"n\":\"" + Reg.unique("c") + "\"}").getBytes(StandardCharsets.UTF_8), configType);
        Blob layer = Blob.of(Reg.data(64), "application/vnd.example.sig");
        Reg.pushBlob(srv, name, config);
        Reg.pushBlob(srv, name, layer);
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
}
