package dlrepo.auth;

import static dlrepo.auth.ProcessSupport.eventually;
import static dlrepo.auth.ProcessSupport.get;
import static dlrepo.auth.ProcessSupport.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestAuth;
import dlrepo.DaemonProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * No password and no Authorization value ever reaches the log, even at DEBUG with the
 * access log on, for good, bad and refused credentials, with the auth file and with LDAP
 * (up and down).
 */
class SecretsTest {
    Path root;
    TestAuth setup;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createTempDirectory("dlrepo-secrets-");
        setup = new TestAuth();
    }

    @AfterEach
    void tearDown() throws Exception {
        AuthSupport.deleteTree(root);
        setup.close();
    }

    /** Every form a secret could be logged in: as is, and the base64 of the credentials. */
    private static List<String> forms(String login, String password) {
        List<String> out = new ArrayList<>();
        out.add(password);
        String b64 = Base64.getEncoder().encodeToString((login + ":" + password).getBytes(StandardCharsets.UTF_8));
        out.add(b64);
        // the middle of the base64 value, in case it was cut or wrapped
        out.add(b64.substring(4, b64.length() - 4));
        return out;
    }

    private static void assertNoSecrets(String log, List<String[]> credentials) {
        for (String[] c : credentials) {
            for (String secret : forms(c[0], c[1])) {
                assertFalse(log.contains(secret), "the log contains '" + secret + "':\n" + log);
            }
        }
        assertFalse(log.contains("Basic "), "the log contains an Authorization value:\n" + log);
    }

    @Test
    void authFile() throws Exception {
        List<String[]> creds = List.of(
                new String[] {"alice", "Al1ce-Secret-Pw"},
                new String[] {"alice", "Wrong-Secret-Pw"},
                new String[] {"bob", "B0b:Secret:Pw"},
                new String[] {"mallory", "Mallory-Secret-Pw"},
                new String[] {"nogroup", "N0group-Secret-Pw"});
        setup.user("alice", "Al1ce-Secret-Pw", "dev")
                .user("bob", "B0b:Secret:Pw", "ro")
                .user("nogroup", "N0group-Secret-Pw")
                .acl("dev", "rw /**")
                .acl("ro", "r /**");
        try (DaemonProcess d = DaemonProcess.start(root, setup.env("DLREPO_LOG_LEVEL", "DEBUG"))) {
            assertEquals(201, status(d, "PUT", "/branches/b/t/j/f/x", "alice", "Al1ce-Secret-Pw"));
            assertEquals(200, get(d, "/branches/", "alice", "Al1ce-Secret-Pw"));
            assertEquals(401, get(d, "/branches/", "alice", "Wrong-Secret-Pw"));
            assertEquals(403, status(d, "PUT", "/branches/b/t/j/f/y", "bob", "B0b:Secret:Pw"));
            assertEquals(401, status(d, "DELETE", "/branches/b/", "mallory", "Mallory-Secret-Pw"));
            assertEquals(401, get(d, "/branches/", "nogroup", "N0group-Secret-Pw"));
            assertEquals(401, get(d, "/v2/", null, null));
            // the access log is on (so there was a chance to leak) and names the user
            assertTrue(eventually(() -> d.log().contains("127.0.0.1 - alice [")), d.log());
            assertTrue(eventually(() -> d.log().contains(" 401 ")), d.log());
            d.signal("HUP");
            assertTrue(eventually(() -> d.log().contains("reloaded")), d.log());
            assertNoSecrets(d.log(), creds);
        }
    }

    @Test
    void ldap() throws Exception {
        try (TestDirectory dir = new TestDirectory()) {
            String alice = dir.person("alice", "Al1ce-Ldap-Secret");
            dir.person("twin", "Tw1n-Ldap-Secret");
            dir.person("robots", "twin", "Tw1n-Ldap-Secret");
            dir.group("dev", alice);
            setup.acl("dev", "rw /**");
            List<String[]> creds = List.of(
                    new String[] {"alice", "Al1ce-Ldap-Secret"},
                    new String[] {"alice", "Wrong-Ldap-Secret"},
                    new String[] {"twin", "Tw1n-Ldap-Secret"},
                    new String[] {"*)(uid=*", "Inject-Ldap-Secret"},
                    new String[] {"bob", "B0b-Ldap-Secret"});
            try (DaemonProcess d = DaemonProcess.start(root, setup.env("DLREPO_LOG_LEVEL", "DEBUG",
                    "DLREPO_LDAP_URL", dir.url(), "DLREPO_LDAP_BASE_DN", TestDirectory.BASE,
                    "DLREPO_LDAP_START_TLS", "0", "DLREPO_LDAP_TIMEOUT", "5"))) {
                assertEquals(201, status(d, "PUT", "/branches/b/t/j/f/x", "alice", "Al1ce-Ldap-Secret"));
                assertEquals(401, get(d, "/branches/", "alice", "Wrong-Ldap-Secret"));
                assertEquals(401, get(d, "/branches/", "twin", "Tw1n-Ldap-Secret"));
                assertEquals(401, get(d, "/branches/", "*)(uid=*", "Inject-Ldap-Secret"));
                dir.stop();
                assertEquals(503, get(d, "/branches/", "bob", "B0b-Ldap-Secret"));
                // the failure is logged, without the credentials
                assertTrue(eventually(() -> d.log().contains("ERROR")), d.log());
                assertTrue(eventually(() -> d.log().contains(" 503 ")), d.log());
                assertNoSecrets(d.log(), creds);
            }
        }
    }
}
