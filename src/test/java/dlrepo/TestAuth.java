package dlrepo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An authentication set-up for a test daemon: a temporary auth file ({@code auth}) and ACL
 * folder ({@code acls/}), written as the test adds users and rules, and the environment of
 * a daemon that checks them.
 */
public final class TestAuth implements AutoCloseable {
    public final Path dir;
    public final Path authFile;
    public final Path aclsDir;
    private final List<String> users = new ArrayList<>();

    public TestAuth() throws IOException {
        dir = Files.createTempDirectory("dlrepo-auth-");
        authFile = dir.resolve("auth");
        aclsDir = Files.createDirectory(dir.resolve("acls"));
        Files.writeString(authFile, "");
    }

    /** Adds a {@code login:password:groups} line to the auth file (written at once). */
    public TestAuth user(String login, String password, String... groups) throws IOException {
        return line(login + ":" + password + ":" + String.join(" ", groups));
    }

    /** Adds a raw line to the auth file (written at once). */
    public TestAuth line(String line) throws IOException {
        users.add(line);
        Files.writeString(authFile, String.join("\n", users) + "\n");
        return this;
    }

    /** Replaces the whole auth file. */
    public TestAuth authFileText(String text) throws IOException {
        users.clear();
        users.addAll(List.of(text.split("\n", -1)));
        Files.writeString(authFile, text);
        return this;
    }

    /** Writes the ACL file of {@code group} (replacing it). */
    public TestAuth acl(String group, String... lines) throws IOException {
        Files.writeString(aclsDir.resolve(group), String.join("\n", lines) + "\n");
        return this;
    }

    /** The environment of a daemon with authentication on, plus {@code extra} key/value pairs. */
    public Map<String, String> env(String... extra) {
        Map<String, String> env = new HashMap<>();
        env.put("DLREPO_AUTH_DISABLED", "0");
        env.put("DLREPO_AUTH_FILE", authFile.toString());
        env.put("DLREPO_ACLS_DIR", aclsDir.toString());
        env.put("DLREPO_TAG_CLEANUP_PERIOD", "0");
        // tests try many wrong credentials from one address; security/LoginThrottleTest sets its limits
        env.put("DLREPO_AUTH_MAX_FAILURES", "0");
        for (int i = 0; i + 1 < extra.length; i += 2) {
            env.put(extra[i], extra[i + 1]);
        }
        return env;
    }

    /** A daemon on a fresh temporary root checking this set-up. */
    public TestServer start(String... extra) throws IOException {
        return TestServer.start(env(extra));
    }

    @Override
    public void close() throws IOException {
        TestServer.deleteTree(dir);
    }
}
