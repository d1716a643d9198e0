package dlrepo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Runs the project's {@code dlrepo-cli} with {@code python3}, as a user would: a separate
 * process, its own environment (no DLREPO_* or ~/.netrc of the machine leak in), output
 * captured. Plus helpers for local trees and digests.
 */
final class Cli {
    static final Path PROJECT = findProject();
    static final Path SCRIPT = PROJECT.resolve("dlrepo-cli");
    private static final Path EMPTY_HOME;
    /** python3 resolved once (a pyenv-style shim on PATH costs a few hundred ms per run). */
    static final String PYTHON = resolvePython();

    static {
        try {
            EMPTY_HOME = Files.createTempDirectory("dlrepo-cli-home-");
            EMPTY_HOME.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Cli() {
    }

    private static String resolvePython() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import sys; print(sys.executable)")
                    .redirectErrorStream(true).start();
            String exe = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (p.waitFor() == 0 && Files.isExecutable(Path.of(exe))) {
                return exe;
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            // fall back to PATH at each run
        }
        return "python3";
    }

    /** The project root: the first folder from user.dir upwards holding dlrepo-cli and pom.xml. */
    private static Path findProject() {
        Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path q = p; q != null; q = q.getParent()) {
            if (Files.isRegularFile(q.resolve("dlrepo-cli")) && Files.isRegularFile(q.resolve("pom.xml"))) {
                return q;
            }
        }
        throw new IllegalStateException("no dlrepo-cli above " + p);
    }

    /** What a run printed and how it ended. */
    record Result(int exit, String out, String err) {
        String all() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }

        Result ok() {
            assertEquals(0, exit, this::all);
            return this;
        }

        Result exit(int expected) {
            assertEquals(expected, exit, this::all);
            return this;
        }
    }

    /** The command line: python3 dlrepo-cli [-u url] args... */
    static ProcessBuilder builder(String url, Map<String, String> env, String... args) {
        return builder(SCRIPT, url, env, args);
    }

    static ProcessBuilder builder(Path script, String url, Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(PYTHON, script.toString()));
        if (url != null) {
            cmd.add("-u");
            cmd.add(url);
        }
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> e = pb.environment();
        e.keySet().removeIf(k -> k.startsWith("DLREPO_") || k.equals("NETRC") || k.startsWith("PYTHON"));
        e.put("HOME", EMPTY_HOME.toString());
        e.put("PYTHONIOENCODING", "utf-8");
        e.putAll(env);
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        return pb;
    }

    static Result run(String url, String... args) throws Exception {
        return run(url, Map.of(), args);
    }

    static Result run(String url, Map<String, String> env, String... args) throws Exception {
        return run(builder(url, env, args));
    }

    static Result run(ProcessBuilder pb) throws Exception {
        Path out = Files.createTempFile("dlrepo-cli-out-", ".txt");
        Path err = Files.createTempFile("dlrepo-cli-err-", ".txt");
        try {
            pb.redirectOutput(out.toFile());
            pb.redirectError(err.toFile());
            Process p = pb.start();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                fail("dlrepo-cli did not end in 300 s: " + pb.command() + "\n" + Files.readString(err));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    /** A file of {@code size} pseudo-random bytes (seeded), written 1 MiB at a time. */
    static void bigFile(Path file, long size, long seed) throws IOException {
        Files.createDirectories(file.getParent());
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        byte[] buf = new byte[1 << 20];
        try (OutputStream o = Files.newOutputStream(file)) {
            for (long left = size; left > 0; left -= buf.length) {
                for (int i = 0; i < buf.length; i += 8) {
                    long v = r.nextLong();
                    for (int k = 0; k < 8; k++) {
                        buf[i + k] = (byte) (v >>> (8 * k));
                    }
                }
                o.write(buf, 0, (int) Math.min(left, buf.length));
            }
        }
    }

    static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 20];
        try (var in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0;) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    /**
     * Relative path -> SHA-256 of every regular file below {@code root}; names starting with
     * '.' (and what is below them) are left out when {@code skipDot}.
     */
    static TreeMap<String, String> digests(Path root, boolean skipDot) throws Exception {
        TreeMap<String, String> map = new TreeMap<>();
        try (var s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                String rel = root.relativize(p).toString();
                if (skipDot && ("/" + rel).contains("/.")) {
                    continue;
                }
                map.put(rel, sha256(p));
            }
        }
        return map;
    }

    /** Parses {@code <hex>  <path>} lines. */
    static TreeMap<String, String> sums(String text) {
        TreeMap<String, String> map = new TreeMap<>();
        for (String line : text.split("\n")) {
            if (!line.isEmpty()) {
                map.put(line.substring(66), line.substring(0, 64));
            }
        }
        return map;
    }

    static long size(Path root) throws IOException {
        try (var s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    static void eventually(long seconds, BooleanSupplier cond, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (p == null || !Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var s = Files.walk(p)) {
            for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    /** A minimal ustar archive writer, to craft archives the server would never send. */
    static final class Tar {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Tar file(String name, byte[] data) {
            header(name, data.length, '0', "");
            out.writeBytes(data);
            out.writeBytes(new byte[(512 - data.length % 512) % 512]);
            return this;
        }

        Tar file(String name, String text) {
            return file(name, text.getBytes(StandardCharsets.UTF_8));
        }

        Tar entry(String name, char type, String link) {
            header(name, 0, type, link);
            return this;
        }

        byte[] bytes() {
            out.writeBytes(new byte[1024]);
            return out.toByteArray();
        }

        private void header(String name, long size, char type, String link) {
            byte[] h = new byte[512];
            put(h, 0, 100, name);
            put(h, 100, 8, "0000644");
            put(h, 108, 8, "0000000");
            put(h, 116, 8, "0000000");
            put(h, 124, 12, String.format("%011o", size));
            put(h, 136, 12, String.format("%011o", 1_700_000_000L));
            put(h, 148, 8, "        ");
            h[156] = (byte) type;
            put(h, 157, 100, link);
            put(h, 257, 6, "ustar");
            put(h, 263, 2, "00");
            put(h, 329, 8, "0000001");
            put(h, 337, 8, "0000003");
            int sum = 0;
            for (byte b : h) {
                sum += b & 0xff;
            }
            put(h, 148, 8, String.format("%06o", sum));
            h[154] = 0;
            h[155] = ' ';
            out.writeBytes(h);
        }

        private static void put(byte[] h, int off, int len, String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            System.arraycopy(b, 0, h, off, Math.min(b.length, len));
        }
    }
}
