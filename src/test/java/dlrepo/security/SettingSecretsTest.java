package dlrepo.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.DaemonProcess;
import dlrepo.DaemonProcess.Result;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Settings may hold secrets (a URL's user and password, a Java option's password): neither
 * --check-config nor a configuration error at start-up (which lands in the journal) prints
 * them. Fails before the fix: a password holding '/' or '@' was printed in part or whole,
 * and errors repeated the value as it was.
 */
class SettingSecretsTest {
    @TempDir
    Path tmp;

    @Test
    void checkConfigHidesPasswordsWithSlashesAndAts() throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("DLREPO_ROOT_DIR", tmp.resolve("root").toString());
        env.put("DLREPO_AUTH_DISABLED", "1");
        env.put("DLREPO_PUBLIC_URL", "https://deploy:p@ss/w0rd@dl.example.org");
        env.put("DLREPO_PRIMARY_URL", "https://u:pa/ss1@primary.example.org");
        env.put("DLREPO_JAVA_OPTS", "-Xss1m -Djavax.net.ssl.keyStorePassword=KSPASS");
        Result r = DaemonProcess.run(env, "--check-config");
        assertEquals(0, r.exit(), r.all());
        for (String secret : new String[] {"w0rd", "p@ss", "pa/ss1", "KSPASS", "deploy"}) {
            assertFalse(r.all().contains(secret), secret + " printed:\n" + r.all());
        }
        assertTrue(r.out().contains("DLREPO_PUBLIC_URL=https://***@dl.example.org\n"), r.out());
    }

    @Test
    void configurationErrorsHideTheSecretsOfTheValue() throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("DLREPO_ROOT_DIR", tmp.resolve("root").toString());
        env.put("DLREPO_AUTH_DISABLED", "1");
        env.put("DLREPO_PUBLISH_URL", "https://publisher:s3cr3t@dl.example.org?x=1");
        for (String[] args : new String[][] {{"--check-config"}, {}}) {
            Result r = DaemonProcess.run(env, args);
            assertEquals(2, r.exit(), r.all());
            assertTrue(r.err().contains("DLREPO_PUBLISH_URL="), r.all());
            assertFalse(r.all().contains("s3cr3t"), r.all());
            assertFalse(r.all().contains("publisher:"), r.all());
        }
    }
}
