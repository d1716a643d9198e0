package dlrepo.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy between the CLI and the daemon that counts the bytes going each way: what the
 * CLI really put on the wire, headers included. It can also slow the transfer down, so that
 * a test can stop the CLI in the middle of a big file.
 */
final class CountingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private volatile int target;
    /** Bytes from the client to the server. */
    final AtomicLong up = new AtomicLong();
    /** Bytes from the server to the client. */
    final AtomicLong down = new AtomicLong();
    /** Pause after each forwarded chunk (at most 64 KiB), in milliseconds; 0 = full speed. */
    volatile int throttleMillis;

    CountingProxy(int target) throws IOException {
        this.target = target;
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "counting-proxy");
        t.setDaemon(true);
        t.start();
    }

    void target(int port) {
        target = port;
    }

    int port() {
        return server.getLocalPort();
    }

    String url() {
        return "http://127.0.0.1:" + port();
    }

    /**
     * Waits until no byte has gone up for a second: a killed client's connection may
     * still be draining through the proxy, and must not count for the next run.
     */
    void awaitQuiet() throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        long last = -1;
        while (System.currentTimeMillis() < deadline && up.get() != last) {
            last = up.get();
            Thread.sleep(1000);
        }
    }

    void reset() {
        up.set(0);
        down.set(0);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
                sockets.add(client);
                sockets.add(upstream);
                java.util.concurrent.atomic.AtomicInteger live = new java.util.concurrent.atomic.AtomicInteger(2);
                pump(client, upstream, up, live);
                pump(upstream, client, down, live);
            } catch (IOException e) {
                // closed, or the daemon is gone: the client sees the connection fail
            }
        }
    }

    /** Copies from -> to; the second of the two pumps of a connection to end closes it. */
    private void pump(Socket from, Socket to, AtomicLong counter, java.util.concurrent.atomic.AtomicInteger live) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[65536];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                for (int n; (n = in.read(buf)) > 0;) {
                    counter.addAndGet(n);
                    out.write(buf, 0, n);
                    out.flush();
                    int pause = throttleMillis;
                    if (pause > 0) {
                        Thread.sleep(pause);
                    }
                }
                to.shutdownOutput();
                if (live.decrementAndGet() == 0) {
                    closeBoth(from, to);
                }
            } catch (IOException | InterruptedException e) {
                closeBoth(from, to);
            }
        }, "counting-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private void closeBoth(Socket a, Socket b) {
        for (Socket s : new Socket[] {a, b}) {
            try {
                s.close();
            } catch (IOException e) {
                // already closed
            }
            sockets.remove(s);
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
