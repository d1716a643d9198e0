package dlrepo.security;

import static dlrepo.Check.assertError;
import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.Caller;
import dlrepo.Check;
import dlrepo.TestServer;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Names that would let a file escape its folder when extracted on Windows ({@code \}), or
 * look like another name ({@code U+202E} RIGHT-TO-LEFT OVERRIDE and the other invisible
 * format characters, C1 controls), are refused wherever a name enters the tree; names
 * that reach an archive's {@code Content-Disposition} or member names anyway (a quote,
 * non-ASCII, a tree restored by hand) cannot inject anything.
 */
class NamesTest {
    /** Each refused, alone between two letters, in every kind of name. */
    static final List<String> REFUSED = List.of("\\", "\u202e", "\u202a", "\u202b", "\u202c", "\u202d",
            "\u200e", "\u200f", "\u2066", "\u2067", "\u2068", "\u2069", "\u061c", "\u200b", "\u2060", "\ufeff",
            "\u00ad", "\u2028", "\u2029", "\u0085", "\u009b", "\u0080", "\udb40\udc41", "\u200d");

    static TestServer s;
    static Caller c;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start();
        c = s.anonymous();
        c.uploadFinalized("/branches/main/t/j/f/ok.txt", "ok\n");
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    /** Percent-encodes a path segment's UTF-8 bytes but unreserved characters. */
    static String enc(String segment) {
        StringBuilder b = new StringBuilder();
        for (byte x : segment.getBytes(StandardCharsets.UTF_8)) {
            int ch = x & 0xff;
            if (ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || "-._~".indexOf(ch) >= 0) {
                b.append((char) ch);
            } else {
                b.append(String.format("%%%02X", ch));
            }
        }
        return b.toString();
    }

    private static List<String> tree() throws Exception {
        List<String> all = new ArrayList<>();
        try (Stream<Path> st = Files.walk(s.root().resolve("branches"))) {
            st.forEach(p -> all.add(s.root().relativize(p).toString()));
        }
        all.sort(null);
        return all;
    }

    @Test
    void refusedInEveryName() throws Exception {
        List<String> before = tree();
        for (String ch : REFUSED) {
            String bad = enc("a" + ch + "b");
            for (String url : List.of("/branches/" + bad + "/t/j/f/x", "/branches/main/" + bad + "/j/f/x",
                    "/branches/main/t/" + bad + "/f/x", "/branches/main/t/j/" + bad + "/x",
                    "/branches/main/t/j/f/" + bad, "/branches/main/t/j/f/" + bad + "/x",
                    "/branches/main/t/j/f/sub/" + bad + ".txt", "/~" + bad + "/branches/b/t/j/f/x")) {
                String what = "U+" + Integer.toHexString(ch.codePointAt(0)) + " in " + url;
                HttpResponse<String> r = c.upload(url, "x");
                String msg = assertError(r, 400, "Invalid");
                assertTrue(msg.codePoints().allMatch(cp -> cp >= 0x20 && cp < 0x7f || Character.isLetterOrDigit(cp)
                        || cp == '\u2026'), what + ": the message shows the name escaped: " + msg);
                assertError(c.get(url), 400, "Invalid");
                assertStatus(400, c.link(url, TestServer.digest("ok\n")));
            }
            for (String url : List.of("/branches/" + bad + "/", "/branches/main/" + bad + "/",
                    "/branches/main/t/" + bad + "/", "/branches/main/t/j/" + bad + "/")) {
                assertError(c.get(url), 400, "Invalid");
                assertError(c.delete(url), 400, "Invalid");
            }
            assertError(c.json("POST", "/branches/" + bad + "/", "{\"branch\": {\"max_daily_tags\": 1}}"), 400,
                    "Invalid");
        }
        assertEquals(before, tree(), "nothing created");
        assertEquals(List.of(), list(s.root().resolve(".uploads")));
    }

    @Test
    void rawBackslashRefused() throws Exception {
        assertEquals(400, c.raw("GET", "/branches/main/t/j/f/..\\..\\x"));
        String resp = c.rawFull("PUT", "/branches/b\\x/t/j/f/..\\..\\..\\x", "Digest: " + TestServer.digest("x")
                + "\r\n", "x".getBytes(StandardCharsets.UTF_8));
        assertTrue(resp.startsWith("HTTP/1.1 400"), resp);
        assertTrue(list(s.root().resolve("branches")).stream().noneMatch(n -> n.contains("\\")));
    }

    @Test
    void refusedInProductMetadata() throws Exception {
        String job = "/branches/main/t/j/";
        Path meta = s.root().resolve("branches/main/t/j/.metadata");
        String before = Files.exists(meta) ? Files.readString(meta) : null;
        for (String ch : REFUSED) {
            for (String key : List.of("product", "product_variant", "product_branch", "version")) {
                Map<String, String> m = new java.util.TreeMap<>(Map.of("product", "p", "product_variant", "v",
                        "product_branch", "b", "version", "1"));
                m.put(key, "a" + ch + "b");
                String body = Check.JSON.writeValueAsString(Map.of("job", m));
                assertError(c.json("PATCH", job, body), 400, "Invalid");
            }
        }
        assertEquals(before, Files.exists(meta) ? Files.readString(meta) : null, ".metadata unchanged");
        if (Files.exists(s.root().resolve("products"))) {
            try (Stream<Path> st = Files.walk(s.root().resolve("products"))) {
                st.forEach(p -> assertFalse(p.getFileName().toString().startsWith("a")
                        && p.getFileName().toString().endsWith("b"), p.toString()));
            }
        }
    }

    @Test
    void otherNamesStillWork() throws Exception {
        for (String name : List.of("zoë", "日本語", "\ud83d\udce6", "a\"b", "a b", "a:b", "a;b=c", "a%b", "a'b",
                "\u05d0\u05d1", "\u0627\u0644")) {
            String url = "/branches/ok/t/j/f/" + enc(name);
            assertStatus(201, c.upload(url, name));
            assertEquals(name, c.get(url).body());
        }
    }

    /** The two parameters of an archive's Content-Disposition, checked for injection. */
    private static String dispositionName(HttpResponse<?> r) {
        String cd = r.headers().firstValue("Content-Disposition").orElseThrow();
        assertTrue(cd.chars().allMatch(ch -> ch >= 0x20 && ch < 0x7f), "ASCII only: " + cd);
        Matcher plain = Pattern.compile("attachment; filename=\"([\\x20-\\x7e&&[^\"\\\\%]]*)\"").matcher(cd);
        if (plain.matches()) {
            return plain.group(1);
        }
        Matcher m = Pattern.compile("attachment; filename=\"([^\"\\\\]*)\"; filename\\*=UTF-8''([A-Za-z0-9!#$&+.^_`|~%-]*)")
                .matcher(cd);
        assertTrue(m.matches(), "one quoted ASCII name and one RFC 5987 name, nothing else: " + cd);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String e = m.group(2);
        for (int i = 0; i < e.length(); i++) {
            if (e.charAt(i) == '%') {
                out.write(Integer.parseInt(e.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                out.write(e.charAt(i));
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void archiveNamesCannotInjectHeaderParameters() throws Exception {
        String job = "/branches/cd/t/j/";
        c.uploadFinalized(job + "deb/a.deb", "a\n");
        // a quote, a semicolon and non-ASCII are valid in names: they reach the header
        assertStatus(200, c.json("PATCH", job, "{\"job\": {\"product\": \"ac\\\"me; filename=evil.sh\","
                + " \"product_variant\": \"zoë\", \"product_branch\": \"main\", \"version\": \"1.0\"}}"));
        HttpResponse<byte[]> r = c.getBytes("/branches/cd/t/j.tar");
        assertStatus(200, r);
        assertEquals("ac\"me; filename=evil.sh-zoë-v1.0.tar", dispositionName(r));
        r = c.getBytes("/branches/cd/t/j/deb.tar");
        assertEquals("ac\"me; filename=evil.sh-zoë-v1.0-deb.tar", dispositionName(r));
        HttpResponse<byte[]> v = c.getBytes("/products/ac%22me%3B%20filename%3Devil.sh/zo%C3%AB/main/1.0.tar");
        assertStatus(200, v);
        assertEquals("ac\"me; filename=evil.sh-zoë-v1.0.tar", dispositionName(v));
        // a plain ASCII name keeps the simple form
        c.uploadFinalized("/branches/plain/t/j/deb/a.deb", "a\n");
        assertEquals("attachment; filename=\"j-t.tar\"",
                c.getBytes("/branches/plain/t/j.tar").headers().firstValue("Content-Disposition").orElse(null));
    }

    @Test
    void namesRestoredByHandNeverReachArchives() throws Exception {
        String job = "/branches/legacy/t/j/";
        c.uploadFinalized(job + "f/ok.txt", "ok\n");
        Path j = s.root().resolve("branches/legacy/t/j");
        Path f = j.resolve("f");
        // what a restore of an old tree, or a hand edit, may hold: names the API refuses
        Files.writeString(f.resolve("a\\..\\..\\b.txt"), "backslash\n");
        Files.writeString(f.resolve("bidi\u202etxt.exe"), "bidi\n");
        Files.writeString(j.resolve("escape.txt"), "escape\n");
        Files.writeString(f.resolve(".digests"), Check.JSON.writeValueAsString(new java.util.TreeMap<>(Map.of(
                "ok.txt", TestServer.digest("ok\n"), "a\\..\\..\\b.txt", TestServer.digest("backslash\n"),
                "bidi\u202etxt.exe", TestServer.digest("bidi\n"), "../escape.txt", TestServer.digest("escape\n"),
                "/etc/passwd", TestServer.digest("x")))));
        Files.writeString(j.resolve(".metadata"), Check.JSON.writeValueAsString(Map.of("product",
                "..\\..\\evil\r\nX-Injected: 1", "product_variant", "/abs", "product_branch", "b",
                "version", "..")));
        for (String url : List.of("/branches/legacy/t/j.tar", "/branches/legacy/t/j/f.tar")) {
            HttpResponse<byte[]> r = c.getBytes(url);
            assertStatus(200, r);
            assertFalse(r.headers().firstValue("X-Injected").isPresent());
            String cd = r.headers().firstValue("Content-Disposition").orElseThrow();
            assertTrue(cd.chars().allMatch(ch -> ch >= 0x20 && ch < 0x7f && ch != '\\'), cd);
            String name = dispositionName(r);
            assertFalse(name.contains("/") || name.contains("\\") || name.startsWith("."), name);
            assertTrue(name.chars().noneMatch(Character::isISOControl), name);
            List<String> members = tarNames(r.body());
            assertFalse(members.isEmpty());
            for (String m : members) {
                assertFalse(m.startsWith("/"), m);
                assertFalse(m.contains("\\"), m);
                assertTrue(m.codePoints().noneMatch(cp -> Character.isISOControl(cp)
                        || Character.getType(cp) == Character.FORMAT), m);
                for (String seg : m.split("/")) {
                    assertFalse(seg.isEmpty() || seg.equals("..") || seg.equals("."), m);
                }
            }
            String all = new String(r.body(), StandardCharsets.UTF_8);
            assertTrue(all.contains("ok\n"));
            assertFalse(all.contains("backslash\n") || all.contains("bidi\n") || all.contains("escape\n"), all);
        }
    }

    @Test
    void postProcessOutputsFollowTheRules(@TempDir Path tmp) throws Exception {
        Path cmd = tmp.resolve("post.sh");
        Files.writeString(cmd, "#!/bin/sh\necho x > 'a\\b.txt'\necho x > \"$(printf 'r\\342\\200\\256txt.exe')\"\n"
                + "mkdir -p 'd\\e' && echo x > 'd\\e/f.txt'\necho x > \"$(printf 'c\\302\\205.txt')\"\n"
                + "echo x > good.txt\n");
        Files.setPosixFilePermissions(cmd, PosixFilePermissions.fromString("rwx------"));
        try (TestServer x = TestServer.start(Map.of("DLREPO_POST_PROCESS_CMD", cmd.toString()))) {
            Caller xc = x.anonymous();
            xc.uploadFinalized("/branches/b/t/j/f/ok.txt", "ok\n");
            JsonNode f = xc.ok("/branches/b/t/j/f/").get("artifact_format");
            List<String> names = new ArrayList<>();
            f.get("files").forEach(a -> names.add(a.asText()));
            assertEquals(List.of("good.txt", "ok.txt"), names);
            assertEquals(Map.of("good.txt", TestServer.digest("x\n"), "ok.txt", TestServer.digest("ok\n")),
                    Check.JSON.convertValue(Check.JSON.readTree(Files.readString(
                            x.root().resolve("branches/b/t/j/f/.digests"))), Map.class));
        }
    }

    private static List<String> list(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> st = Files.list(dir)) {
            return st.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** The member names of a tar (pax {@code path} records win over the ustar name). */
    static List<String> tarNames(byte[] tar) {
        List<String> names = new ArrayList<>();
        String pax = null;
        for (int off = 0; off + 512 <= tar.length;) {
            boolean zero = true;
            for (int i = off; i < off + 512; i++) {
                zero &= tar[i] == 0;
            }
            if (zero) {
                break;
            }
            int end = off;
            while (end < off + 100 && tar[end] != 0) {
                end++;
            }
            String name = new String(tar, off, end - off, StandardCharsets.UTF_8);
            long size = Long.parseLong(new String(tar, off + 124, 11, StandardCharsets.US_ASCII).trim(), 8);
            char type = (char) tar[off + 156];
            int data = off + 512;
            if (type == 'x') {
                String records = new String(tar, data, (int) size, StandardCharsets.UTF_8);
                Matcher m = Pattern.compile("\\d+ path=(.*)\n").matcher(records);
                pax = m.find() ? m.group(1) : null;
            } else {
                names.add(pax != null ? pax : name);
                pax = null;
            }
            off = data + (int) ((size + 511) / 512 * 512);
        }
        return names;
    }
}
