package dlrepo.robustness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/** Helpers of the robustness tests: raw HTTP, the files of a root, deterministic data. */
final class Robust {
    static final ObjectMapper JSON = new ObjectMapper();

    private Robust() {
    }

    // ------------------------------------------------------------------ digests, data

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String hex(byte[] data) {
        return HexFormat.of().formatHex(sha256().digest(data));
    }

    static String fileHex(Path p) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(p)) {
            int n;
            while ((n = in.read(buf)) != -1) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** {@code n} pseudo-random bytes determined by {@code seed}. */
    static byte[] bytes(long seed, int n) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    /** Polls {@code cond} every 50 ms for up to {@code seconds}; returns its last value. */
    static boolean eventually(double seconds, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        while (true) {
            if (cond.getAsBoolean()) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(50);
        }
    }

    // ------------------------------------------------------------------ raw HTTP

    /** A request written byte for byte; returns the whole response (headers + body). */
    static byte[] rawExchange(int port, byte[] head, byte[] body) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30000);
            OutputStream out = s.getOutputStream();
            out.write(head);
            if (body != null) {
                out.write(body);
            }
            out.flush();
            return s.getInputStream().readAllBytes();
        }
    }

    /** Status of a response read by {@link #rawExchange}. */
    static int status(byte[] response) {
        String s = new String(response, 0, Math.min(response.length, 64), StandardCharsets.ISO_8859_1);
        if (!s.startsWith("HTTP/1.")) {
            throw new AssertionError("not an HTTP response: '" + s + "'");
        }
        return Integer.parseInt(s.substring(9, 12));
    }

    /** Raw {@code PUT <target>} with a correct {@code Digest} and {@code body}; the status. */
    static int rawPut(int port, String target, byte[] body, String... extraHeaders) throws IOException {
        StringBuilder head = new StringBuilder("PUT " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                + "Digest: sha256:" + hex(body) + "\r\nContent-Length: " + body.length + "\r\n");
        for (String h : extraHeaders) {
            head.append(h).append("\r\n");
        }
        head.append("\r\n");
        return status(rawExchange(port, head.toString().getBytes(StandardCharsets.ISO_8859_1), body));
    }

    /** Raw {@code <method> <target>}: the whole response as ISO-8859-1 text. */
    static String rawText(int port, String method, String target) throws IOException {
        byte[] r = rawExchange(port, (method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1), null);
        return new String(r, StandardCharsets.ISO_8859_1);
    }

    /** The body of a raw response (what follows the empty line). */
    static String body(String response) {
        int i = response.indexOf("\r\n\r\n");
        return i < 0 ? "" : response.substring(i + 4);
    }

    // ------------------------------------------------------------------ the root on disk

    /** The files of a format folder and their digests ({@code .digests} and its journal). */
    static Map<String, String> digests(Path formatDir) throws IOException {
        return new TreeMap<>(dlrepo.Layout.digests(formatDir));
    }

    /** Every entry below {@code dir} (files and folders), as relative paths, sorted. */
    static List<String> walk(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    /** The regular files below {@code dir}, relative, not counting dot-named entries. */
    static TreeSet<String> visibleFiles(Path dir) throws IOException {
        TreeSet<String> out = new TreeSet<>();
        try (Stream<Path> s = Files.walk(dir)) {
            s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).forEach(p -> {
                Path rel = dir.relativize(p);
                for (Path seg : rel) {
                    if (seg.toString().startsWith(".")) {
                        return;
                    }
                }
                out.add(rel.toString());
            });
        }
        return out;
    }

    /** The regular files of {@code .blobs} (relative paths like {@code sha256/ab/abcd...}). */
    static List<String> blobFiles(Path root) throws IOException {
        List<String> out = new ArrayList<>();
        Path blobs = root.resolve(".blobs");
        if (!Files.isDirectory(blobs)) {
            return out;
        }
        try (Stream<Path> s = Files.walk(blobs)) {
            s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                    .forEach(p -> out.add(blobs.relativize(p).toString()));
        }
        out.sort(null);
        return out;
    }

    static Path blob(Path root, String hex) {
        return root.resolve(".blobs/sha256").resolve(hex.substring(0, 2)).resolve(hex);
    }

    static List<String> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** {@link #list} for lambdas: an I/O error reads as an empty folder. */
    static List<String> listQuietly(Path dir) {
        try {
            return list(dir);
        } catch (IOException e) {
            return List.of();
        }
    }

    static int nlink(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
    }

    static Object inode(Path p) throws IOException {
        return Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
    }

    /** The format folders ({@code branches/b/t/j/f}) of a repository folder. */
    static List<Path> formats(Path repo) throws IOException {
        List<Path> out = new ArrayList<>();
        Path branches = repo.resolve("branches");
        for (String b : dirs(branches)) {
            for (String t : dirs(branches.resolve(b))) {
                for (String j : dirs(branches.resolve(b).resolve(t))) {
                    for (String f : dirs(branches.resolve(b).resolve(t).resolve(j))) {
                        out.add(branches.resolve(b).resolve(t).resolve(j).resolve(f));
                    }
                }
            }
        }
        return out;
    }

    private static List<String> dirs(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        for (String n : list(dir)) {
            if (!n.startsWith(".") && Files.isDirectory(dir.resolve(n), LinkOption.NOFOLLOW_LINKS)) {
                out.add(n);
            }
        }
        return out;
    }

    /**
     * The invariant every crash and race must keep: in every format, the visible files are
     * exactly the keys of {@code .digests}, each with the content its digest names, each a
     * hard link of its blob. Returns the number of files checked.
     */
    static int assertConsistent(Path root) throws IOException {
        int n = 0;
        for (Path f : formats(root)) {
            Map<String, String> digests = digests(f);
            assertEquals(new TreeSet<>(digests.keySet()), visibleFiles(f),
                    () -> "files of " + root.relativize(f) + " vs its .digests");
            for (Map.Entry<String, String> e : digests.entrySet()) {
                Path file = f.resolve(e.getKey());
                String hex = e.getValue().substring("sha256:".length());
                assertEquals(hex, fileHex(file), () -> "content of " + root.relativize(file));
                assertTrue(nlink(file) >= 2, () -> root.relativize(file) + " is not a hard link of a blob");
                n++;
            }
        }
        return n;
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    static void failf(String fmt, Object... args) {
        fail(String.format(fmt, args));
    }
}
