package dlrepo.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dlrepo.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Static helpers shared by the API tests: JSON, digests, files on disk, a tar reader. */
final class Api {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private Api() {
    }

    /** A name unique in this JVM, so that tests sharing a server never collide. */
    static String unique(String base) {
        return base + COUNTER.incrementAndGet();
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        String ct = r.headers().firstValue("Content-Type").orElse("");
        assertTrue(ct.startsWith("application/json"), "JSON content type expected, got '" + ct + "': " + r.body());
        return JSON.readTree(r.body());
    }

    /** Asserts the status and the body's JSON as an object, and returns it. */
    static JsonNode ok(HttpResponse<String> r) throws IOException {
        assertEquals(200, r.statusCode(), () -> r.request().method() + " " + r.uri() + ": " + r.body());
        return json(r);
    }

    /** Asserts an error answer: status, {@code {"error": "..."}} containing {@code fragment}. */
    static String assertError(HttpResponse<String> r, int status, String fragment) throws IOException {
        assertEquals(status, r.statusCode(), () -> r.request().method() + " " + r.uri() + ": " + r.body());
        if (r.request().method().equals("HEAD")) {
            return "";
        }
        JsonNode body = json(r);
        assertTrue(body.has("error") && body.get("error").isTextual(), "error body expected: " + r.body());
        String msg = body.get("error").asText();
        if (fragment != null) {
            assertTrue(msg.contains(fragment), "error '" + msg + "' should contain '" + fragment + "'");
        }
        return msg;
    }

    static HttpResponse<String> patch(TestServer s, String path) throws IOException, InterruptedException {
        return s.send(s.request(path).method("PATCH", HttpRequest.BodyPublishers.noBody()).build());
    }

    static HttpResponse<String> put(TestServer s, String path, byte[] body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = s.request(path).PUT(HttpRequest.BodyPublishers.ofByteArray(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return s.send(b.build());
    }

    static HttpResponse<String> get(TestServer s, String path, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = s.request(path).GET();
        if (headers.length > 0) {
            b.headers(headers);
        }
        return s.send(b.build());
    }

    static HttpResponse<byte[]> getBytes(TestServer s, String path, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = s.request(path).GET();
        if (headers.length > 0) {
            b.headers(headers);
        }
        return s.client().send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static void upload201(TestServer s, String path, String text) throws IOException, InterruptedException {
        HttpResponse<String> r = s.upload(path, text);
        assertEquals(201, r.statusCode(), () -> "upload " + path + ": " + r.body());
    }

    /** PATCH (finalize) a format URL ending with '/'. */
    static void finalizeFormat(TestServer s, String formatPath) throws IOException, InterruptedException {
        HttpResponse<String> r = patch(s, formatPath);
        assertEquals(200, r.statusCode(), () -> "finalize " + formatPath + ": " + r.body());
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    static Path blob(TestServer s, String hex) {
        return s.root().resolve(".blobs/sha256").resolve(hex.substring(0, 2)).resolve(hex);
    }

    /** Every blob file in the store, as hex names. */
    static List<String> blobs(TestServer s) throws IOException {
        Path dir = s.root().resolve(".blobs/sha256");
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (var st = Files.walk(dir)) {
            st.filter(Files::isRegularFile).forEach(p -> out.add(p.getFileName().toString()));
        }
        out.sort(null);
        return out;
    }

    static List<String> list(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (var st = Files.list(dir)) {
            st.forEach(p -> out.add(p.getFileName().toString()));
        }
        out.sort(null);
        return out;
    }

    static Object inode(Path p) throws IOException {
        return Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
    }

    static int nlink(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
    }

    static String read(Path p) throws IOException {
        return Files.readString(p, StandardCharsets.UTF_8);
    }

    static double mtime(Path p) throws IOException {
        return Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).to(TimeUnit.MICROSECONDS) / 1e6;
    }

    static void setMtime(Path p, long epochSeconds) throws IOException {
        Files.setLastModifiedTime(p, FileTime.from(epochSeconds, TimeUnit.SECONDS));
    }

    /** The files of a format folder and their digests ({@code .digests} and its journal), parsed. */
    static Map<String, String> digests(Path formatDir) throws IOException {
        return new TreeMap<>(dlrepo.Layout.digests(formatDir));
    }

    /**
     * What Python's {@code json.dumps(obj, sort_keys=True)} writes for a flat object of
     * strings: {@code {"a": "b", "c": "d"}}, non-ASCII escaped. Written independently of
     * the server's serializer.
     */
    static String pyDumps(Map<String, String> map) {
        StringBuilder b = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, String> e : new TreeMap<>(map).entrySet()) {
            if (!first) {
                b.append(", ");
            }
            first = false;
            pyQuote(b, e.getKey());
            b.append(": ");
            pyQuote(b, e.getValue());
        }
        return b.append("}").toString();
    }

    private static void pyQuote(StringBuilder b, String s) {
        b.append('"');
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c == '\n') {
                b.append("\\n");
            } else if (c == '\t') {
                b.append("\\t");
            } else if (c == '\r') {
                b.append("\\r");
            } else if (c < 0x20 || c > 0x7e) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        b.append('"');
    }

    /** Writes an executable shell script into {@code dir}. */
    static Path script(Path dir, String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    static boolean hasCommand(String cmd) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, cmd))) {
                return true;
            }
        }
        return false;
    }

    /** Runs a command with {@code stdin}, returns its stdout; fails the test on a non-zero exit. */
    static String run(byte[] stdin, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (var out = p.getOutputStream()) {
            out.write(stdin);
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timeout: " + String.join(" ", cmd));
        }
        assertEquals(0, p.exitValue(), () -> String.join(" ", cmd) + ": " + output);
        return output;
    }

    // ---- a small tar reader (ustar + pax 'x' headers), strict about the format ----

    /** One regular member of an archive. */
    record TarMember(String name, byte[] data, boolean viaPax) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** Parses a whole archive, checking every header checksum and the end-of-archive blocks. */
    static List<TarMember> readTar(byte[] tar) {
        assertEquals(0, tar.length % 512, "tar length is a multiple of 512");
        List<TarMember> out = new ArrayList<>();
        int off = 0;
        Map<String, String> pax = null;
        while (true) {
            assertTrue(off + 512 <= tar.length, "truncated tar at " + off);
            if (allZero(tar, off, 512)) {
                assertTrue(off + 1024 <= tar.length && allZero(tar, off + 512, 512),
                        "two zero blocks end the archive");
                for (int i = off; i < tar.length; i++) {
                    assertEquals(0, tar[i], "only zeros after the end of the archive");
                }
                return out;
            }
            checkChecksum(tar, off);
            String magic = new String(tar, off + 257, 5, StandardCharsets.US_ASCII);
            assertEquals("ustar", magic, "ustar magic");
            String name = cString(tar, off, 100);
            String prefix = cString(tar, off + 345, 155);
            if (!prefix.isEmpty()) {
                name = prefix + "/" + name;
            }
            long size = octal(tar, off + 124, 12);
            char type = (char) tar[off + 156];
            int dataOff = off + 512;
            assertTrue(dataOff + size <= tar.length, "member data inside the archive");
            byte[] data = java.util.Arrays.copyOfRange(tar, dataOff, (int) (dataOff + size));
            off = dataOff + (int) ((size + 511) / 512 * 512);
            if (type == 'x') {
                pax = parsePax(data);
                continue;
            }
            if (type == 'g') {
                continue;
            }
            assertTrue(type == '0' || type == 0, "regular file member expected, type " + (int) type);
            boolean viaPax = false;
            if (pax != null) {
                if (pax.containsKey("path")) {
                    name = pax.get("path");
                    viaPax = true;
                }
                if (pax.containsKey("size")) {
                    assertEquals(Long.parseLong(pax.get("size")), size);
                }
                pax = null;
            }
            out.add(new TarMember(name, data, viaPax));
        }
    }

    private static Map<String, String> parsePax(byte[] data) {
        Map<String, String> m = new LinkedHashMap<>();
        int i = 0;
        while (i < data.length) {
            int sp = i;
            while (data[sp] != ' ') {
                sp++;
            }
            int len = Integer.parseInt(new String(data, i, sp - i, StandardCharsets.US_ASCII));
            assertTrue(len > 0 && i + len <= data.length, "pax record length");
            assertEquals('\n', data[i + len - 1], "pax record ends with a newline");
            String rec = new String(data, sp + 1, i + len - sp - 2, StandardCharsets.UTF_8);
            int eq = rec.indexOf('=');
            assertTrue(eq > 0, "pax record key=value");
            m.put(rec.substring(0, eq), rec.substring(eq + 1));
            i += len;
        }
        return m;
    }

    private static void checkChecksum(byte[] tar, int off) {
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : (tar[off + i] & 0xff);
        }
        assertEquals(sum, octal(tar, off + 148, 8), "header checksum");
    }

    private static boolean allZero(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    private static long octal(byte[] b, int off, int len) {
        String s = cString(b, off, len).trim();
        assertNotNull(s);
        return s.isEmpty() ? 0 : Long.parseLong(s, 8);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
