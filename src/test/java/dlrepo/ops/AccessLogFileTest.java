package dlrepo.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Check;
import dlrepo.DaemonProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DLREPO_ACCESS_LOG: stderr (on), nowhere (off), or a file reopened on SIGHUP after logrotate moved it. */
class AccessLogFileTest {
    @TempDir
    Path tmp;

    private final HttpClient http = HttpClient.newHttpClient();

    private void get(DaemonProcess d, String path) throws Exception {
        http.send(HttpRequest.newBuilder(URI.create(d.url(path))).build(), HttpResponse.BodyHandlers.discarding());
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void fileReopenedOnSighup() throws Exception {
        Path file = tmp.resolve("logs/access.log");
        Files.createDirectories(file.getParent());
        Path rotated = tmp.resolve("logs/access.log.1");
        try (DaemonProcess d = DaemonProcess.start(tmp.resolve("root"), Map.of("DLREPO_ACCESS_LOG", file.toString()))) {
            get(d, "/branches/first/");
            assertTrue(Check.eventually(10_000, () -> read(file).contains("/branches/first/")), read(file));
            assertFalse(d.log().contains("/branches/first/"), "also on stderr: " + d.log());

            Files.move(file, rotated); // logrotate
            get(d, "/branches/second/");
            assertTrue(Check.eventually(10_000, () -> read(rotated).contains("/branches/second/")),
                    "the open file is written until SIGHUP: " + read(rotated));
            d.signal("HUP");
            assertTrue(Check.eventually(10_000, () -> Files.exists(file)), "not reopened");
            get(d, "/branches/third/");
            assertTrue(Check.eventually(10_000, () -> read(file).contains("/branches/third/")), read(file));
            assertFalse(read(rotated).contains("/branches/third/"), read(rotated));
            assertFalse(read(file).contains("/branches/second/"), read(file));
            assertEquals(1, read(file).lines().filter(l -> l.contains("/branches/third/")).count(), read(file));

            d.signal("TERM");
            assertEquals(0, d.waitFor(30), d.log());
            assertFalse(d.log().contains("/branches/"), "access lines on stderr: " + d.log());
        }
    }

    @Test
    void onWritesToStderrOffWritesNothing() throws Exception {
        try (DaemonProcess d = DaemonProcess.start(tmp.resolve("root"), Map.of())) {
            get(d, "/branches/logged-on-stderr/");
            d.signal("TERM"); // the queued lines are written out before the exit
            assertEquals(0, d.waitFor(30), d.log());
            assertEquals(1, d.log().lines().filter(l -> l.contains("/branches/logged-on-stderr/")).count(), d.log());
        }
        // with syslog output, at the info priority that journald reads
        try (DaemonProcess d = DaemonProcess.start(tmp.resolve("root"), Map.of("DLREPO_LOG_OUTPUT", "syslog"))) {
            get(d, "/branches/logged-for-journald/");
            d.signal("TERM");
            assertEquals(0, d.waitFor(30), d.log());
            assertEquals(1, d.log().lines().filter(l -> l.startsWith("<6>") && l.contains("/branches/logged-for-journald/"))
                    .count(), d.log());
        }
        try (DaemonProcess d = DaemonProcess.start(tmp.resolve("root"), Map.of("DLREPO_ACCESS_LOG", "off"))) {
            get(d, "/branches/not-logged/");
            d.signal("TERM");
            assertEquals(0, d.waitFor(30), d.log());
            assertFalse(d.log().contains("/branches/not-logged/"), d.log());
        }
    }
}
