package dlrepo.security;

import static dlrepo.Check.assertError;
import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.Caller;
import dlrepo.Check;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Products belong to whoever already feeds them (overview.md, difference 12): a user who may
 * add to one branch cannot point an existing product branch or version at her job, take over
 * its latest or stable version, add formats to it, or remove it by deleting her job.
 */
class ProductTakeoverTest {
    private static TestAuth auth;
    private static TestServer s;
    private static Caller official;
    private static Caller mallory;
    private static Caller ci;
    private static Caller releaser;

    @BeforeAll
    static void start() throws IOException {
        auth = new TestAuth()
                .user("official", "o-pw", "official")
                .user("mallory", "m-pw", "sandbox")
                .user("ci", "c-pw", "ci")
                .user("rel", "r-pw", "sandbox", "acme-release")
                .acl("official", "r /**", "rw /branches/main/**")
                .acl("sandbox", "r /**", "rw /branches/sandbox/**")
                .acl("ANONYMOUS", "r /**")
                .acl("ci", "r /**", "ra /branches/**")
                .acl("acme-release", "ra /products/acme/**");
        s = auth.start();
        official = s.as("official", "o-pw");
        mallory = s.as("mallory", "m-pw");
        ci = s.as("ci", "c-pw");
        releaser = s.as("rel", "r-pw");
    }

    @AfterAll
    static void stop() throws IOException {
        s.close();
        auth.close();
    }

    private static String meta(String product, String version) {
        return "{\"job\": {\"product\": \"" + product + "\", \"product_variant\": \"std\", "
                + "\"product_branch\": \"main\", \"version\": \"" + version + "\"}}";
    }

    /** An official release of {@code product} 1.0: locked job, locked and stable tag. */
    private static String officialRelease(String product) throws Exception {
        String tag = Check.unique("rel");
        String job = "/branches/main/" + tag + "/build/";
        official.uploadFinalized(job + "deb/secret.txt", "official content");
        assertStatus(200, official.json("PATCH", job, meta(product, "1.0")));
        assertStatus(200, official.json("PUT", job, "{\"job\": {\"locked\": true}}"));
        assertStatus(200, official.json("POST", "/branches/main/" + tag + "/",
                "{\"tag\": {\"locked\": true, \"stable\": true}}"));
        return job;
    }

    private static String productFile(String product, String version) throws Exception {
        HttpResponse<String> r = s.anonymous().get("/products/" + product + "/std/main/" + version + "/deb/secret.txt");
        return r.statusCode() + " " + r.body();
    }

    @Test
    void aJobOfAnotherBranchCannotJoinAnOfficialVersion() throws Exception {
        String product = Check.unique("acme");
        officialRelease(product);
        String evil = "/branches/sandbox/" + Check.unique("t") + "/evil/";
        mallory.uploadFinalized(evil + "deb/secret.txt", "mallory's content");
        assertError(mallory.json("PATCH", evil, meta(product, "1.0")), 403, "may not add to product version");
        assertEquals("200 official content", productFile(product, "1.0"));
        assertTrue(mallory.ok(evil).get("job").path("product").isMissingNode(), "metadata unchanged");
        // nor a new, higher version of the same product branch (latest and stable)
        assertError(mallory.json("PATCH", evil, meta(product, "9.9")), 403, "may not add");
        assertStatus(200, mallory.json("POST", evil.substring(0, evil.length() - "evil/".length()),
                "{\"tag\": {\"stable\": true}}"));
        for (String alias : new String[] {"latest", "stable"}) {
            HttpResponse<String> r = s.anonymous().get("/products/" + product + "/std/main/" + alias + "/");
            assertStatus(302, r);
            assertEquals("/products/" + product + "/std/main/1.0/", r.headers().firstValue("Location").orElse(""));
        }
        JsonNode versions = s.anonymous().ok("/products/" + product + "/std/main/").get("product_branch")
                .get("versions");
        assertEquals(1, versions.size(), versions.toString());
        assertEquals("1.0", versions.get(0).get("name").asText());
    }

    @Test
    void metadataFirstThenFormatsIsCheckedToo() throws Exception {
        String product = Check.unique("acme");
        officialRelease(product);
        // metadata set while the job has no format yet
        String evil = "/branches/sandbox/" + Check.unique("t") + "/evil/";
        mallory.uploadFinalized(evil + "other/x.txt", "x");
        assertStatus(200, mallory.delete(evil + "other/"));
        assertError(mallory.json("PATCH", evil, meta(product, "1.0")), 403, "may not add");

        // a job named for a product that did not exist yet, formats added once it does
        String later = Check.unique("acme");
        String early = "/branches/sandbox/" + Check.unique("t") + "/early/";
        mallory.uploadFinalized(early + "doc/readme.txt", "early");
        assertStatus(200, mallory.json("PATCH", early, meta(later, "0.1")));
        assertStatus(200, mallory.delete(early + "doc/"));
        String job = "/branches/main/" + Check.unique("rel") + "/build/";
        official.uploadFinalized(job + "deb/secret.txt", "official content");
        assertStatus(200, official.json("PATCH", job, meta(later, "1.0")));
        HttpResponse<String> r = mallory.upload(early + "deb/secret.txt", "mallory's content");
        assertError(r, 403, "may not add to product version");
        assertFalse(Files.exists(s.root().resolve("branches/sandbox").resolve(early.substring(18)).resolve("deb")),
                "nothing written");
        assertEquals(1, s.anonymous().ok("/products/" + later + "/std/main/").get("product_branch")
                .get("versions").size());
    }

    @Test
    void deletingAJobNeverRemovesAnotherJobsLinks() throws Exception {
        String product = Check.unique("acme");
        officialRelease(product);
        String evil = "/branches/sandbox/" + Check.unique("t") + "/evil/";
        mallory.uploadFinalized(evil + "deb/secret.txt", "mallory's content");
        mallory.json("PATCH", evil, meta(product, "1.0"));
        assertStatus(200, mallory.delete(evil));
        assertEquals("200 official content", productFile(product, "1.0"));
    }

    @Test
    void noFormatIsAddedToAnOfficialVersionArchive() throws Exception {
        String product = Check.unique("acme");
        officialRelease(product);
        String evil = "/branches/sandbox/" + Check.unique("t") + "/evil/";
        mallory.uploadFinalized(evil + "iso/backdoor.iso", "backdoor");
        mallory.json("PATCH", evil, meta(product, "1.0"));
        HttpResponse<byte[]> tar = s.anonymous().getBytes("/products/" + product + "/std/main/1.0.tar");
        assertStatus(200, tar);
        String text = new String(tar.body(), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("deb/secret.txt"));
        assertFalse(text.contains("backdoor"), "the archive holds only the official formats");
        assertEquals("[deb]", s.anonymous().ok("/products/" + product + "/std/main/1.0/").get("version")
                .get("artifact_formats").toString().replace("\"", ""));
    }

    @Test
    void aCiGroupThatWritesEveryBranchKeepsWorking() throws Exception {
        String product = Check.unique("acme");
        String t1 = "/branches/main/" + Check.unique("t") + "/amd64/";
        String t2 = "/branches/nightly/" + Check.unique("t") + "/arm64/";
        ci.uploadFinalized(t1 + "deb/a.deb", "a");
        ci.uploadFinalized(t2 + "rpm/b.rpm", "b");
        assertStatus(200, ci.json("PATCH", t1, meta(product, "2.0")));
        assertStatus(200, ci.json("PATCH", t2, meta(product, "2.0")));
        assertStatus(200, ci.json("PATCH", t2, meta(product, "2.1")));
        assertStatus(200, ci.json("PATCH", t2, meta(product, "2.0")));
        assertEquals("[deb, rpm]", s.anonymous().ok("/products/" + product + "/std/main/2.0/").get("version")
                .get("artifact_formats").toString().replace("\"", "").replace(",", ", "));
    }

    @Test
    void anAclOnTheProductPathGrantsJoining() throws Exception {
        String product = "acme";
        officialRelease(product);
        String job = "/branches/sandbox/" + Check.unique("t") + "/hotfix/";
        releaser.uploadFinalized(job + "rpm/fix.rpm", "fix");
        assertStatus(200, releaser.json("PATCH", job, meta(product, "1.0")));
        assertEquals(200, s.anonymous().get("/products/acme/std/main/1.0/rpm/fix.rpm").statusCode());
        assertEquals("200 official content", productFile(product, "1.0"));
    }

    @Test
    void aLinkToALockedJobIsNeverReplaced() throws Exception {
        String product = Check.unique("acme");
        String locked = "/branches/main/" + Check.unique("t") + "/build/";
        ci.uploadFinalized(locked + "deb/secret.txt", "locked content");
        assertStatus(200, ci.json("PATCH", locked, meta(product, "3.0")));
        assertStatus(200, ci.json("PUT", locked, "{\"job\": {\"locked\": true}}"));
        String rerun = "/branches/main/" + Check.unique("t") + "/build/";
        ci.uploadFinalized(rerun + "deb/secret.txt", "rerun content");
        assertError(ci.json("PATCH", rerun, meta(product, "3.0")), 409, "locked job");
        assertEquals("200 locked content", productFile(product, "3.0"));
        // a job without that format joins, and a format it adds later under the same name stays out
        String extra = "/branches/main/" + Check.unique("t") + "/extra/";
        ci.uploadFinalized(extra + "doc/index.html", "doc");
        assertStatus(200, ci.json("PATCH", extra, meta(product, "3.0")));
        assertStatus(201, ci.upload(extra + "deb/secret.txt", "extra content"));
        assertEquals("200 locked content", productFile(product, "3.0"));
        assertEquals(200, s.anonymous().get("/products/" + product + "/std/main/3.0/doc/index.html").statusCode());
    }

    @Test
    void aVersionNamedLikeAnAliasIsRefused() throws Exception {
        String job = "/branches/main/" + Check.unique("t") + "/build/";
        ci.uploadFinalized(job + "deb/a.deb", "a");
        for (String alias : new String[] {"stable", "latest", "OldStable"}) {
            assertError(ci.json("PATCH", job, meta(Check.unique("acme"), alias)), 400, "alias");
        }
        assertTrue(ci.ok(job).get("job").path("version").isMissingNode());
    }
}
