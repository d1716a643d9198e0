package dlrepo.registry;

import dlrepo.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A PATCH of {@code body} whose bytes the test sends when it likes, over a raw socket,
 * with extra {@code headers} (name, value, ...).
 */
final class SlowPatch implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final byte[] body;
    private int sent;

    SlowPatch(TestServer s, String location, byte[] body, String... headers) throws IOException {
        this.body = body;
        socket = new Socket("127.0.0.1", s.port());
        socket.setSoTimeout(30_000);
        out = socket.getOutputStream();
        StringBuilder head = new StringBuilder("PATCH " + location + " HTTP/1.1\r\nHost: x\r\n"
                + "Content-Type: application/octet-stream\r\nContent-Length: " + body.length + "\r\n");
        for (int i = 0; i + 1 < headers.length; i += 2) {
            head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        out.write((head + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** Sends the body up to byte {@code end}. */
    void sendUpTo(int end) throws IOException {
        out.write(body, sent, end - sent);
        out.flush();
        sent = end;
    }

    /** Sends the rest of the body (as far as the server takes it) and returns the whole answer. */
    String finish() throws IOException {
        try {
            sendUpTo(body.length);
        } catch (IOException e) {
            // the server answered (and closed) before the end: its answer is still there
        }
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        try {
            in.transferTo(answer);
        } catch (IOException e) {
            // a reset after the answer
        }
        return answer.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
