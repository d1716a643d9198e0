package dlrepo.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dlrepo.DaemonProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM as soon as the port accepts connections (a supervisor stopping a service that
 * just started): a clean exit 0, never 143 (killed by the signal before its handler).
 */
class EarlySignalTest {
    @TempDir
    Path tmp;

    @Test
    void termRightAfterTheListenerOpensExitsZero() throws Exception {
        for (int run = 0; run < 10; run++) {
            try (DaemonProcess d = DaemonProcess.spawn(tmp.resolve("root"), Map.of())) {
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (!accepts(d.port())) {
                    if (!d.process().isAlive() || System.nanoTime() > deadline) {
                        fail("run " + run + ": the daemon never listened: " + d.log());
                    }
                    Thread.sleep(5);
                }
                d.signal("TERM");
                assertEquals(0, d.waitFor(30), "run " + run + ": " + d.log());
            }
        }
    }

    /** SIGTERM in the middle of start-up (before the listener): exit 0, and the root is free for the next one. */
    @Test
    void termWhileStartingExitsZero() throws Exception {
        Path root = tmp.resolve("root");
        for (int run = 0; run < 3; run++) {
            try (DaemonProcess d = DaemonProcess.spawn(root, Map.of())) {
                long deadline = System.nanoTime() + 30_000_000_000L;
                // the first line Daemon.start() logs, before it opens the root and the port
                while (!d.log().contains("NO AUTHENTICATION")) {
                    if (!d.process().isAlive() || System.nanoTime() > deadline) {
                        fail("run " + run + ": the daemon never started: " + d.log());
                    }
                    Thread.sleep(2);
                }
                d.signal("TERM");
                assertEquals(0, d.waitFor(30), "run " + run + ": " + d.log());
            }
        }
        try (DaemonProcess d = DaemonProcess.start(root, Map.of())) {
            d.signal("TERM");
            assertEquals(0, d.waitFor(30), d.log());
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 100);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
