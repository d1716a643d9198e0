package dlrepo.publish;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.Check;
import dlrepo.TestServer;
import dlrepo.registry.SkopeoTest;
import dlrepo.registry.SkopeoTest.Layout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A released tag holding a container image and a two-platform index (pushed to the internal
 * server's registry) is published through the artifact API, and both can be pulled from the
 * public servers byte for byte; the public job digests are the internal ones. Skipped
 * without skopeo.
 */
class PublishContainerTest {
    static String ref(TestServer s, String image) {
        return "docker://127.0.0.1:" + s.port() + "/" + image;
    }

    @Test
    void imageAndIndexArePublishedAndPullable(@TempDir Path tmp) throws Exception {
        assumeTrue(Files.isExecutable(SkopeoTest.SKOPEO), "skopeo is not installed (apt-get install skopeo)");
        try (Sites sites = Sites.start()) {
            TestServer internal = sites.internal();
            Layout single = new Layout(tmp.resolve("single"));
            ObjectNode m = single.image("amd64", 400_000, 1000);
            single.tag(m, "v1");
            Layout multi = new Layout(tmp.resolve("multi"));
            ObjectNode index = multi.index(List.of(multi.image("amd64", 200_000), multi.image("arm64", 200_000, 500)));
            multi.tag(index, "v1");
            SkopeoTest.ok("copy", "--dest-tls-verify=false", "--dest-creds", "ci:ci-pw", "oci:" + single.dir + ":v1",
                    ref(internal, "main/app:v1"));
            SkopeoTest.ok("copy", "--all", "--dest-tls-verify=false", "--dest-creds", "ci:ci-pw",
                    "oci:" + multi.dir + ":v1", ref(internal, "main/multi:v1"));
            for (String job : List.of("app", "multi")) {
                assertStatus(200, sites.ci().json("PUT", "/branches/main/v1/" + job + "/", "{\"job\": {\"locked\": true}}"));
            }
            assertStatus(200, sites.release("main", "v1", true));
            assertEquals("published to " + sites.publishUrl(), sites.awaitDone("main", "v1", 60_000));
            assertTrue(sites.tag("main", "v1").get("released").asBoolean());

            for (TestServer pub : sites.publics()) {
                for (String job : List.of("app", "multi")) {
                    String local = sites.ci().ok("/branches/main/v1/" + job + "/").at("/job/digest").asText();
                    assertEquals(64, local.length());
                    assertEquals(local, Sites.remoteJob(pub, "main", "v1", job).get("digest").asText(),
                            job + " digest on " + pub.port());
                    assertEquals(Files.readString(internal.root().resolve("branches/main/v1/" + job + "/container/.manifest")),
                            Files.readString(pub.root().resolve("branches/main/v1/" + job + "/container/.manifest")));
                }
                Layout back = new Layout(tmp.resolve("back-" + pub.port()));
                SkopeoTest.ok("copy", "--src-tls-verify=false", "--src-creds", Sites.LOGIN + ":" + Sites.PASSWORD,
                        ref(pub, "main/app:v1"), "oci:" + back.dir + ":v1");
                SkopeoTest.assertSameBlobs(single, back);
                assertArrayEquals(single.read(m.get("digest").asText()), SkopeoTest.ok("inspect", "--tls-verify=false",
                        "--creds", Sites.LOGIN + ":" + Sites.PASSWORD, "--raw", ref(pub, "main/app:v1")).out()
                        .getBytes(StandardCharsets.UTF_8));

                Layout backAll = new Layout(tmp.resolve("back-all-" + pub.port()));
                SkopeoTest.ok("copy", "--all", "--src-tls-verify=false", "--src-creds",
                        Sites.LOGIN + ":" + Sites.PASSWORD, ref(pub, "main/multi:v1"), "oci:" + backAll.dir + ":v1");
                SkopeoTest.assertSameBlobs(multi, backAll);
                assertEquals(index.get("digest").asText(), Check.JSON.readTree(backAll.dir.resolve("index.json")
                        .toFile()).at("/manifests/0/digest").asText());
            }

            // the same files on both sides; a second release finds every job there
            assertEquals(Sites.tree(internal, "main", "v1"), Sites.tree(sites.public1, "main", "v1"));
            assertStatus(200, sites.release("main", "v1", true));
            assertEquals("published to " + sites.publishUrl(), sites.awaitDone("main", "v1", 60_000));
        }
    }
}
