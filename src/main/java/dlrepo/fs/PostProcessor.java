package dlrepo.fs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code DLREPO_POST_PROCESS_CMD}: an executable run without arguments in a private copy
 * of a format being finalized, when some file path matches {@code DLREPO_POST_PROCESS_FILTER}
 * (from its start) or no filter is set.
 */
public final class PostProcessor {
    private static final Logger LOG = LoggerFactory.getLogger(PostProcessor.class);
    private static final int OUTPUT_TAIL = 2000;

    private final Optional<Path> command;
    private final Optional<Pattern> filter;
    private final long timeoutSeconds;

    public PostProcessor(Optional<Path> command, Optional<Pattern> filter, long timeoutSeconds) {
        this.command = command;
        this.filter = filter;
        this.timeoutSeconds = timeoutSeconds;
    }

    public static PostProcessor none() {
        return new PostProcessor(Optional.empty(), Optional.empty(), 1);
    }

    public boolean appliesTo(Collection<String> files) {
        if (command.isEmpty()) {
            return false;
        }
        return filter.map(p -> files.stream().anyMatch(f -> p.matcher(f).lookingAt())).orElse(true);
    }

    /** Runs the command in {@code workDir}; a failure is a POST_PROCESS_FAILED error. */
    void run(Path workDir, Path log, Path formatDir) throws IOException {
        try {
            Process p = new ProcessBuilder(command.orElseThrow().toString())
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            boolean done;
            try {
                done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while post-processing " + formatDir);
            }
            String output = tail(log);
            if (!done) {
                p.destroyForcibly();
                fail(formatDir, "timed out after " + timeoutSeconds + "s", output);
            }
            if (p.exitValue() != 0) {
                fail(formatDir, "exited with status " + p.exitValue(), output);
            }
            LOG.info("post-processed {}{}", formatDir, output.isEmpty() ? "" : ": " + output);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /**
     * The command's path and output may tell secrets (a signing tool printing its key
     * file, passphrase or environment): they go to the log only. The client learns that
     * post-processing failed and how (status, timeout).
     */
    private void fail(Path formatDir, String what, String output) {
        LOG.warn("{}: post-process command {} {}{}", formatDir, command.orElseThrow(), what,
                output.isEmpty() ? " (no output)" : ", its output:\n" + output);
        throw new RepoException(RepoException.Kind.POST_PROCESS_FAILED,
                "The post-process command " + what + ": the format stays dirty (details in the server's log)");
    }

    /** The end of the command's output (it may have written a lot). */
    private static String tail(Path log) throws IOException {
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(log.toFile(), "r")) {
            long start = Math.max(0, f.length() - OUTPUT_TAIL);
            byte[] b = new byte[(int) (f.length() - start)];
            f.seek(start);
            f.readFully(b);
            return new String(b, StandardCharsets.UTF_8).strip();
        }
    }
}
