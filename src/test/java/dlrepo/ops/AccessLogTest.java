package dlrepo.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.Check;
import dlrepo.DaemonProcess;
import dlrepo.TestAuth;
import dlrepo.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The access log of a real daemon process with the default settings: one line per
 * request in the combined format plus the duration, also for answers from memory,
 * redirects and refused logins (which show the login sent), with Apache's escaping, and
 * never a password or an Authorization value.
 */
class AccessLogTest {
    /** {@code %h - %u [%t] "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %T}. */
    private static final Pattern LINE = Pattern.compile("^(\\S+) - (\\S+) \\[(\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:"
            + "\\d{2} \\+0000)\\] \"((?:[^\"\\\\]|\\\\.)*)\" (\\d{3}) (\\d+|-) \"((?:[^\"\\\\]|\\\\.)*)\" "
            + "\"((?:[^\"\\\\]|\\\\.)*)\" (\\d+\\.\\d{3})$");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z",
            Locale.ENGLISH);

    private Path root;
    private TestAuth auth;

    /** One parsed line. */
    private record Line(String client, String user, String time, String request, int status, String bytes,
            String referer, String agent, double seconds) {
    }

    private record Answer(int status, String head, byte[] body) {
        long contentLength() {
            Matcher m = Pattern.compile("(?im)^content-length: (\\d+)").matcher(head);
            return m.find() ? Long.parseLong(m.group(1)) : -1;
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createTempDirectory("dlrepo-accesslog-");
        auth = new TestAuth().user("alice", "Al1ce-Secret-Pw", "dev").acl("dev", "rw /**");
    }

    @AfterEach
    void tearDown() throws Exception {
        TestServer.deleteTree(root);
        auth.close();
    }

    private static String basic(String login, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((login + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
    }

    /** One request on its own connection, its head sent byte for byte (ISO-8859-1). */
    private static Answer send(DaemonProcess d, String requestLine, String headers, byte[] body) throws IOException {
        try (Socket s = new Socket("127.0.0.1", d.port())) {
            s.setSoTimeout(30000);
            OutputStream out = s.getOutputStream();
            out.write((requestLine + "\r\nHost: x\r\nConnection: close\r\n" + headers
                    + (body == null ? "" : "Content-Length: " + body.length + "\r\n") + "\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            if (body != null) {
                out.write(body);
            }
            out.flush();
            byte[] all = s.getInputStream().readAllBytes();
            String text = new String(all, StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            assertTrue(end > 0, text);
            byte[] rest = java.util.Arrays.copyOfRange(all, end + 4, all.length);
            return new Answer(Integer.parseInt(text.substring(9, 12)), text.substring(0, end), rest);
        }
    }

    /** The one access line that names {@code agent} (waiting for it), parsed. */
    private static Line lineOf(DaemonProcess d, String agent) throws Exception {
        String quoted = "\"" + agent + "\" ";
        assertTrue(Check.eventually(10_000, () -> logQuietly(d).contains(quoted)),
                () -> "no access line for " + agent + ":\n" + logQuietly(d));
        List<String> lines = d.log().lines().filter(l -> l.contains(quoted)).toList();
        assertEquals(1, lines.size(), () -> "one line for " + agent + ": " + lines);
        return parse(lines.get(0));
    }

    private static Line parse(String line) {
        Matcher m = LINE.matcher(line);
        assertTrue(m.matches(), () -> "not a combined+duration line: " + line);
        return new Line(m.group(1), m.group(2), m.group(3), m.group(4), Integer.parseInt(m.group(5)), m.group(6),
                m.group(7), m.group(8), Double.parseDouble(m.group(9)));
    }

    private static String logQuietly(DaemonProcess d) {
        try {
            return d.log();
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void oneLinePerRequestWithItsFields() throws Exception {
        String alice = "Authorization: " + basic("alice", "Al1ce-Secret-Pw") + "\r\n";
        byte[] data = new byte[100_000];
        new java.util.Random(7).nextBytes(data);
        String file = "/branches/log/t/j/f/a.bin";
        try (DaemonProcess d = DaemonProcess.start(root, auth.env())) {
            OffsetDateTime before = OffsetDateTime.now(java.time.ZoneOffset.UTC).withNano(0);
            Answer put = send(d, "PUT " + file + " HTTP/1.1", alice + "User-Agent: t-put\r\nDigest: "
                    + TestServer.digest(data) + "\r\n", data);
            assertEquals(201, put.status(), put.head());
            Line l = lineOf(d, "t-put");
            assertEquals("127.0.0.1", l.client());
            assertEquals("alice", l.user());
            assertEquals("PUT " + file + " HTTP/1.1", l.request());
            assertEquals(201, l.status());
            assertEquals(String.valueOf(put.body().length), l.bytes());
            assertEquals("-", l.referer());
            OffsetDateTime at = OffsetDateTime.parse(l.time(), TIME);
            assertFalse(at.isBefore(before), l.time());
            assertTrue(Duration.between(at, OffsetDateTime.now()).abs().getSeconds() < 60, l.time());
            assertTrue(l.seconds() >= 0 && l.seconds() < 60, String.valueOf(l.seconds()));

            // GET: the file's bytes (sent by sendfile), a referer and a query as sent
            Answer get = send(d, "GET " + file + "?x=%41b HTTP/1.1", alice + "User-Agent: t-get\r\n"
                    + "Referer: http://example.com/p?q=1\r\n", null);
            assertEquals(200, get.status());
            assertEquals(data.length, get.body().length);
            l = lineOf(d, "t-get");
            assertEquals("GET " + file + "?x=%41b HTTP/1.1", l.request());
            assertEquals(200, l.status());
            assertEquals(String.valueOf(data.length), l.bytes());
            assertEquals("http://example.com/p?q=1", l.referer());

            // HEAD: no body, "-"
            Answer head = send(d, "HEAD " + file + " HTTP/1.1", alice + "User-Agent: t-head\r\n", null);
            assertEquals(200, head.status());
            l = lineOf(d, "t-head");
            assertEquals(200, l.status());
            assertEquals("-", l.bytes());

            Answer missing = send(d, "GET /branches/log/t/j/f/missing HTTP/1.1", alice + "User-Agent: t-404\r\n",
                    null);
            assertEquals(404, missing.status());
            l = lineOf(d, "t-404");
            assertEquals(404, l.status());
            assertEquals(String.valueOf(missing.contentLength()), l.bytes());

            Answer bad = send(d, "DELETE /branches/log/t/j/f/.. HTTP/1.1", alice + "User-Agent: t-400\r\n", null);
            assertEquals(400, bad.status());
            l = lineOf(d, "t-400");
            assertEquals(400, l.status());
            assertEquals(String.valueOf(bad.body().length), l.bytes());

            // a listing computed, then the same one answered from memory: a line each
            Answer first = send(d, "GET /branches/log/ HTTP/1.1", alice + "User-Agent: t-list-1\r\n", null);
            Answer second = send(d, "GET /branches/log/ HTTP/1.1", alice + "User-Agent: t-list-2\r\n", null);
            assertEquals(200, first.status());
            assertEquals(200, second.status());
            assertEquals(String.valueOf(second.body().length), lineOf(d, "t-list-2").bytes());
            assertEquals(200, lineOf(d, "t-list-1").status());

            // a folder without its slash: a redirect, no body
            Answer redirect = send(d, "GET /branches/log HTTP/1.1", alice + "User-Agent: t-302\r\n", null);
            assertEquals(302, redirect.status(), redirect.head());
            l = lineOf(d, "t-302");
            assertEquals(302, l.status());
            assertEquals("-", l.bytes());
            assertEquals("alice", l.user());
        }
    }

    @Test
    void refusedLoginsShowTheLoginSentAndNoSecret() throws Exception {
        try (DaemonProcess d = DaemonProcess.start(root, auth.env())) {
            Answer wrong = send(d, "GET /branches/ HTTP/1.1", "Authorization: " + basic("alice", "Wrong-Secret-Pw")
                    + "\r\nUser-Agent: t-wrong\r\n", null);
            assertEquals(401, wrong.status());
            Line l = lineOf(d, "t-wrong");
            assertEquals("alice", l.user());
            assertEquals(401, l.status());

            // a login no user may have: refused before any check, still named (escaped)
            Answer odd = send(d, "GET /branches/ HTTP/1.1", "Authorization: " + basic("x\"y z", "Odd-Secret-Pw")
                    + "\r\nUser-Agent: t-odd\r\n", null);
            assertEquals(401, odd.status());
            l = lineOf(d, "t-odd");
            assertEquals("x\\\"y\\x20z", l.user());

            Answer none = send(d, "GET /branches/ HTTP/1.1", "User-Agent: t-anonymous\r\n", null);
            assertEquals("-", lineOf(d, "t-anonymous").user(), none.head());

            String log = d.log();
            for (String secret : List.of("Al1ce-Secret-Pw", "Wrong-Secret-Pw", "Odd-Secret-Pw", "Basic ",
                    basic("alice", "Wrong-Secret-Pw").substring(6), basic("x\"y z", "Odd-Secret-Pw").substring(6))) {
                assertFalse(log.contains(secret), "the log contains " + secret + ":\n" + log);
            }
        }
    }

    @Test
    void quotesBackslashesControlsAndNonAsciiAreEscaped() throws Exception {
        try (DaemonProcess d = DaemonProcess.start(root, auth.env())) {
            // the user agent is matched by its start: the rest is escaped in the line
            send(d, "GET /branches/?q=%22 HTTP/1.1", "User-Agent: t-esc \"quoted\" back\\slash \u00e9\ttab\r\n"
                    + "Referer: \"\r\n", null);
            assertTrue(Check.eventually(10_000, () -> logQuietly(d).contains("\"t-esc ")), logQuietly(d));
            List<String> lines = d.log().lines().filter(x -> x.contains("\"t-esc ")).toList();
            assertEquals(1, lines.size(), lines::toString);
            Line l = parse(lines.get(0));
            assertEquals("t-esc \\\"quoted\\\" back\\\\slash \\xe9\\ttab", l.agent());
            assertEquals("\\\"", l.referer());
            assertEquals("GET /branches/?q=%22 HTTP/1.1", l.request());
        }
    }

    @Test
    void malformedRequestsAreLoggedWithoutARequestLine() throws Exception {
        try (DaemonProcess d = DaemonProcess.start(root, auth.env())) {
            Answer bad = send(d, "GET /branches/%ZZ/ HTTP/1.1", "User-Agent: t-malformed\r\n", null);
            assertEquals(400, bad.status());
            String expected = "\"-\" 400 " + bad.body().length + " \"-\" \"-\" 0.000";
            assertTrue(Check.eventually(10_000, () -> logQuietly(d).contains(expected)), logQuietly(d));
            List<String> lines = d.log().lines().filter(x -> x.endsWith(expected)).toList();
            assertEquals(1, lines.size(), lines::toString);
            Line l = parse(lines.get(0));
            assertEquals("127.0.0.1", l.client());
            assertEquals("-", l.user());
            assertEquals("-", l.request());
        }
    }
}
