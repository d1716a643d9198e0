package dlrepo.auth;

import static dlrepo.auth.AuthSupport.assertAllowed;
import static dlrepo.auth.AuthSupport.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestAuth;
import dlrepo.Caller;
import dlrepo.TestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The ACL examples shipped in etc/acls-examples/ (and described in dlrepo-acls(5)) do what
 * their README says: each folder is used as DLREPO_ACLS_DIR as it is.
 */
class ExamplesTest {
    private static final Path EXAMPLES = Path.of(System.getProperty("basedir", "."), "etc", "acls-examples");

    private static TestServer start(TestAuth setup, String example) throws IOException {
        Path dir = EXAMPLES.resolve(example);
        assertTrue(Files.isDirectory(dir), dir + " exists");
        return setup.start("DLREPO_ACLS_DIR", dir.toAbsolutePath().toString());
    }

    @Test
    void everyLineIsValidAndReadmesGrantNothing() throws IOException {
        List<Path> folders;
        try (var s = Files.list(EXAMPLES)) {
            folders = s.filter(Files::isDirectory).sorted().toList();
        }
        assertEquals(3, folders.size(), folders.toString());
        for (Path folder : folders) {
            assertTrue(Files.isRegularFile(folder.resolve("README")), folder + "/README");
            try (var s = Files.list(folder)) {
                for (Path f : s.toList()) {
                    boolean readme = f.getFileName().toString().equals("README");
                    for (String line : Files.readAllLines(f)) {
                        String l = line.strip();
                        if (l.isEmpty() || l.startsWith("#")) {
                            continue;
                        }
                        assertTrue(!readme, f + ": a README must be comments only: " + line);
                        String letters = l.split("\\s+")[0];
                        assertTrue(letters.matches("[radwuo]+") && letters.contains("r"), f + ": " + line);
                        assertTrue(l.split("\\s+").length >= 2, f + ": " + line);
                    }
                }
            }
        }
    }

    /** The "More lines" of dlrepo-acls(5), one group each. */
    @Test
    void manPageLines() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.user("admin", "pw", "admin").acl("admin", "rw /**")
                    .user("a", "pw", "a").acl("a", "r /** !/branches/sandbox/**")
                    .user("b", "pw", "b").acl("b", "ra ~/branches/rel-[0-9.]+/")
                    .user("c", "pw", "c").acl("c", "rd /branches/*/20??-??-??*/**")
                    .user("d", "pw", "d").acl("d", "ra /branches/main/*/build-*/**");
            try (TestServer s = setup.start()) {
                Caller admin = Caller.basic(s, "admin", "pw");
                admin.uploadFinalized("/branches/sandbox/t/j/f/x", "x");
                admin.uploadFinalized("/branches/main/2026-11-25-abc/j/f/x", "x");
                admin.uploadFinalized("/branches/main/v1/j/f/x", "x");
                Caller a = Caller.basic(s, "a", "pw");
                assertStatus(200, a.get("/branches/main/"));
                assertStatus(403, a.get("/branches/sandbox/t/j/f/x"));
                Caller b = Caller.basic(s, "b", "pw");
                assertStatus(201, b.upload("/branches/rel-2.3/t/j/f/x", "x"));
                assertStatus(201, b.upload("/branches/rel-1/t/j/f/x", "x"));
                assertStatus(403, b.upload("/branches/release/t/j/f/x", "x"));
                assertStatus(403, b.upload("/branches/main/t/j/f/x", "x"));
                Caller c = Caller.basic(s, "c", "pw");
                assertStatus(403, c.send("DELETE", "/branches/main/v1/"));
                assertStatus(403, c.upload("/branches/main/2026-11-25-abc/j/f/y", "y"));
                assertStatus(200, c.send("DELETE", "/branches/main/2026-11-25-abc/"));
                Caller d = Caller.basic(s, "d", "pw");
                assertStatus(201, d.upload("/branches/main/v2/build-arm64/deb/x.deb", "x"));
                assertStatus(403, d.upload("/branches/main/v2/test-arm64/deb/x.deb", "x"));
                assertStatus(403, d.upload("/branches/other/v2/build-arm64/deb/x.deb", "x"));
            }
        }
    }

    @Test
    void readOnlyMirror() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.user("internal", "pub-pw", "publisher").user("README", "pw", "README")
                    .user("someone", "pw", "dev");
            try (TestServer s = start(setup, "1-read-only-mirror")) {
                Caller pub = Caller.basic(s, "internal", "pub-pw");
                Caller anon = Caller.anonymous(s);
                assertStatus(201, pub.upload("/branches/main/v1/j/f/file", "x"));
                assertStatus(200, pub.send("PATCH", "/branches/main/v1/j/f/"));
                assertStatus(200, pub.json("PUT", "/branches/main/v1/j/", "{\"job\": {\"locked\": true}}"));
                assertStatus(201, pub.upload("/~alice/branches/main/v1/j/f/file", "y"));
                assertStatus(200, anon.get("/branches/main/v1/j/f/file"));
                assertStatus(200, anon.get("/~alice/branches/main/v1/j/f/file"));
                assertStatus(200, anon.get("/products/"));
                assertStatus(401, anon.upload("/branches/main/v2/j/f/file", "x"));
                assertStatus(401, anon.send("DELETE", "/branches/main/v1/"));
                // other accounts get nothing (a logged-in caller is not ANONYMOUS)
                assertStatus(403, Caller.basic(s, "someone", "pw").get("/branches/"));
                assertStatus(403, Caller.basic(s, "README", "pw").get("/branches/"));
                // publishing deletes too
                assertStatus(200, pub.send("DELETE", "/~alice/branches/main/"));
            }
        }
    }

    @Test
    void ciAndRelease() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.user("jenkins", "ci-pw", "ci").user("alice", "alice-pw", "dev", "release")
                    .user("bob", "bob-pw", "dev");
            try (TestServer s = start(setup, "2-ci-and-release")) {
                Caller ci = Caller.basic(s, "jenkins", "ci-pw");
                Caller alice = Caller.basic(s, "alice", "alice-pw");
                Caller bob = Caller.basic(s, "bob", "bob-pw");
                // CI uploads, sets metadata, finalizes, locks the job, pushes images
                assertStatus(201, ci.upload("/branches/main/b1/build/deb/pkg.deb", "deb"));
                assertStatus(200, ci.send("PATCH", "/branches/main/b1/build/deb/"));
                assertStatus(200, ci.json("PATCH", "/branches/main/b1/build/", "{\"job\": {\"commit\": \"abc\"}}"));
                assertStatus(200, ci.json("PUT", "/branches/main/b1/build/", "{\"job\": {\"locked\": true}}"));
                assertAllowed(ci.send("POST", "/v2/main/build/blobs/uploads/"));
                // ... but neither releases nor deletes
                assertStatus(403, ci.json("POST", "/branches/main/b1/", "{\"tag\": {\"locked\": true}}"));
                assertStatus(403, ci.send("DELETE", "/branches/main/b1/"));
                // release managers lock, describe and delete, but do not upload
                assertStatus(200, alice.json("POST", "/branches/main/b1/",
                        "{\"tag\": {\"stable\": true, \"description\": \"first\"}}"));
                assertStatus(200, alice.json("POST", "/branches/main/", "{\"branch\": {\"max_daily_tags\": 5}}"));
                assertStatus(403, alice.upload("/branches/main/b1/build/doc/index.html", "doc"));
                assertStatus(201, ci.upload("/branches/main/b2/build/deb/pkg.deb", "deb2"));
                assertStatus(200, alice.send("DELETE", "/branches/main/b2/"));
                // everyone else reads; nobody reads anonymously
                assertStatus(200, bob.get("/branches/main/b1/build/deb/pkg.deb"));
                assertStatus(403, bob.upload("/branches/main/b3/build/deb/pkg.deb", "x"));
                assertStatus(403, bob.send("DELETE", "/branches/main/b1/"));
                assertStatus(401, Caller.anonymous(s).get("/branches/"));
            }
        }
    }

    @Test
    void userRepositories() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.user("alice", "alice-pw", "users").user("bob", "bob-pw", "users")
                    .user("root", "root-pw", "users", "admin");
            try (TestServer s = start(setup, "3-user-repositories")) {
                Caller alice = Caller.basic(s, "alice", "alice-pw");
                Caller bob = Caller.basic(s, "bob", "bob-pw");
                Caller root = Caller.basic(s, "root", "root-pw");
                Caller anon = Caller.anonymous(s);
                // own repository: everything
                assertStatus(201, alice.upload("/~alice/branches/wip/t/j/f/file", "a"));
                assertStatus(200, alice.send("PATCH", "/~alice/branches/wip/t/j/f/"));
                assertStatus(200, alice.json("POST", "/~alice/branches/wip/t/", "{\"tag\": {\"locked\": true}}"));
                assertStatus(200, alice.get("/~alice/"));
                assertStatus(200, alice.get("/~alice/branches/wip/t/j/f/file"));
                assertAllowed(alice.send("POST", "/v2/u/alice/wip/j/blobs/uploads/"));
                // other users' repositories: private
                assertStatus(403, bob.get("/~alice/branches/"));
                assertStatus(403, bob.get("/~alice/branches/wip/t/j/f/file"));
                assertStatus(403, bob.upload("/~alice/branches/wip/t/j/f/other", "b"));
                assertStatus(403, bob.send("POST", "/v2/u/alice/wip/j/blobs/uploads/"));
                assertStatus(401, anon.get("/~alice/branches/"));
                // shared trees: everyone reads, admins write
                assertStatus(201, root.upload("/branches/main/t/j/f/file", "r"));
                assertStatus(200, root.get("/~alice/branches/wip/t/j/f/file"));
                assertStatus(200, alice.get("/branches/main/t/j/f/file"));
                assertStatus(200, anon.get("/branches/main/t/j/f/file"));
                assertStatus(403, alice.upload("/branches/main/t/j/f/other", "a"));
                assertStatus(403, alice.send("DELETE", "/branches/main/"));
            }
        }
    }
}
