package dlrepo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Credentials: $DLREPO_AUTH_FILE, else ~/.netrc (or $NETRC) for the server's host, else
 * anonymous; never on the command line. Refusals are clear and exit 1.
 */
class CliAuthTest {
    private static TestServer s;
    private static Path dir;
    private static String url;
    private static Path file;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("dlrepo-cli-auth-");
        Cli.write(dir.resolve("users"), "alice:s3cr:et w0rd:dev\nbob:bobpw:readers\ncarol:c4rol-pw:dev\n");
        Cli.write(dir.resolve("acls/dev"), "rw /**\n");
        Cli.write(dir.resolve("acls/readers"), "r /**\n");
        s = TestServer.start(Map.of("DLREPO_AUTH_DISABLED", "0",
                "DLREPO_AUTH_FILE", dir.resolve("users").toString(),
                "DLREPO_ACLS_DIR", dir.resolve("acls").toString(),
                "DLREPO_FSYNC", "0"));
        url = "http://127.0.0.1:" + s.port();
        file = dir.resolve("data/a.txt");
        Cli.write(file, "authenticated upload\n");
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
        Cli.deleteTree(dir);
    }

    private static Map<String, String> authFile(String name, String content) throws Exception {
        Path p = dir.resolve(name);
        Cli.write(p, content);
        return Map.of("DLREPO_AUTH_FILE", p.toString());
    }

    @Test
    void authFileCredentials() throws Exception {
        // the password holds ':' and a space; a trailing newline is not part of it
        Map<String, String> env = authFile("alice.cred", "alice:s3cr:et w0rd\n");
        Cli.run(url, env, "upload", "main", "t1", "j", "deb", file.toString()).ok();
        Cli.Result r = Cli.run(url, env, "ls", "main", "t1", "j", "deb").ok();
        assertEquals("a.txt\n", r.out());
        assertFalse(r.all().contains("s3cr"), "the password is never printed");
    }

    @Test
    void badCredentialsAre401() throws Exception {
        Map<String, String> env = authFile("wrong.cred", "alice:wrong\n");
        Cli.Result r = Cli.run(url, env, "branches").exit(1);
        assertTrue(r.err().contains("401"), r.all());
        assertTrue(r.err().contains("check the credentials in DLREPO_AUTH_FILE"), r.all());
        r = Cli.run(url, env, "upload", "main", "t2", "j", "deb", file.toString()).exit(1);
        assertTrue(r.err().contains("401"), r.all());
        assertFalse(Files.exists(s.root().resolve("branches/main/t2")));
    }

    @Test
    void anonymousIsToldHowToLogIn() throws Exception {
        Cli.Result r = Cli.run(url, "upload", "main", "t3", "j", "deb", file.toString()).exit(1);
        assertTrue(r.err().contains("401"), r.all());
        assertTrue(r.err().contains("no credentials") && r.err().contains("DLREPO_AUTH_FILE")
                && r.err().contains(".netrc"), r.all());
    }

    @Test
    void notAllowedIs403() throws Exception {
        Map<String, String> env = authFile("bob.cred", "bob:bobpw");
        Cli.run(url, env, "branches").ok();
        Cli.Result r = Cli.run(url, env, "upload", "main", "t4", "j", "deb", file.toString()).exit(1);
        assertTrue(r.err().contains("403"), r.all());
    }

    @Test
    void netrcForTheServerHost() throws Exception {
        Path home = dir.resolve("home");
        Cli.write(home.resolve(".netrc"), "machine other.example login x password y\n"
                + "machine 127.0.0.1 login carol password c4rol-pw\n");
        Cli.run(url, Map.of("HOME", home.toString()), "upload", "main", "t5", "j", "deb", file.toString()).ok();
        assertTrue(Files.isRegularFile(s.root().resolve("branches/main/t5/j/deb/a.txt")));
        // $NETRC names another file; DLREPO_AUTH_FILE wins over both
        Path other = dir.resolve("netrc2");
        Cli.write(other, "machine 127.0.0.1 login bob password bobpw\n");
        Cli.run(url, Map.of("NETRC", other.toString()), "branches").ok();
        Cli.Result w = Cli.run(url, Map.of("NETRC", other.toString(), "DLREPO_AUTH_FILE",
                authFile("w.cred", "alice:nope").get("DLREPO_AUTH_FILE")), "branches").exit(1);
        assertTrue(w.err().contains("401"), w.all());
        // a netrc entry for another host is not used
        Cli.write(other, "machine example.org login bob password bobpw\n");
        assertTrue(Cli.run(url, Map.of("NETRC", other.toString()), "upload", "main", "t6", "j", "deb",
                file.toString()).exit(1).err().contains("no credentials"));
    }

    @Test
    void authFileProblems() throws Exception {
        Cli.Result r = Cli.run(url, Map.of("DLREPO_AUTH_FILE", dir.resolve("missing").toString()), "branches")
                .exit(1);
        assertTrue(r.err().contains("DLREPO_AUTH_FILE") && r.err().contains("missing"), r.all());
        r = Cli.run(url, authFile("bad.cred", "just-a-login\n"), "branches").exit(2);
        assertTrue(r.err().contains("login:password"), r.all());
    }
}
