package dlrepo.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dlrepo.Check;
import dlrepo.TarReader;
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
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/** Static helpers shared by the API tests: JSON, digests, files on disk, a tar reader. */
final class Api {
    static final ObjectMapper JSON = new ObjectMapper();

    private Api() {
    }

    static String unique(String base) {
        return Check.unique(base);
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        return Check.json(r);
    }

    /** Asserts the status and the body's JSON as an object, and returns it. */
    static JsonNode ok(HttpResponse<String> r) throws IOException {
        return Check.ok(r);
    }

    /** Asserts an error answer: status, {@code {"error": "..."}} containing {@code fragment}. */
    static String assertError(HttpResponse<String> r, int status, String fragment) throws IOException {
        return Check.assertError(r, status, fragment);
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
    static List<TarReader.Member> readTar(byte[] tar) {
        return TarReader.read(tar);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
