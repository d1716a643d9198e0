package dlrepo.security;

import static dlrepo.Check.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dlrepo.Caller;
import dlrepo.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A post-process command that fails (a signing tool printing its secrets while it dies):
 * the client is told that post-processing failed, never the command's path nor its
 * output; both go to the server's log, and the format stays dirty as before.
 */
class PostProcessLeakTest {
    private static final String SECRET = "SIGNING-KEY-PASSPHRASE=hunter2-e5f1";

    /** Runs {@code script} as the post-process command; returns the answer to finalizing and the WARN+ log. */
    private static String[] finalizeWith(Path tmp, String script, Map<String, String> env, String expectInAnswer)
            throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("private-tools-dir"));
        Path cmd = dir.resolve("sign-with-secret-key.sh");
        Files.writeString(cmd, "#!/bin/sh\n" + script);
        Files.setPosixFilePermissions(cmd, PosixFilePermissions.fromString("rwx------"));
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("DLREPO_POST_PROCESS_CMD", cmd.toString());
        Logger logger = (Logger) LoggerFactory.getLogger("dlrepo");
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        logger.addAppender(log);
        try (TestServer x = TestServer.start(all)) {
            Caller c = x.anonymous();
            String url = "/branches/b/t/j/deb/";
            assertEquals(201, c.upload(url + "a.deb", "a\n").statusCode());
            HttpResponse<String> r = c.send("PATCH", url);
            String msg = assertError(r, 500, expectInAnswer);
            String answer = r.headers().map() + "\n" + r.body();
            // the format stays dirty, its file untouched
            Path fmt = x.root().resolve("branches/b/t/j/deb");
            assertTrue(Files.exists(fmt.resolve(".dirty")), "stays dirty");
            assertEquals("a\n", Files.readString(fmt.resolve("a.deb")));
            assertEquals(404, c.head(url).statusCode());
            assertTrue(msg.length() < 200, "a short message: " + msg);
            String warnings = log.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                    .map(ILoggingEvent::getFormattedMessage).collect(Collectors.joining("\n"));
            return new String[] {answer, warnings, cmd.toString(), dir.toString()};
        } finally {
            logger.detachAppender(log);
        }
    }

    private static void assertNoLeak(String[] r) {
        String answer = r[0];
        assertFalse(answer.contains(SECRET), answer);
        assertFalse(answer.contains("hunter2"), answer);
        assertFalse(answer.contains(r[2]), "command path in: " + answer);
        assertFalse(answer.contains("private-tools-dir"), answer);
        assertFalse(answer.contains("sign-with-secret-key"), answer);
        assertFalse(answer.contains(".uploads"), "work folder in: " + answer);
        String log = r[1];
        assertTrue(log.contains(SECRET), "the output is logged at WARN or above: " + log);
        assertTrue(log.contains(r[2]), "the command is logged: " + log);
        assertTrue(log.contains("branches/b/t/j/deb"), "the format is logged: " + log);
    }

    @Test
    void failingCommandOutputStaysInTheLog(@TempDir Path tmp) throws Exception {
        assertNoLeak(finalizeWith(tmp, "echo 'signing with " + SECRET + "'\necho \"$0: " + SECRET + "\" >&2\nexit 3\n",
                Map.of(), "3"));
    }

    @Test
    void timedOutCommandOutputStaysInTheLog(@TempDir Path tmp) throws Exception {
        assertNoLeak(finalizeWith(tmp, "echo 'signing with " + SECRET + "'\nsleep 30\n",
                Map.of("DLREPO_POST_PROCESS_TIMEOUT", "1"), "timed out"));
    }
}
