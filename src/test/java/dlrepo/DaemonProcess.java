package dlrepo;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The daemon as a real process ({@code java dlrepo.Main} on the test classpath), for what
 * needs one: signals, exit codes, heap limits, start-up refusals. Its stderr goes to a
 * file the test can read.
 */
public final class DaemonProcess implements AutoCloseable {
    private final Process process;
    private final Path log;
    private final int port;

    private DaemonProcess(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Starts the process without waiting for it to listen. */
    public static DaemonProcess spawn(Path root, Map<String, String> env, String... jvmArgs) throws IOException {
        return spawn(root, env, List.of(), jvmArgs);
    }

    /** Starts the process with the file mode creation mask {@code umask} (octal, e.g. "077") and waits. */
    public static DaemonProcess startWithUmask(Path root, Map<String, String> env, String umask) throws Exception {
        DaemonProcess d = spawn(root, env, List.of("sh", "-c", "umask " + umask + " && exec \"$@\"", "sh"));
        d.awaitReady();
        return d;
    }

    /** Starts the process listening on {@code port} (a restart on the port of a stopped one) and waits. */
    public static DaemonProcess startOnPort(int port, Path root, Map<String, String> env) throws Exception {
        DaemonProcess d = spawn(port, root, env, List.of());
        d.awaitReady();
        return d;
    }

    private static DaemonProcess spawn(Path root, Map<String, String> env, List<String> wrapper, String... jvmArgs)
            throws IOException {
        return spawn(freePort(), root, env, wrapper, jvmArgs);
    }

    /**
     * Starts the process with its stdout and stderr going to {@code output} (e.g. a FIFO the
     * test holds open and never reads) and waits; {@link #log()} is then not readable.
     */
    public static DaemonProcess startWithOutput(Path root, Map<String, String> env, Path output) throws Exception {
        DaemonProcess d = spawn(freePort(), root, env, List.of(), output);
        d.awaitReady();
        return d;
    }

    private static DaemonProcess spawn(int port, Path root, Map<String, String> env, List<String> wrapper,
            String... jvmArgs) throws IOException {
        return spawn(port, root, env, wrapper, Files.createTempFile("dlrepo-daemon-", ".log"), jvmArgs);
    }

    private static DaemonProcess spawn(int port, Path root, Map<String, String> env, List<String> wrapper,
            Path log, String... jvmArgs) throws IOException {
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(jvmArgs));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dlrepo.Main");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("DLREPO_"));
        pb.environment().put("DLREPO_ROOT_DIR", root.toString());
        pb.environment().put("DLREPO_LISTEN_PORT", Integer.toString(port));
        pb.environment().put("DLREPO_LOG_OUTPUT", "console");
        pb.environment().put("DLREPO_AUTH_DISABLED", "1");
        pb.environment().putAll(env);
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        return new DaemonProcess(pb.start(), log, port);
    }

    /** What a run of {@code dlrepo.Main} to its end gave: exit status, stdout, stderr. */
    public record Result(int exit, String out, String err) {
        public String all() {
            return out + err;
        }
    }

    /**
     * Runs {@code java dlrepo.Main args...} to its end (at most 60 s) with only the
     * {@code DLREPO_*} variables of {@code env} (nothing else of the test's DLREPO_* settings).
     */
    public static Result run(Map<String, String> env, String... args) throws Exception {
        return run(List.of(), env, args);
    }

    /** The same, the java command prefixed by {@code wrapper} (e.g. setpriv ...). */
    public static Result run(List<String> wrapper, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dlrepo.Main");
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("DLREPO_"));
        pb.environment().putAll(env);
        Path out = Files.createTempFile("dlrepo-run-", ".out");
        Path err = Files.createTempFile("dlrepo-run-", ".err");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new IllegalStateException(String.join(" ", args) + ": still running after 60 s: "
                        + Files.readString(out) + Files.readString(err));
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Starts the process and waits until it answers HTTP. */
    public static DaemonProcess start(Path root, Map<String, String> env, String... jvmArgs) throws Exception {
        DaemonProcess d = spawn(root, env, jvmArgs);
        d.awaitReady();
        return d;
    }

    public void awaitReady() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("daemon exited " + process.exitValue() + ": " + log());
            }
            try {
                HttpURLConnection c = (HttpURLConnection) URI.create(url("/")).toURL().openConnection();
                c.setConnectTimeout(500);
                c.getResponseCode();
                c.disconnect();
                return;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("daemon not ready: " + log());
    }

    public int port() {
        return port;
    }

    public String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    /** Sends a signal by name (USR1, TERM, HUP...) with kill(1). */
    public void signal(String name) throws Exception {
        int rc = new ProcessBuilder("kill", "-" + name, Long.toString(pid())).inheritIO().start().waitFor();
        if (rc != 0) {
            throw new IllegalStateException("kill -" + name + " failed");
        }
    }

    public int waitFor(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new IllegalStateException("daemon still running after " + seconds + "s");
        }
        return process.exitValue();
    }

    public String log() throws IOException {
        if (!Files.isRegularFile(log)) {
            return "(output to " + log + ")";
        }
        return Files.readString(log);
    }

    @Override
    public void close() throws IOException {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (Files.isRegularFile(log)) {
            Files.deleteIfExists(log);
        }
    }
}
