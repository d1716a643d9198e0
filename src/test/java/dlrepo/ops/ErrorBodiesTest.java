package dlrepo.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.Check;
import dlrepo.TestServer;
import dlrepo.Version;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every error answer has a body, also those made before our handlers run: requests
 * Undertow cannot parse get a JSON 400 (and the server goes on serving), a draining
 * server's 503 says why; every answer names the server; a HEAD answer has no body.
 */
class ErrorBodiesTest {
    private static final String MALFORMED = "Malformed request: the request line or a header is not valid HTTP "
            + "(a '%' in a URL must be followed by two hexadecimal digits; characters other than ASCII must be "
            + "percent-encoded)";

    private TestServer server;

    @BeforeEach
    void setUp() throws IOException {
        server = TestServer.start(Map.of("DLREPO_FSYNC", "0"));
    }

    @AfterEach
    void tearDown() throws IOException {
        server.close();
    }

    private record Answer(int status, Map<String, String> headers, byte[] body) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** Reads one answer: its head, then Content-Length bytes (none for HEAD), or up to the end. */
    private static Answer read(InputStream in, boolean head) throws IOException {
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        int last4 = 0;
        int c;
        while ((c = in.read()) != -1) {
            h.write(c);
            last4 = (last4 << 8) | c;
            if (last4 == 0x0d0a0d0a) {
                break;
            }
        }
        String text = h.toString(StandardCharsets.ISO_8859_1);
        assertTrue(text.startsWith("HTTP/1.1 ") && text.endsWith("\r\n\r\n"), "not an HTTP answer: " + text);
        Map<String, String> headers = new LinkedHashMap<>();
        String[] lines = text.split("\r\n");
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
        }
        byte[] body;
        String length = headers.get("content-length");
        if (head) {
            body = new byte[0];
        } else if (length != null) {
            body = in.readNBytes(Integer.parseInt(length));
        } else {
            body = in.readAllBytes();
        }
        return new Answer(Integer.parseInt(text.substring(9, 12)), headers, body);
    }

    private Answer once(byte[] request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            Answer a = read(in, false);
            assertEquals(-1, in.read(), "the connection is closed after the answer");
            return a;
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static void assertMalformedAnswer(Answer a, String what) throws IOException {
        assertEquals(400, a.status(), what);
        assertEquals("application/json; charset=utf-8", a.header("Content-Type"), what);
        assertEquals(String.valueOf(a.body().length), a.header("Content-Length"), what);
        assertEquals("dlrepo/" + Version.get(), a.header("Server"), what);
        assertEquals("close", a.header("Connection"), what);
        JsonNode json = Check.JSON.readTree(a.body());
        assertEquals(MALFORMED, json.get("error").asText(), what);
    }

    @Test
    void requestsUndertowCannotParseGetAJsonBody() throws Exception {
        StringBuilder params = new StringBuilder("GET /?");
        for (int i = 0; i < 1100; i++) {
            params.append(i == 0 ? "" : "&").append('p').append(i).append("=1");
        }
        List<byte[]> inputs = new ArrayList<>(List.of(
                ascii("GET /branches/%ZZ/ HTTP/1.1\r\nHost: x\r\n\r\n"),
                ascii("GET /branches/a%2 HTTP/1.1\r\nHost: x\r\n\r\n"),
                ascii("GET /branches/\u00e9/ HTTP/1.1\r\nHost: x\r\n\r\n"),
                ascii("GET /?a=%ZZ HTTP/1.1\r\nHost: x\r\n\r\n"),
                ascii("G@T / HTTP/1.1\r\nHost: x\r\n\r\n"),
                ascii("GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n"),
                ascii(params + " HTTP/1.1\r\nHost: x\r\n\r\n"),
                ascii("POST /branches/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n"
                        + "\r\n0\r\n\r\n")));
        for (byte[] input : inputs) {
            String what = new String(input, 0, Math.min(60, input.length), StandardCharsets.ISO_8859_1);
            assertMalformedAnswer(once(input), what);
            // the server goes on serving
            Answer next = once(ascii("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
            assertEquals(200, next.status(), what);
        }
    }

    @Test
    void hostHeaderRefusalsGetAJsonBody() throws Exception {
        Map<String, String> cases = Map.of(
                "GET / HTTP/1.1\r\n\r\n", "Bad request: an HTTP/1.1 request must have a Host header",
                "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", "Bad request: a request must have only one Host header",
                "GET / HTTP/1.1\r\nHost: x:http\r\n\r\n",
                "Bad request: the Host header is not a valid host name or address with an optional port",
                "GET http://other/branches/ HTTP/1.1\r\nHost: x\r\n\r\n",
                "Bad request: the host of the absolute URL in the request line differs from the Host header");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Answer a = once(ascii(c.getKey()));
            assertEquals(400, a.status(), c.getKey());
            assertEquals(String.valueOf(a.body().length), a.header("Content-Length"), c.getKey());
            assertEquals("dlrepo/" + Version.get(), a.header("Server"), c.getKey());
            assertEquals(c.getValue(), Check.JSON.readTree(a.body()).get("error").asText(), c.getKey());
        }
        assertEquals(200, once(ascii("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).status());
    }

    @Test
    void aMalformedRequestAfterAGoodOneOnTheSameConnection() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
            InputStream in = s.getInputStream();
            Answer first = read(in, false);
            assertEquals(200, first.status());
            s.getOutputStream().write(ascii("GET /branches/%G0/ HTTP/1.1\r\nHost: x\r\n\r\n"));
            assertMalformedAnswer(read(in, false), "second request");
            assertEquals(-1, in.read());
        }
    }

    @Test
    void everyAnswerNamesTheServer() throws Exception {
        server.upload("/branches/s/t/j/f/a.txt", "a\n");
        String server = "dlrepo/" + Version.get();
        Answer ok = once(ascii("GET /branches/s/t/j/f/a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        assertEquals(200, ok.status());
        assertEquals(server, ok.header("Server"));
        Answer listing = once(ascii("GET /branches/s/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        assertEquals(server, listing.header("Server"));
        String etag = listing.header("ETag");
        assertTrue(etag != null, listing.headers().toString());
        Answer notModified = once(ascii("GET /branches/s/ HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + etag
                + "\r\nConnection: close\r\n\r\n"));
        assertEquals(304, notModified.status());
        assertEquals(server, notModified.header("Server"));
        // an error clears the headers set before it
        Answer missing = once(ascii("GET /branches/s/t/j/f/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        assertEquals(404, missing.status());
        assertEquals(server, missing.header("Server"));
        Answer registry = once(ascii("GET /v2/nothing/here/manifests/latest HTTP/1.1\r\nHost: x\r\nConnection: close"
                + "\r\n\r\n"));
        assertTrue(registry.status() >= 400, registry.text());
        assertEquals(server, registry.header("Server"));
    }

    @Test
    void headAnswersHaveNoBody() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(ascii("HEAD /branches/nothing/t/j/f/x HTTP/1.1\r\nHost: x\r\n"
                    + "Connection: close\r\n\r\n"));
            InputStream in = s.getInputStream();
            Answer a = read(in, true);
            assertEquals(404, a.status());
            assertEquals("dlrepo/" + Version.get(), a.header("Server"));
            assertEquals(-1, in.read(), "no body after a HEAD answer");
        }
    }

    @Test
    void aDrainingServerSaysWhyItRefuses() throws Exception {
        byte[] data = new byte[32 << 20];
        new Random(3).nextBytes(data);
        String path = "/branches/dl/t/j/f/file.bin";
        assertEquals(201, server.upload(path, data).statusCode());
        try (Socket idle = new Socket("127.0.0.1", server.port()); Socket slow = new Socket()) {
            idle.setSoTimeout(20_000);
            // a keep-alive connection, idle between two requests
            idle.getOutputStream().write(ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
            assertEquals(200, read(idle.getInputStream(), false).status());
            // a slow download keeps the server draining
            slow.setReceiveBufferSize(4096);
            slow.connect(new InetSocketAddress("127.0.0.1", server.port()));
            slow.setSoTimeout(60_000);
            slow.getOutputStream().write(ascii("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
            InputStream download = slow.getInputStream();
            Answer head = readHeadOnly(download);
            assertEquals(200, head.status());
            assertEquals(1 << 20, download.readNBytes(new byte[1 << 20], 0, 1 << 20));

            Thread closer = new Thread(() -> server.stop(), "test-close");
            closer.start();
            Thread.sleep(500);
            assertTrue(closer.isAlive(), "the server stopped with a download in flight");
            OutputStream out = idle.getOutputStream();
            out.write(ascii("GET /branches/ HTTP/1.1\r\nHost: x\r\n\r\n"));
            Answer refused = read(idle.getInputStream(), false);
            assertEquals(503, refused.status());
            assertEquals(String.valueOf(refused.body().length), refused.header("Content-Length"));
            assertEquals("application/json; charset=utf-8", refused.header("Content-Type"));
            assertEquals("Server shutting down, try again in a moment",
                    Check.JSON.readTree(refused.body()).get("error").asText(), refused.text());

            byte[] rest = download.readAllBytes();
            assertEquals(data.length - (1 << 20), rest.length, "the download was finished");
            closer.join(60_000);
        }
    }

    private static Answer readHeadOnly(InputStream in) throws IOException {
        return read(in, true);
    }
}
