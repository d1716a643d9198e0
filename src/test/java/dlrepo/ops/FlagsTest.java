package dlrepo.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.DaemonProcess;
import dlrepo.DaemonProcess.Result;
import dlrepo.Version;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dlrepo --version | --help | --check-config}, and arguments it does not know. */
class FlagsTest {
    @TempDir
    Path tmp;

    @Test
    void versionAndHelpPrintAndExitWithoutTouchingTheRoot() throws Exception {
        Path root = tmp.resolve("root");
        Map<String, String> env = Map.of("DLREPO_ROOT_DIR", root.toString(), "DLREPO_LISTEN_PORT", "1");
        Result v = DaemonProcess.run(env, "--version");
        assertEquals(0, v.exit(), v.all());
        assertEquals("dlrepo " + Version.get() + "\n", v.out());
        assertEquals("", v.err());
        assertTrue(Version.get().matches("\\d+\\.\\d+\\.\\d+.*"), Version.get());

        Result h = DaemonProcess.run(env, "--help");
        assertEquals(0, h.exit(), h.all());
        assertTrue(h.out().startsWith("usage: dlrepo [--help | --version | --check-config]\n"), h.out());
        for (String option : new String[] {"--help", "--version", "--check-config"}) {
            assertTrue(h.out().contains("\n  " + option + " "), option + " not described: " + h.out());
        }
        assertTrue(h.out().contains("Without arguments: run the daemon"), h.out());
        assertTrue(h.out().contains("dlrepo-config(5)"), h.out());
        assertEquals("", h.err(), "no log output");
        assertFalse(Files.exists(root), "the root was created");
    }

    @Test
    void unknownArgumentsAreRefused() throws Exception {
        Path root = tmp.resolve("root");
        Map<String, String> env = Map.of("DLREPO_ROOT_DIR", root.toString(), "DLREPO_AUTH_DISABLED", "1");
        for (String[] args : new String[][] {{"--bogus"}, {"-h"}, {"run"}, {"--version", "--bogus"}}) {
            Result r = DaemonProcess.run(env, args);
            String bad = args[args.length - 1];
            assertEquals(2, r.exit(), String.join(" ", args) + ": " + r.all());
            assertEquals("dlrepo: unknown argument \"" + bad + "\" (dlrepo --help lists the options)\n", r.err());
            assertEquals("", r.out());
        }
        assertFalse(Files.exists(root), "the root was created");
    }

    /** A valid configuration with users and ACLs: OK, exit 0, every setting listed, no secret printed. */
    @Test
    void checkConfigValid() throws Exception {
        Path root = tmp.resolve("root");
        Map<String, String> env = authEnv(root, "rw /branches/**\n");
        env.put("DLREPO_PUBLIC_URL", "https://deploy:hunter2@dl.example.org");
        env.put("DLREPO_LOG_LEVEL", "INFO");
        Result r = DaemonProcess.run(env, "--check-config");
        assertEquals(0, r.exit(), r.all());
        assertEquals("", r.err());
        String out = r.out();
        assertTrue(out.startsWith("dlrepo " + Version.get() + "\n"), out);
        assertTrue(out.contains("\nDLREPO_LOG_LEVEL=INFO\n"), out);
        assertTrue(out.contains("\nDLREPO_FSYNC=  # default\n"), out);
        assertTrue(out.contains("\nDLREPO_PUBLIC_URL=https://***@dl.example.org\n"), out);
        assertTrue(out.contains("\nusers: 2\n"), out);
        assertTrue(out.contains("\nACL groups: 1\n"), out);
        assertTrue(out.matches("(?s).*\nroot: " + java.util.regex.Pattern.quote(root.toString())
                + " \\(\\d+\\.\\d GiB free\\)\n.*"), out);
        assertTrue(out.endsWith("configuration OK\n"), out);
        for (String secret : new String[] {"hunter2", "alice-pw", "bob-pw"}) {
            assertFalse(r.all().contains(secret), secret + " printed:\n" + r.all());
        }
        assertFalse(Files.exists(root), "--check-config created the root");
    }

    /** A broken ACL line, an ignored users line and a misspelt variable: each named, exit 2. */
    @Test
    void checkConfigProblems() throws Exception {
        Path root = tmp.resolve("root");
        Map<String, String> env = authEnv(root, "rw /branches/**\nrw\n");
        Files.writeString(Path.of(env.get("DLREPO_AUTH_FILE")), "no-colon-here\n", java.nio.file.StandardOpenOption.APPEND);
        env.put("DLREPO_LOG_OUPTUT", "json");
        Result r = DaemonProcess.run(env, "--check-config");
        assertEquals(2, r.exit(), r.all());
        Path acl = Path.of(env.get("DLREPO_ACLS_DIR"), "devs");
        assertTrue(r.err().contains("dlrepo: DLREPO_ACLS_DIR=" + acl.getParent() + ": " + acl + ":2: "), r.err());
        assertTrue(r.err().contains(env.get("DLREPO_AUTH_FILE") + ":3: expected login:password:groups, line ignored"),
                r.err());
        assertTrue(r.err().contains(
                "dlrepo: unknown setting DLREPO_LOG_OUPTUT (ignored): did you mean DLREPO_LOG_OUTPUT?\n"), r.err());
        assertTrue(r.out().endsWith("configuration has 3 problems\n"), r.out());

        // a misspelt variable alone is enough to fail the check
        Map<String, String> typo = authEnv(root, "rw /branches/**\n");
        typo.put("DLREPO_LISTEN_PROT", "8080");
        Result t = DaemonProcess.run(typo, "--check-config");
        assertEquals(2, t.exit(), t.all());
        assertEquals("dlrepo: unknown setting DLREPO_LISTEN_PROT (ignored): did you mean DLREPO_LISTEN_PORT?\n", t.err());
        assertTrue(t.out().endsWith("configuration has 1 problem\n"), t.out());

        // an invalid value: the same line as at start-up, exit 2
        Result bad = DaemonProcess.run(Map.of("DLREPO_ROOT_DIR", root.toString(), "DLREPO_AUTH_DISABLED", "1",
                "DLREPO_LISTEN_PORT", "http"), "--check-config");
        assertEquals(2, bad.exit(), bad.all());
        assertEquals("dlrepo: configuration error: DLREPO_LISTEN_PORT=http: not an integer\n", bad.err());
    }

    @Test
    void checkConfigNamesAnUnusableRoot() throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        Result r = DaemonProcess.run(Map.of("DLREPO_ROOT_DIR", file.toString(), "DLREPO_AUTH_DISABLED", "1"),
                "--check-config");
        assertEquals(2, r.exit(), r.all());
        assertEquals("dlrepo: DLREPO_ROOT_DIR=" + file + ": it is a file, not a folder\n", r.err());
    }

    private Map<String, String> authEnv(Path root, String devsAcl) throws Exception {
        Path auth = Files.writeString(tmp.resolve("auth"), "alice:alice-pw:devs\nbob:bob-pw:devs\n");
        Path acls = Files.createDirectories(tmp.resolve("acls"));
        Files.writeString(acls.resolve("devs"), devsAcl);
        Map<String, String> env = new HashMap<>();
        env.put("DLREPO_ROOT_DIR", root.toString());
        env.put("DLREPO_AUTH_FILE", auth.toString());
        env.put("DLREPO_ACLS_DIR", acls.toString());
        return env;
    }
}
