package dlrepo;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A small tmpfs mounted for one test (full disks, read-only file systems). Needs root:
 * fails, never skips, without it (the CI runs as root).
 */
public final class Tmpfs implements AutoCloseable {
    private final Path dir;

    private Tmpfs(Path dir) {
        this.dir = dir;
    }

    public static Tmpfs mount(long kib) throws Exception {
        Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        if (!Integer.valueOf(0).equals(uid)) {
            fail("mounting a tmpfs needs root (the CI runs as root), uid is " + uid);
        }
        Path dir = Files.createTempDirectory("dlrepo-tmpfs-");
        run("mount", "-t", "tmpfs", "-o", "size=" + kib + "k,mode=0755", "tmpfs", dir.toString());
        return new Tmpfs(dir);
    }

    public Path path() {
        return dir;
    }

    /** Writes {@code file} until the file system is full. */
    public static void fill(Path file) throws IOException {
        byte[] buf = new byte[4096];
        try (OutputStream out = Files.newOutputStream(file)) {
            while (true) {
                out.write(buf);
            }
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("No space left")) {
                throw e;
            }
        }
    }

    public void readOnly(boolean ro) throws Exception {
        run("mount", "-o", "remount," + (ro ? "ro" : "rw"), dir.toString());
    }

    @Override
    public void close() throws Exception {
        run("umount", "-l", dir.toString());
        Files.deleteIfExists(dir);
    }

    public static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
