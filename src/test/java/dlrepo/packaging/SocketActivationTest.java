package dlrepo.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The daemon under {@code systemd-socket-activate} (Debian's {@code systemd} package), which
 * stands in for dlrepo.socket: the listening socket on standard input ({@code --inetd},
 * what {@code StandardInput=socket} does) or as fd 3 with {@code LISTEN_FDS}, over IPv4 and
 * IPv6; readiness sent to {@code NOTIFY_SOCKET}; SIGTERM exits 0 with the last log lines
 * still written. Skipped where systemd-socket-activate is missing (CI installs it).
 */
class SocketActivationTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private Path tmp;
    private final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        tmp = Files.createTempDirectory("dlrepo-activation-");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Process p : processes) {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        try (Stream<Path> s = Files.walk(tmp)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void standardInputIPv4() throws Exception {
        run(Mode.STDIN, "127.0.0.1");
    }

    @Test
    void listenFdsIPv4() throws Exception {
        run(Mode.FD3, "127.0.0.1");
    }

    @Test
    void standardInputIPv6() throws Exception {
        assumeTrue(ipv6(), "no IPv6 loopback here");
        run(Mode.STDIN, "::1");
    }

    @Test
    void listenFdsIPv6() throws Exception {
        assumeTrue(ipv6(), "no IPv6 loopback here");
        run(Mode.FD3, "::1");
    }

    /** READY=1 reaches NOTIFY_SOCKET (through systemd-notify) once the daemon answers. */
    @Test
    void notifiesReadiness() throws Exception {
        assumeTrue(executable("systemd-notify").isPresent(), "systemd-notify not installed");
        Optional<Path> python = executable("python3");
        assumeTrue(python.isPresent(), "python3 not installed");
        Path notifySocket = tmp.resolve("notify");
        // Java 17 cannot receive on a UNIX datagram socket: a tiny python3 listener does
        Process listener = start(new ProcessBuilder(python.get().toString(), "-c", String.join("\n",
                "import socket, sys",
                "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
                "s.bind(sys.argv[1])",
                "s.settimeout(120)",
                "print('bound', flush=True)",
                "while True:",
                "    m = s.recv(4096).decode()",
                "    print(m.replace('\\n', ' '), flush=True)",
                "    if 'READY=1' in m.split('\\n'):",
                "        break"), notifySocket.toString()).redirectError(ProcessBuilder.Redirect.INHERIT));
        BufferedReader messages = new BufferedReader(
                new InputStreamReader(listener.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("bound", messages.readLine());

        Daemon d = spawn(Mode.FD3, "127.0.0.1", Map.of("NOTIFY_SOCKET", notifySocket.toString(),
                "PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin")));
        assertEquals(200, d.get("/branches/").statusCode());
        assertTrue(listener.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "no READY=1 within " + TIMEOUT);
        StringBuilder received = new StringBuilder();
        for (String line; (line = messages.readLine()) != null; ) {
            received.append(line).append('\n');
        }
        assertTrue(received.toString().contains("READY=1"), received.toString());
        assertTrue(received.toString().contains("MAINPID=" + d.process.pid()), received.toString());
        d.stop();
    }

    /** The inherited socket has the same limits as a bound one: here, DLREPO_HEADER_TIMEOUT. */
    @Test
    void inheritedSocketCutsSlowHeaders() throws Exception {
        Daemon d = spawn(Mode.FD3, "127.0.0.1", Map.of("DLREPO_HEADER_TIMEOUT", "2"));
        assertEquals(200, d.get("/branches/").statusCode());
        try (java.net.Socket sock = new java.net.Socket("127.0.0.1", d.port)) {
            sock.setSoTimeout(15000);
            var out = sock.getOutputStream();
            out.write("GET /branches/ HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            long t0 = System.nanoTime();
            int read = 0;
            try {
                while (read == 0 && System.nanoTime() - t0 < 12_000_000_000L) {
                    out.write("X-Slow: 1\r\n".getBytes(StandardCharsets.US_ASCII));
                    Thread.sleep(300);
                    sock.setSoTimeout(1);
                    try {
                        read = sock.getInputStream().read();
                        read = read == -1 ? -1 : 0;
                    } catch (java.net.SocketTimeoutException e) {
                        read = 0;
                    }
                }
            } catch (IOException e) {
                read = -1;
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(-1, read, "closed by the server");
            assertTrue(ms < 8000, "closed after the header timeout, not " + ms + " ms");
        }
        d.stop();
    }

    private void run(Mode mode, String host) throws Exception {
        Daemon d = spawn(mode, host, Map.of());
        HttpResponse<String> r = d.get("/branches/");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"branches\""), r.body());
        assertEquals(200, d.get("/branches/").statusCode(), "second request on a new connection");

        // systemd-socket-activate execs the command: the JVM has its pid
        String command = d.process.info().command().orElse("");
        assertTrue(command.endsWith("/java"), "pid " + d.process.pid() + " runs " + command);

        String log = d.log();
        String how = mode == Mode.STDIN ? "(standard input)" : "(LISTEN_FDS (fd 3))";
        assertTrue(log.contains("serving " + d.root + " on the socket from systemd " + how), log);
        assertFalse(log.contains(" on http://"), "the daemon bound a port itself:\n" + log);

        // The only listening socket on the port is the inherited one, held as fd 0 or 3.
        List<Long> listening = listeningInodes(d.port);
        assertEquals(1, listening.size(), "listening sockets on port " + d.port + ": " + listening);
        int fd = mode == Mode.STDIN ? 0 : 3;
        Path fdLink = Path.of("/proc", Long.toString(d.process.pid()), "fd", Integer.toString(fd));
        assertEquals("socket:[" + listening.get(0) + "]", Files.readSymbolicLink(fdLink).toString(),
                "fd " + fd + " of the JVM");

        d.stop();
        String after = d.log();
        int stopping = after.indexOf("stopping");
        assertTrue(stopping >= 0, "no 'stopping' line after SIGTERM:\n" + after);
        assertTrue(after.indexOf("stopped", stopping) > 0, "no 'stopped' line after SIGTERM:\n" + after);
    }

    private enum Mode { STDIN, FD3 }

    private final class Daemon {
        final Process process;
        final Path root;
        final Path logFile;
        final String host;
        final int port;
        final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();

        Daemon(Process process, Path root, Path logFile, String host, int port) {
            this.process = process;
            this.root = root;
            this.logFile = logFile;
            this.host = host;
            this.port = port;
        }

        String log() throws IOException {
            return Files.readString(logFile, StandardCharsets.UTF_8);
        }

        HttpResponse<String> get(String path) throws Exception {
            String h = host.contains(":") ? "[" + host + "]" : host;
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://" + h + ":" + port + path))
                    .timeout(TIMEOUT).build();
            try {
                return client.send(req, HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new IOException(e + "; log:\n" + log(), e);
            }
        }

        /** SIGTERM to the JVM: it drains and exits 0. */
        void stop() throws Exception {
            process.destroy();
            assertTrue(process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "still running after SIGTERM");
            assertEquals(0, process.exitValue(), "exit status after SIGTERM; log:\n" + log());
        }
    }

    private Daemon spawn(Mode mode, String host, Map<String, String> extraEnv) throws Exception {
        Optional<Path> activate = executable("systemd-socket-activate");
        assumeTrue(activate.isPresent(), "systemd-socket-activate not installed (Debian package systemd)");
        Path root = Files.createDirectories(tmp.resolve("root-" + mode + "-" + host.replace(':', '_')));
        Path log = tmp.resolve("daemon-" + mode + "-" + host.replace(':', '_') + ".log");
        int port = freePort(host);

        List<String> cmd = new ArrayList<>();
        cmd.add(activate.get().toString());
        if (mode == Mode.STDIN) {
            cmd.add("--inetd");
        }
        cmd.add("-l");
        cmd.add((host.contains(":") ? "[" + host + "]" : host) + ":" + port);
        // systemd-socket-activate passes no environment but these
        Map<String, String> env = new TreeMap<>();
        env.put("DLREPO_AUTH_DISABLED", "1");
        env.put("DLREPO_ROOT_DIR", root.toString());
        env.put("DLREPO_LOG_LEVEL", "INFO");
        env.put("DLREPO_LOG_OUTPUT", "console");
        env.putAll(extraEnv);
        env.forEach((k, v) -> {
            cmd.add("-E");
            cmd.add(k + "=" + v);
        });
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx128m");
        cmd.add("--add-opens");
        cmd.add("java.base/sun.nio.ch=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dlrepo.Main");

        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("DLREPO_") || k.startsWith("LISTEN_")
                || k.equals("NOTIFY_SOCKET"));
        Process p = start(pb);
        // systemd-socket-activate listens at once, and starts the command on the first connection
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!Files.readString(log, StandardCharsets.UTF_8).contains("Listening on")) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("systemd-socket-activate did not listen: "
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
            Thread.sleep(20);
        }
        return new Daemon(p, root, log, host, port);
    }

    private Process start(ProcessBuilder pb) throws IOException {
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    /** Inodes of the TCP sockets listening on this port (any address), from /proc/net. */
    private static List<Long> listeningInodes(int port) throws IOException {
        List<Long> inodes = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path t = Path.of(table);
            if (!Files.exists(t)) {
                continue;
            }
            for (String line : Files.readAllLines(t)) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 10 || !f[1].contains(":") || !f[3].equals("0A")) {
                    continue; // header, or not LISTEN
                }
                String local = f[1];
                int p = Integer.parseInt(local.substring(local.lastIndexOf(':') + 1), 16);
                if (p == port) {
                    inodes.add(Long.parseLong(f[9]));
                }
            }
        }
        return inodes;
    }

    private static int freePort(String host) throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            return s.getLocalPort();
        }
    }

    private static boolean ipv6() {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static Optional<Path> executable(String name) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : (path + ":/usr/bin:/bin:/usr/sbin:/sbin").split(":")) {
            if (!dir.isEmpty()) {
                Path p = Path.of(dir, name);
                if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                    return Optional.of(p.toAbsolutePath());
                }
            }
        }
        return Optional.empty();
    }
}
