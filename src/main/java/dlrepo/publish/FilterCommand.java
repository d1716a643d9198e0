package dlrepo.publish;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DLREPO_PUBLISH_FILTER_CMD: {@code <cmd> <url>} run in the tag's folder decides whether the
 * tag goes to that server (exit status 0). Killed at the run's deadline for that server.
 */
final class FilterCommand {
    private static final Logger LOG = LoggerFactory.getLogger(FilterCommand.class);
    private static final int MAX_OUTPUT = 64 * 1024;

    private final Path command;
    private final long timeoutSeconds;

    FilterCommand(Path command, long timeoutSeconds) {
        this.command = command;
        this.timeoutSeconds = timeoutSeconds;
    }

    /** Whether the tag in {@code tagDir} is to be published to {@code url}. */
    boolean accepts(Path tagDir, String url, Instant deadline) throws PublishException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(command.toString(), url)
                    .directory(tagDir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            throw new PublishException("DLREPO_PUBLISH_FILTER_CMD: cannot run " + command + ": " + e.getMessage(), e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> drain(p.getInputStream(), out), "publish-filter-output");
        reader.setDaemon(true);
        reader.start();
        try {
            long left = Duration.between(Instant.now(), deadline).toMillis();
            if (left <= 0 || !p.waitFor(left, TimeUnit.MILLISECONDS)) {
                kill(p);
                throw new RemoteException(url, "DLREPO_PUBLISH_FILTER_CMD " + command + " killed: timed out after "
                        + timeoutSeconds + " s (DLREPO_PUBLISH_TIMEOUT)");
            }
        } catch (InterruptedException e) {
            kill(p);
            throw e;
        }
        reader.join(1000);
        String output;
        synchronized (out) {
            output = out.toString(StandardCharsets.UTF_8).strip();
        }
        int status = p.exitValue();
        if (status == 0) {
            LOG.debug("{} {}: exit 0, publishing there{}", command, url, output.isEmpty() ? "" : ": " + output);
            return true;
        }
        LOG.info("{} {} (in {}): exit status {}, not publishing there{}", command, url, tagDir, status,
                output.isEmpty() ? "" : ": " + output);
        return false;
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    private static void drain(InputStream in, ByteArrayOutputStream out) {
        byte[] buf = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                synchronized (out) {
                    if (out.size() < MAX_OUTPUT) {
                        out.write(buf, 0, Math.min(n, MAX_OUTPUT - out.size()));
                    }
                }
            }
        } catch (IOException e) {
            // the process was killed
        }
    }
}
