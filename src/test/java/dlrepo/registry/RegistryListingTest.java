package dlrepo.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.TestServer;
import dlrepo.products.Helpers;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Registry pushes change the cached listings of the tree they land in, at once. */
class RegistryListingTest {
    @Test
    void aPushIsListedByTheNextRead() throws Exception {
        try (TestServer s = TestServer.start(Map.of("DLREPO_CACHE_SIZE", "8M"))) {
            String job = "/branches/b/v1/app/";
            Helpers.upload201(s, job + "deb/pkg.deb", "a package");
            Helpers.finalizeFormat(s, job + "deb/");
            assertEquals(List.of("deb"), Reg.strings(Helpers.ok(s.get(job)).get("job").get("artifact_formats")));
            String tagEtag = s.get("/branches/b/v1/").headers().firstValue("ETag").orElseThrow();

            Reg.Image first = Reg.pushImage(s, "b/app", "v1", Reg.OCI_MANIFEST, 1, 300);
            assertEquals(List.of("container", "deb"),
                    Reg.strings(Helpers.ok(s.get(job)).get("job").get("artifact_formats")));
            JsonNode files = Helpers.ok(s.get(job + "container/")).get("artifact_format").get("files");
            assertTrue(files.toString().contains(first.hex()), files.toString());

            // the image replaced by a second push under the same tag
            Reg.Image second = Reg.pushImage(s, "b/app", "v1", Reg.OCI_MANIFEST, 1, 300);
            files = Helpers.ok(s.get(job + "container/")).get("artifact_format").get("files");
            assertTrue(files.toString().contains(second.hex()), files.toString());
            assertTrue(!files.toString().contains(first.hex()), files.toString());
            // the tag lists its jobs, not their formats: its answer, and so its ETag, stay
            assertEquals(tagEtag, s.get("/branches/b/v1/").headers().firstValue("ETag").orElseThrow());
        }
    }
}
