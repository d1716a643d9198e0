package dlrepo.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dlrepo.DaemonProcess;
import dlrepo.DaemonProcess.Result;
import dlrepo.Tmpfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A root folder the daemon cannot use: exit 1 and one line naming the cause in words and
 * what to do, not the bare path of the failing call.
 */
class StartupErrorTest {
    @TempDir
    Path tmp;

    private static Result start(Path root, List<String> wrapper) throws Exception {
        return DaemonProcess.run(wrapper, Map.of("DLREPO_ROOT_DIR", root.toString(), "DLREPO_AUTH_DISABLED", "1",
                "DLREPO_LISTEN_PORT", Integer.toString(DaemonProcess.freePort()), "DLREPO_LOG_OUTPUT", "console"));
    }

    private static void refused(Path root, List<String> wrapper, String cause) throws Exception {
        Result r = start(root, wrapper);
        assertEquals(1, r.exit(), r.all());
        assertEquals("dlrepo: cannot start: DLREPO_ROOT_DIR=" + root + ": " + cause + "\n", r.err());
    }

    @Test
    void rootIsAFile() throws Exception {
        Path file = Files.writeString(tmp.resolve("file"), "x");
        refused(file, List.of(), "it is a file, not a folder");
        refused(file.resolve("sub"), List.of(), "it is a file, not a folder");
    }

    @Test
    void permissionDenied() throws Exception {
        Path locked = Files.createDirectories(tmp.resolve("locked"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-xr-xr-x"));
        String user = System.getProperty("user.name");
        Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        Path root = locked.resolve("root");
        // as root, without the capabilities that ignore file modes
        refused(root, List.of("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--inh-caps=-all"),
                "permission denied for user " + user + " (uid " + uid + "). Give it write access (chown -R " + user
                        + " " + root + ") or choose another DLREPO_ROOT_DIR (under systemd: ReadWritePaths= in "
                        + "systemctl edit dlrepo)");
    }

    @Test
    void readOnlyFileSystem() throws Exception {
        try (Tmpfs fs = Tmpfs.mount(256)) {
            Path root = Files.createDirectories(fs.path().resolve("root"));
            fs.readOnly(true);
            refused(root, List.of(), "read-only file system. Use a writable one, or DLREPO_READ_ONLY=1 for a replica");
            refused(fs.path().resolve("new"), List.of(),
                    "read-only file system. Use a writable one, or DLREPO_READ_ONLY=1 for a replica");
        }
    }

    @Test
    void fileSystemFull() throws Exception {
        try (Tmpfs fs = Tmpfs.mount(256)) {
            Path root = Files.createDirectories(fs.path().resolve("root"));
            Tmpfs.fill(fs.path().resolve("filler"));
            refused(root, List.of(), "no space left on its file system. Free some (df -h " + root + ")");
            Files.delete(fs.path().resolve("filler"));
            // with room again, it starts (and stops on SIGTERM)
            try (DaemonProcess d = DaemonProcess.start(root, Map.of())) {
                d.signal("TERM");
                assertEquals(0, d.waitFor(30), d.log());
            }
        }
    }
}
