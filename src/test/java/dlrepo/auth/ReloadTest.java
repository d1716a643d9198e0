package dlrepo.auth;

import static dlrepo.auth.ProcessSupport.eventually;
import static dlrepo.auth.ProcessSupport.get;
import static dlrepo.auth.ProcessSupport.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestAuth;
import dlrepo.DaemonProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The daemon as a process: SIGHUP re-reads the auth file and the ACLs and flushes the
 * cache (a broken ACL file on reload keeps the previous rules); start-up refuses a broken
 * ACL file or a missing ACL folder with a clear message.
 */
class ReloadTest {
    Path root;
    TestAuth setup;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createTempDirectory("dlrepo-reload-");
        setup = new TestAuth();
    }

    @AfterEach
    void tearDown() throws Exception {
        AuthSupport.deleteTree(root);
        setup.close();
    }

    @Test
    void sighupReloadsUsersAndAcls() throws Exception {
        setup.user("alice", "alice-pw", "dev")
                .acl("dev", "r /**", "ra /branches/**")
                .acl("ANONYMOUS", "r /branches/**");
        // the reload is logged at INFO
        java.util.Map<String, String> env = new java.util.HashMap<>(setup.env());
        env.put("DLREPO_LOG_LEVEL", "INFO");
        try (DaemonProcess d = DaemonProcess.start(root, env)) {
            assertEquals(200, get(d, "/branches/", "alice", "alice-pw"));
            assertEquals(201, status(d, "PUT", "/branches/b/t/j/f/1", "alice", "alice-pw"));
            // new users, removed users and new rules: nothing changes until SIGHUP
            setup.authFileText("bob:bob-pw:dev\ncarol:carol-pw:ops\n")
                    .acl("dev", "r /**")
                    .acl("ops", "rw /**");
            assertEquals(200, get(d, "/branches/", "alice", "alice-pw"));
            assertEquals(401, get(d, "/branches/", "bob", "bob-pw"));
            d.signal("HUP");
            assertTrue(eventually(() -> get(d, "/branches/", "bob", "bob-pw") == 200), "bob after SIGHUP");
            assertEquals(401, get(d, "/branches/", "alice", "alice-pw"));
            assertEquals(403, status(d, "PUT", "/branches/b/t/j/f/2", "bob", "bob-pw"));
            assertEquals(201, status(d, "PUT", "/branches/b/t/j/f/3", "carol", "carol-pw"));
            assertEquals(200, get(d, "/branches/", null, null));
            assertTrue(d.process().isAlive());
            assertTrue(d.log().contains("reloaded"), d.log());
            // again, for a second signal
            setup.acl("ANONYMOUS", "r /products/**");
            d.signal("HUP");
            assertTrue(eventually(() -> get(d, "/branches/", null, null) == 401), "anonymous rules reloaded");
            assertEquals(200, get(d, "/products/", null, null));
            assertTrue(d.process().isAlive());
        }
    }

    @Test
    void brokenAclOnReloadKeepsThePreviousRules() throws Exception {
        setup.user("alice", "alice-pw", "dev").acl("dev", "r /**", "ra /branches/**");
        try (DaemonProcess d = DaemonProcess.start(root, setup.env())) {
            assertEquals(201, status(d, "PUT", "/branches/b/t/j/f/1", "alice", "alice-pw"));
            // a broken file, and a new user in the same reload: none of it is taken
            setup.acl("dev", "r /**", "r ~(").user("bob", "bob-pw", "dev");
            d.signal("HUP");
            assertTrue(eventually(() -> d.log().contains("reload failed")), d.log());
            String log = d.log();
            assertTrue(log.contains("ERROR"), log);
            assertTrue(log.contains(setup.aclsDir.resolve("dev").toString()), "the log names the file: " + log);
            assertTrue(d.process().isAlive());
            assertEquals(201, status(d, "PUT", "/branches/b/t/j/f/2", "alice", "alice-pw"));
            assertEquals(401, get(d, "/branches/", "bob", "bob-pw"));
            // fixed: the next SIGHUP takes it
            setup.acl("dev", "r /**");
            d.signal("HUP");
            assertTrue(eventually(() -> get(d, "/branches/", "bob", "bob-pw") == 200), "reload after the fix");
            assertEquals(403, status(d, "PUT", "/branches/b/t/j/f/3", "alice", "alice-pw"));
            assertTrue(d.process().isAlive());
        }
    }

    @Test
    void ignoredLinesAreLoggedNotFatal() throws Exception {
        setup.user("alice", "alice-pw", "dev").acl("dev", "r /**", "rwx /branches/**", "w /branches/**");
        try (DaemonProcess d = DaemonProcess.start(root, setup.env())) {
            assertEquals(200, get(d, "/branches/", "alice", "alice-pw"));
            assertEquals(403, status(d, "PUT", "/branches/b/t/j/f/1", "alice", "alice-pw"));
            String log = d.log();
            assertTrue(log.contains(setup.aclsDir.resolve("dev") + ":2"), log);
            assertTrue(log.contains(setup.aclsDir.resolve("dev") + ":3"), log);
        }
    }

    private String refusal(Map<String, String> env) throws Exception {
        try (DaemonProcess d = DaemonProcess.spawn(root, env)) {
            int rc = d.waitFor(60);
            String log = d.log();
            assertNotEquals(0, rc, log);
            return log;
        }
    }

    @Test
    void startUpRefusesABrokenAclFile() throws Exception {
        setup.user("alice", "alice-pw", "dev").acl("dev", "r /**", "r /branches/** ~(unclosed");
        String log = refusal(setup.env());
        assertTrue(log.contains(setup.aclsDir.resolve("dev") + ":2"), "names the file and line: " + log);
        assertTrue(log.contains("regular expression"), log);
        // a line with letters but no glob
        setup.acl("dev", "rw");
        log = refusal(setup.env());
        assertTrue(log.contains(setup.aclsDir.resolve("dev") + ":1"), log);
    }

    @Test
    void startUpRefusesAMissingAclFolder() throws Exception {
        Map<String, String> env = setup.env("DLREPO_ACLS_DIR", setup.dir.resolve("nope").toString());
        String log = refusal(env);
        assertTrue(log.contains("DLREPO_ACLS_DIR"), log);
        assertTrue(log.contains(setup.dir.resolve("nope").toString()), log);
        // a file is not a folder either
        log = refusal(setup.env("DLREPO_ACLS_DIR", setup.authFile.toString()));
        assertTrue(log.contains("DLREPO_ACLS_DIR"), log);
        // one proxy header without the other
        log = refusal(setup.env("DLREPO_AUTH_HTTP_LOGIN_HEADER", "X-User"));
        assertTrue(log.contains("DLREPO_AUTH_HTTP_GROUPS_HEADER"), log);
    }

    @Test
    void loudWarnings() throws Exception {
        Map<String, String> env = setup.env("DLREPO_AUTH_DISABLED", "1", "DLREPO_ACLS_DIR", "/nonexistent");
        try (DaemonProcess d = DaemonProcess.start(root, env)) {
            assertEquals(201, status(d, "PUT", "/branches/b/t/j/f/1", null, null));
            assertTrue(d.log().contains("DLREPO_AUTH_DISABLED=1") && d.log().contains("WARN"), d.log());
        }
        setup.user("alice", "alice-pw", "dev").acl("dev", "r /**");
        try (DaemonProcess d = DaemonProcess.start(root, setup.env("DLREPO_IGNORE_PASSWORDS", "1"))) {
            assertEquals(200, get(d, "/branches/", "alice", "anything"));
            assertTrue(d.log().contains("DLREPO_IGNORE_PASSWORDS=1") && d.log().contains("WARN"), d.log());
        }
    }
}
