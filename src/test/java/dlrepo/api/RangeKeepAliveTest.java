package dlrepo.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dlrepo.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A range answer sends exactly its Content-Length: bytes past the range would be read as
 * the start of the next answer on the same connection (which a proxy shares between
 * clients). Undertow's response conduit, before the headers are out, copied a whole
 * buffer from the file whatever the count asked.
 */
class RangeKeepAliveTest {
    @Test
    void rangesLeaveTheConnectionInStep() throws Exception {
        try (TestServer s = TestServer.start()) {
            String url = "/branches/main/t/j/f/data.txt";
            String content = "0123456789" + "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged";
            assertEquals(201, s.upload(url, content).statusCode());
            try (Socket so = new Socket("127.0.0.1", s.port())) {
                so.setSoTimeout(10_000);
                String[] ranges = {"bytes=2-4", "bytes=0-0", "bytes=9-12", "bytes=-3"};
                String[] bodies = {"234", "0", "9HTT", "ged"};
                for (int i = 0; i < ranges.length; i++) {
                    so.getOutputStream().write(("GET " + url + " HTTP/1.1\r\nHost: x\r\nRange: " + ranges[i]
                            + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    String head = readHead(so.getInputStream());
                    assertEquals("HTTP/1.1 206 Partial Content", head.lines().findFirst().orElse(""), head);
                    int length = Integer.parseInt(head.lines().filter(l -> l.startsWith("Content-Length: "))
                            .findFirst().orElseThrow().substring(16));
                    assertEquals(bodies[i], new String(so.getInputStream().readNBytes(length), StandardCharsets.US_ASCII));
                }
                // the next answer on the connection is the one asked for, not left-over bytes
                so.getOutputStream().write(("GET " + url + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                String head = readHead(so.getInputStream());
                assertEquals("HTTP/1.1 200 OK", head.lines().findFirst().orElse(""), head);
                assertEquals(content, new String(so.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
            }
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (true) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            b.write(c);
            String s = b.toString(StandardCharsets.US_ASCII);
            if (s.endsWith("\r\n\r\n")) {
                return s;
            }
        }
        return b.toString(StandardCharsets.US_ASCII);
    }
}
