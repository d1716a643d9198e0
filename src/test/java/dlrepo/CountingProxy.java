package dlrepo;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy in front of a daemon that counts what goes through: the bytes each way
 * (headers included), the HTTP/1.1 requests a client sends (method, path, body length:
 * read from the client's stream, which is forwarded unchanged whatever it holds), and the
 * connections open at once. It can also slow the transfer down, so that a test can stop a
 * client in the middle of a big file.
 *
 * <p>The request count assumes every announced body is sent: a request with
 * {@code Expect: 100-continue} refused before its body is counted as sent, and the
 * requests after it on that connection may be miscounted (the bytes still go through).
 */
public final class CountingProxy implements AutoCloseable {
    /** One request as the client sent it: {@code bodyLength} is -1 for a chunked body. */
    public record Request(String method, String path, long bodyLength, boolean chunked) {
        /** Whether the request carried a body (what an upload of content costs). */
        public boolean hasBody() {
            return chunked || bodyLength > 0;
        }
    }

    private final ServerSocket server;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private volatile int target;
    /** Bytes from the client to the server. */
    public final AtomicLong up = new AtomicLong();
    /** Bytes from the server to the client. */
    public final AtomicLong down = new AtomicLong();
    /** Pause after each forwarded chunk (at most 64 KiB), in milliseconds; 0 = full speed. */
    public volatile int throttleMillis;
    /** The requests seen, in the order their heads arrived. */
    public final List<Request> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger maxOpen = new AtomicInteger();
    private final AtomicInteger accepted = new AtomicInteger();

    public CountingProxy(int target) throws IOException {
        this.target = target;
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "counting-proxy");
        t.setDaemon(true);
        t.start();
    }

    public void target(int port) {
        target = port;
    }

    public int port() {
        return server.getLocalPort();
    }

    public String url() {
        return "http://127.0.0.1:" + port();
    }

    /** The most connections that were open at once since the last {@link #reset}. */
    public int maxConnections() {
        return maxOpen.get();
    }

    /** The connections accepted since the last {@link #reset}. */
    public int connections() {
        return accepted.get();
    }

    /** The requests that carried a body. */
    public List<Request> bodies() {
        return requests.stream().filter(Request::hasBody).toList();
    }

    /**
     * Waits until no byte has gone up for a second: a killed client's connection may
     * still be draining through the proxy, and must not count for the next run.
     */
    public void awaitQuiet() throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        long last = -1;
        while (System.currentTimeMillis() < deadline && up.get() != last) {
            last = up.get();
            Thread.sleep(1000);
        }
    }

    public void reset() {
        up.set(0);
        down.set(0);
        requests.clear();
        accepted.set(0);
        maxOpen.set(open.get());
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream;
                try {
                    upstream = new Socket(InetAddress.getLoopbackAddress(), target);
                } catch (IOException e) {
                    client.close(); // the daemon is gone: the client sees the connection fail
                    continue;
                }
                sockets.add(client);
                sockets.add(upstream);
                accepted.incrementAndGet();
                int n = open.incrementAndGet();
                maxOpen.accumulateAndGet(n, Math::max);
                Connection c = new Connection(client, upstream);
                start(() -> c.pumpRequests(), "counting-proxy-up");
                start(() -> c.pump(upstream, client, down), "counting-proxy-down");
            } catch (IOException e) {
                // closed
            }
        }
    }

    private static void start(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    /** The two directions of one client connection; the second to end closes both sockets. */
    private final class Connection {
        private final Socket client;
        private final Socket upstream;
        private final AtomicInteger live = new AtomicInteger(2);
        private boolean closed;

        Connection(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        /** Server to client: copied as it comes. */
        void pump(Socket from, Socket to, AtomicLong counter) {
            byte[] buf = new byte[65536];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                for (int n; (n = in.read(buf)) > 0;) {
                    counter.addAndGet(n);
                    out.write(buf, 0, n);
                    out.flush();
                    pause();
                }
                ended(to);
            } catch (IOException | InterruptedException e) {
                closeBoth();
            }
        }

        /** Client to server: request by request (head, then body by its length or chunks). */
        void pumpRequests() {
            try {
                InputStream in = new BufferedInputStream(client.getInputStream(), 65536);
                OutputStream out = upstream.getOutputStream();
                while (true) {
                    String head = readHead(in, out);
                    if (head == null) {
                        break;
                    }
                    if (head.isBlank()) {
                        continue;
                    }
                    String[] lines = head.split("\r\n");
                    String[] first = lines[0].split(" ");
                    long length = 0;
                    boolean chunked = false;
                    for (int i = 1; i < lines.length; i++) {
                        int colon = lines[i].indexOf(':');
                        if (colon < 0) {
                            continue;
                        }
                        String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
                        String value = lines[i].substring(colon + 1).trim();
                        if (name.equals("content-length")) {
                            length = Long.parseLong(value);
                        } else if (name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) {
                            chunked = true;
                        }
                    }
                    requests.add(new Request(first[0], first.length > 1 ? first[1] : "", chunked ? -1 : length,
                            chunked));
                    if (chunked) {
                        copyChunks(in, out);
                    } else {
                        copy(in, out, length);
                    }
                }
                ended(upstream);
            } catch (IOException | InterruptedException | RuntimeException e) {
                closeBoth();
            }
        }

        /** Reads and forwards one request head (through the empty line); null at the end of the stream. */
        private String readHead(InputStream in, OutputStream out) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int tail = 0; // the last four bytes
            for (int b; (b = in.read()) != -1;) {
                head.write(b);
                tail = (tail << 8) | b;
                if (tail == 0x0d0a0d0a || (head.size() == 2 && (tail & 0xffff) == 0x0d0a)) {
                    break; // the end of the head, or a stray CRLF between requests
                }
            }
            if (head.size() == 0) {
                return null;
            }
            byte[] bytes = head.toByteArray();
            up.addAndGet(bytes.length);
            out.write(bytes);
            out.flush();
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }

        private void copy(InputStream in, OutputStream out, long length) throws IOException, InterruptedException {
            byte[] buf = new byte[65536];
            while (length > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, length));
                if (n < 0) {
                    throw new java.io.EOFException();
                }
                up.addAndGet(n);
                out.write(buf, 0, n);
                out.flush();
                length -= n;
                pause();
            }
        }

        private void copyChunks(InputStream in, OutputStream out) throws IOException, InterruptedException {
            while (true) {
                String line = readLine(in, out);
                long size = Long.parseLong(line.split(";")[0].trim(), 16);
                if (size == 0) {
                    while (!readLine(in, out).isEmpty()) {
                        // trailers
                    }
                    return;
                }
                copy(in, out, size + 2);
            }
        }

        private String readLine(InputStream in, OutputStream out) throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            for (int b; (b = in.read()) != -1;) {
                line.write(b);
                if (b == '\n') {
                    break;
                }
            }
            byte[] bytes = line.toByteArray();
            up.addAndGet(bytes.length);
            out.write(bytes);
            out.flush();
            return new String(bytes, StandardCharsets.ISO_8859_1).strip();
        }

        private void pause() throws InterruptedException {
            int pause = throttleMillis;
            if (pause > 0) {
                Thread.sleep(pause);
            }
        }

        private void ended(Socket to) throws IOException {
            to.shutdownOutput();
            if (live.decrementAndGet() == 0) {
                closeBoth();
            }
        }

        private synchronized void closeBoth() {
            if (closed) {
                return;
            }
            closed = true;
            open.decrementAndGet();
            for (Socket s : new Socket[] {client, upstream}) {
                try {
                    s.close();
                } catch (IOException e) {
                    // already closed
                }
                sockets.remove(s);
            }
        }
    }

    /** Closes the connections open now (a server going down: kept-alive connections die too). */
    public void dropConnections() {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException e) {
                // already closed
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException e) {
                // already closed
            }
        }
    }
}
