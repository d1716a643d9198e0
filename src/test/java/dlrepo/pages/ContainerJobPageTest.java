package dlrepo.pages;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.Browser;
import dlrepo.TestServer;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * Issue 16, the job page of a {@code container} format: the platforms of a multi-arch
 * index (BuildKit's attestation children listed as attestations, not as platforms), the
 * platform of a single manifest read from its config, its referrers by kind (a cosign
 * signature of the index, an SBOM of one platform, a notation signature of that SBOM, an
 * artifact of another type), the pull lines by tag and by digest; through HTTP and in a
 * real browser, whose links lead to the manifests.
 */
class ContainerJobPageTest {
    private static final String ATTESTATION_TYPE = "application/vnd.in-toto+json";
    private static final String SPDX = "https://spdx.dev/Document";
    private static final String COSIGN = "application/vnd.dev.cosign.artifact.sig.v1+json";
    private static final String NOTATION = "application/vnd.cncf.notary.signature";
    private static final String SPDX_JSON = "application/spdx+json";
    private static final String REPORT = "application/vnd.example.scan-report+json";
    private static final String CREATED = "org.opencontainers.image.created";

    private static TestServer s;
    private static Browser browser;
    private static ObjectNode amd64;
    private static ObjectNode arm64;
    private static ObjectNode attestation;
    private static ObjectNode index;
    private static ObjectNode single;
    private static ObjectNode signature;
    private static ObjectNode sbom;
    private static ObjectNode sbomSignature;
    private static ObjectNode report;

    @BeforeAll
    static void setUp() throws Exception {
        s = TestServer.start(Map.of("DLREPO_FSYNC", "0"));
        ImagePusher multi = new ImagePusher(s, null, "main/multi");
        amd64 = multi.manifest(null, multi.image("linux", "amd64", null));
        arm64 = multi.manifest(null, multi.image("linux", "arm64", null));
        // what BuildKit adds for --provenance/--sbom: a manifest of in-toto statements, platform unknown/unknown
        ObjectNode att = multi.image("unknown", "unknown", null);
        ObjectNode statement = multi.blob("{\"_type\": \"https://in-toto.io/Statement/v0.1\"}", ATTESTATION_TYPE);
        statement.putObject("annotations").put("in-toto.io/predicate-type", SPDX);
        att.putArray("layers").add(statement);
        attestation = multi.manifest(null, att);
        ObjectNode idx = ImagePusher.JSON.createObjectNode().put("schemaVersion", 2)
                .put("mediaType", ImagePusher.OCI_INDEX);
        var children = idx.putArray("manifests");
        ObjectNode c = amd64.deepCopy();
        c.putObject("platform").put("architecture", "amd64").put("os", "linux");
        children.add(c);
        c = arm64.deepCopy();
        c.putObject("platform").put("architecture", "arm64").put("os", "linux").put("variant", "v8");
        children.add(c);
        c = attestation.deepCopy();
        c.putObject("platform").put("architecture", "unknown").put("os", "unknown");
        c.putObject("annotations").put("vnd.docker.reference.digest", amd64.get("digest").asText())
                .put("vnd.docker.reference.type", "attestation-manifest");
        children.add(c);
        index = multi.manifest("v1", idx);
        // referrers, pushed by digest once their subject is tagged, as cosign, oras and notation do
        signature = multi.artifact(index, COSIGN, "{\"critical\": {}}", "dev.cosignproject.cosign/signature",
                "MEUCIQDsig", CREATED, "2026-11-30T10:00:00Z");
        sbom = multi.artifact(arm64, SPDX_JSON, "{\"spdxVersion\": \"SPDX-2.3\"}", CREATED, "2026-11-30T10:01:00Z");
        sbomSignature = multi.artifact(sbom, NOTATION, "jws", "io.cncf.notary.x509chain.thumbprint#S256", "[\"ab\"]");
        report = multi.artifact(amd64, REPORT, "{\"findings\": []}");

        ImagePusher one = new ImagePusher(s, null, "main/single");
        single = one.manifest("v1", one.image("linux", "arm", "v7"));

        s.uploadFinalized("/branches/main/v1/plain/bin/f", "not an image");
        browser = Browser.start();
    }

    @AfterAll
    static void tearDown() throws Exception {
        try (Browser b = browser) {
            // closed
        } finally {
            s.close();
        }
    }

    private static String page(String path) throws Exception {
        HttpResponse<String> r = s.send(s.request(path).header("Accept", FormatPagesTest.ACCEPT).GET().build());
        assertStatus(200, r);
        return r.body();
    }

    private static String hex(ObjectNode descriptor) {
        return descriptor.get("digest").asText().substring("sha256:".length());
    }

    /** The rows of the first table of class {@code cls}, each as its cells' text joined by " | ". */
    private static List<String> rows(String html, String cls) {
        List<List<String>> tables = tables(html, cls);
        assertFalse(tables.isEmpty(), "table." + cls + " in " + html);
        return tables.get(0);
    }

    /** The headings of the referrer groups. */
    private static List<String> groups(String html) {
        List<String> found = new ArrayList<>();
        Matcher h = Pattern.compile("<h3 class=\"artifacts\">(.*?)</h3>").matcher(html);
        while (h.find()) {
            found.add(FormatPagesTest.text(h.group(1)));
        }
        return found;
    }

    /** The rows of every table of class {@code cls}. */
    private static List<List<String>> tables(String html, String cls) {
        List<List<String>> tables = new ArrayList<>();
        Matcher t = Pattern.compile("<table class=\"" + cls + "\">(.*?)</table>", Pattern.DOTALL).matcher(html);
        while (t.find()) {
            tables.add(tableRows(t));
        }
        return tables;
    }

    private static List<String> tableRows(Matcher t) {
        List<String> rows = new ArrayList<>();
        Matcher tr = Pattern.compile("<tbody>.*?</tbody>", Pattern.DOTALL).matcher(t.group(1));
        assertTrue(tr.find(), t.group(1));
        Matcher row = Pattern.compile("<tr>(.*?)</tr>", Pattern.DOTALL).matcher(tr.group());
        while (row.find()) {
            List<String> cells = new ArrayList<>();
            Matcher td = Pattern.compile("<td[^>]*>(.*?)</td>", Pattern.DOTALL).matcher(row.group(1));
            while (td.find()) {
                String text = td.group(1).replaceAll("</?span[^>]*>", "").replaceAll("<[^>]*>", " ");
                cells.add(FormatPagesTest.text(text.replaceAll("\\s+", " ").strip()));
            }
            rows.add(String.join(" | ", cells));
        }
        return rows;
    }

    @Test
    void multiArchImageShowsItsPlatformsAndPullLines() throws Exception {
        String html = page("/branches/main/v1/multi/");
        assertTrue(html.contains("<h2 id=\"container-image\">Container image</h2>"), html);
        assertTrue(html.contains(index.get("digest").asText()), html);
        assertTrue(html.contains(ImagePusher.OCI_INDEX), html);
        assertEquals(List.of("linux/amd64 | " + hex(amd64).substring(0, 12),
                "linux/arm64/v8 | " + hex(arm64).substring(0, 12)), rows(html, "platforms"));
        // links to the manifests, relative to the job
        assertTrue(html.contains("href=\"container/manifests/sha256/" + hex(arm64).substring(0, 2) + "/" + hex(arm64)
                + "\""), html);
        // the attestation child: not a platform, an attestation of the amd64 image
        assertFalse(html.contains("unknown/unknown"), html);
        assertEquals(List.of("Signatures", "SBOMs", "Attestations", REPORT), groups(html));
        List<List<String>> tables = tables(html, "artifacts");
        assertEquals(List.of(
                String.join(" | ", hex(signature).substring(0, 12), COSIGN, "the image", "2026-11-30T10:00:00Z",
                        "dev.cosignproject.cosign/signature: MEUCIQDsig " + CREATED + ": 2026-11-30T10:00:00Z"),
                String.join(" | ", hex(sbomSignature).substring(0, 12), NOTATION, "SBOM " + hex(sbom).substring(0, 12),
                        "", "io.cncf.notary.x509chain.thumbprint#S256: [\"ab\"]")), tables.get(0));
        assertEquals(List.of(String.join(" | ", hex(sbom).substring(0, 12), SPDX_JSON, "linux/arm64/v8",
                "2026-11-30T10:01:00Z", CREATED + ": 2026-11-30T10:01:00Z")), tables.get(1));
        assertEquals(List.of(String.join(" | ", hex(attestation).substring(0, 12), "in-toto (BuildKit): " + SPDX,
                "attestation of linux/amd64", "", "")), tables.get(2));
        assertEquals(List.of(String.join(" | ", hex(report).substring(0, 12), REPORT, "linux/amd64", "", "")),
                tables.get(3));
        // each links to its manifest in the job
        for (ObjectNode r : List.of(signature, sbom, sbomSignature, report)) {
            assertTrue(html.contains("href=\"container/manifests/sha256/" + hex(r).substring(0, 2) + "/" + hex(r)
                    + "\""), html);
        }
        String text = FormatPagesTest.text(html);
        String host = "127.0.0.1:" + s.port();
        assertTrue(text.contains("docker pull " + host + "/main/multi:v1<"), text);
        assertTrue(text.contains("docker pull " + host + "/main/multi@" + index.get("digest").asText() + "<"), text);
    }

    @Test
    void singleManifestPlatformComesFromItsConfig() throws Exception {
        String html = page("/branches/main/v1/single/");
        assertEquals(List.of("linux/arm/v7 | " + hex(single).substring(0, 12)), rows(html, "platforms"));
        assertTrue(html.contains(ImagePusher.OCI_MANIFEST), html);
        assertTrue(html.contains("No signature, SBOM or attestation."), html);
        String text = FormatPagesTest.text(html);
        assertTrue(text.contains("docker pull 127.0.0.1:" + s.port() + "/main/single@" + single.get("digest").asText()),
                text);
    }

    /** What a pusher may make big or broken: the page stays bounded and shows what it can. */
    @Test
    void limits() throws Exception {
        // an index of 103 platforms: 100 rows, and a count of the others
        ImagePusher many = new ImagePusher(s, null, "main/many");
        ObjectNode child = many.manifest(null, many.image("linux", "amd64", null));
        ObjectNode idx = ImagePusher.JSON.createObjectNode().put("schemaVersion", 2)
                .put("mediaType", ImagePusher.OCI_INDEX);
        var children = idx.putArray("manifests");
        for (int i = 0; i < 103; i++) {
            ObjectNode c = child.deepCopy();
            c.putObject("platform").put("os", "linux").put("architecture", "arch" + i);
            children.add(c);
        }
        many.manifest("v1", idx);
        List<String> rows = rows(page("/branches/main/v1/many/"), "platforms");
        assertEquals(101, rows.size(), rows.toString());
        assertEquals("linux/arch99 | " + hex(child).substring(0, 12), rows.get(99));
        assertEquals("and 3 more", rows.get(100));

        // a configuration over 1 MiB is not read: the platform is unknown
        ImagePusher big = new ImagePusher(s, null, "main/bigconfig");
        ObjectNode config = ImagePusher.JSON.createObjectNode().put("architecture", "amd64").put("os", "linux")
                .put("padding", "x".repeat(1 << 20));
        ObjectNode m = ImagePusher.JSON.createObjectNode().put("schemaVersion", 2)
                .put("mediaType", ImagePusher.OCI_MANIFEST);
        m.set("config", big.blob(config.toString(), ImagePusher.OCI_CONFIG));
        m.putArray("layers").add(big.blob("a layer " + System.nanoTime(), ImagePusher.OCI_LAYER));
        ObjectNode bigImage = big.manifest("v1", m);
        assertEquals(List.of("unknown | " + hex(bigImage).substring(0, 12)),
                rows(page("/branches/main/v1/bigconfig/"), "platforms"));

        // a .referrers that is not JSON (a disk error, a hand edit): no referrer shown, the rest is
        ImagePusher broken = new ImagePusher(s, null, "main/broken");
        ObjectNode image = broken.manifest("v1", broken.image("linux", "s390x", null));
        broken.artifact(image, COSIGN, "sig");
        java.nio.file.Path index = s.root().resolve("branches/main/v1/broken/container/.referrers");
        assertTrue(java.nio.file.Files.readString(index).contains(COSIGN));
        // (before the page is first asked for: a change behind the server's back is not seen at once)
        java.nio.file.Files.writeString(index, "{\"sha256:");
        String html = page("/branches/main/v1/broken/");
        assertEquals(List.of("linux/s390x | " + hex(image).substring(0, 12)), rows(html, "platforms"));
        assertTrue(html.contains("No signature, SBOM or attestation."), html);
    }

    @Test
    void noSectionWithoutAContainerFormat() throws Exception {
        String html = page("/branches/main/v1/plain/");
        for (String absent : List.of("Container image", "docker pull", "table class=\"platforms\"")) {
            assertFalse(html.contains(absent), absent + " in " + html);
        }
        // and the JSON of a job with an image is what it was: no summary in it
        String json = s.get("/branches/main/v1/multi/").body();
        assertFalse(json.contains("platform") || json.contains("linux/"), json);
    }

    @Test
    void inTheBrowser() throws Exception {
        browser.open(s.uri("/branches/main/v1/multi/"));
        assertEquals("Container image", browser.text(By.id("container-image")));
        List<String> platforms = new ArrayList<>();
        for (WebElement tr : browser.driver().findElements(By.cssSelector("table.platforms tbody tr"))) {
            platforms.add(tr.getText());
        }
        assertEquals(List.of("linux/amd64 " + hex(amd64).substring(0, 12),
                "linux/arm64/v8 " + hex(arm64).substring(0, 12)), platforms);
        List<String> pulls = new ArrayList<>();
        for (WebElement pre : browser.driver().findElements(By.cssSelector("pre.docker code"))) {
            pulls.add(pre.getText());
        }
        String host = "127.0.0.1:" + s.port();
        assertEquals(List.of("docker pull " + host + "/main/multi:v1",
                "docker pull " + host + "/main/multi@" + index.get("digest").asText()), pulls);
        List<String> headings = new ArrayList<>();
        for (WebElement h : browser.driver().findElements(By.cssSelector("h3.artifacts"))) {
            headings.add(h.getText());
        }
        assertEquals(List.of("Signatures", "SBOMs", "Attestations", REPORT), headings);
        // the SBOM's link leads to its manifest
        String sbomHref = browser.driver().findElement(By.cssSelector("table.artifacts a[title='"
                + sbom.get("digest").asText() + "']")).getAttribute("href");
        HttpResponse<byte[]> sm = s.getBytes(java.net.URI.create(sbomHref).getRawPath());
        assertStatus(200, sm);
        assertEquals(sbom.get("digest").asText(), TestServer.digest(sm.body()));
        // at phone width, in dark mode, the long digests and annotations stay in the page (tables scroll in their box)
        browser.driver().executeCdpCommand("Emulation.setEmulatedMedia", Map.of("features",
                List.of(Map.of("name", "prefers-color-scheme", "value", "dark"))));
        browser.driver().executeCdpCommand("Emulation.setDeviceMetricsOverride", Map.of("width", 375, "height", 800,
                "deviceScaleFactor", 1, "mobile", true));
        try {
            browser.open(s.uri("/branches/main/v1/multi/"));
            browser.await(By.id("container-image"));
            assertEquals(375L, browser.script("return window.innerWidth"));
            long scroll = ((Number) browser.script("return document.documentElement.scrollWidth")).longValue();
            assertTrue(scroll <= 375, "scrollWidth " + scroll + " at 375 px");
        } finally {
            browser.driver().executeCdpCommand("Emulation.clearDeviceMetricsOverride", Map.of());
        }
        // the platform's link leads to its manifest: the bytes of its digest
        String href = browser.driver().findElement(By.cssSelector("table.platforms tbody tr:nth-child(2) a"))
                .getAttribute("href");
        HttpResponse<byte[]> m = s.getBytes(java.net.URI.create(href).getRawPath());
        assertStatus(200, m);
        assertEquals(arm64.get("digest").asText(), TestServer.digest(m.body()));
    }
}
