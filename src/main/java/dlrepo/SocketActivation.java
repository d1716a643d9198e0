package dlrepo;

import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listening socket systemd hands over, if any: {@code LISTEN_FDS}/{@code LISTEN_PID}
 * (the socket is fd 3) or {@code StandardInput=socket} (the socket is stdin). Such a socket
 * must never be closed by the daemon: closing an inherited channel makes the JDK point
 * fds 0-2 at /dev/null, and every later log line would be lost.
 */
final class SocketActivation {
    private static final Logger LOG = LoggerFactory.getLogger(SocketActivation.class);
    private static final int SD_LISTEN_FDS_START = 3;

    private SocketActivation() {
    }

    /** The inherited listening socket, and how it came. */
    record Inherited(ServerSocketChannel channel, String how) {
    }

    static Optional<Inherited> find(Map<String, String> env) throws IOException {
        String fds = env.get("LISTEN_FDS");
        String pid = env.get("LISTEN_PID");
        if (fds != null && pid != null && pid.strip().equals(Long.toString(ProcessHandle.current().pid()))) {
            int n;
            try {
                n = Integer.parseInt(fds.strip());
            } catch (NumberFormatException e) {
                throw new IOException("LISTEN_FDS=" + fds + ": not a number");
            }
            if (n != 1) {
                throw new IOException("LISTEN_FDS=" + fds + ": dlrepo listens on exactly one socket");
            }
            refuseUnixSocket(SD_LISTEN_FDS_START);
            return Optional.of(new Inherited(fromFd(SD_LISTEN_FDS_START), "LISTEN_FDS (fd 3)"));
        }
        Channel stdin = System.inheritedChannel();
        if (stdin instanceof ServerSocketChannel ssc) {
            refuseUnixSocket(0);
            // Undertow's stop() closes the channels of its worker, this one included, and
            // closing the JDK's inherited channel points fds 0-2 at /dev/null: the last log
            // lines ("stopped") would be lost. A channel of our own on fd 0 only closes fd 0.
            try {
                return Optional.of(new Inherited(fromFd(0), "standard input"));
            } catch (IOException e) {
                return Optional.of(new Inherited(ssc, "standard input"));
            }
        }
        if (stdin != null) {
            throw new IOException("standard input is a " + stdin.getClass().getSimpleName()
                    + ", not a listening socket: use StandardInput=socket without Accept=yes");
        }
        return Optional.empty();
    }

    /**
     * dlrepo serves TCP only: a UNIX socket would be accepted on but never answered. Linux
     * tells the kind of a socket in /proc: its inode is listed in /proc/net/unix.
     */
    private static void refuseUnixSocket(int fd) throws IOException {
        String link;
        try {
            link = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return;
        }
        if (!link.startsWith("socket:[")) {
            return;
        }
        String inode = link.substring("socket:[".length(), link.length() - 1);
        try (var lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/net/unix"))) {
            if (lines.skip(1).map(l -> l.strip().split("\\s+")).anyMatch(f -> f.length > 6 && f[6].equals(inode))) {
                throw new IOException("the socket from systemd (fd " + fd + ") is a UNIX socket: dlrepo listens "
                        + "on TCP only (ListenStream=<address>:<port>)");
            }
        } catch (java.nio.file.NoSuchFileException e) {
            // no /proc: nothing to check with
        }
    }

    /**
     * A channel for a listening socket given as a file descriptor number. The JDK has no
     * public API for it: this uses the same internal constructor System.inheritedChannel()
     * does (needs {@code Add-Opens: java.base/sun.nio.ch}, set in the jar's manifest).
     */
    private static ServerSocketChannel fromFd(int fdNumber) throws IOException {
        try {
            Class<?> ioUtil = Class.forName("sun.nio.ch.IOUtil");
            Method newFd = ioUtil.getDeclaredMethod("newFD", int.class);
            newFd.setAccessible(true);
            FileDescriptor fd = (FileDescriptor) newFd.invoke(null, fdNumber);
            // the family decides how accepted sockets are set up: read it off the socket
            Method localAddress = Class.forName("sun.nio.ch.Net").getDeclaredMethod("localAddress",
                    FileDescriptor.class);
            localAddress.setAccessible(true);
            InetSocketAddress local = (InetSocketAddress) localAddress.invoke(null, fd);
            ProtocolFamily family = local.getAddress() instanceof java.net.Inet4Address
                    ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6;
            Class<?> impl = Class.forName("sun.nio.ch.ServerSocketChannelImpl");
            Constructor<?> ctor = impl.getDeclaredConstructor(SelectorProvider.class, ProtocolFamily.class,
                    FileDescriptor.class, boolean.class);
            ctor.setAccessible(true);
            return (ServerSocketChannel) ctor.newInstance(SelectorProvider.provider(), family, fd, true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IOException("cannot use the socket of fd " + fdNumber + " (run with --add-opens "
                    + "java.base/sun.nio.ch=ALL-UNNAMED, or hand the socket over on standard input): " + e, e);
        }
    }

    /** Tells systemd the daemon is ready (Type=notify), when it asked for it. */
    static void notifyReady(Map<String, String> env) {
        notify(env, "--ready");
    }

    /** Tells systemd that the start-up goes on for up to a minute more (EXTEND_TIMEOUT_USEC). */
    static void notifyStillStarting(Map<String, String> env) {
        notify(env, "EXTEND_TIMEOUT_USEC=60000000");
    }

    private static void notify(Map<String, String> env, String what) {
        if (env.get("NOTIFY_SOCKET") == null) {
            return;
        }
        // The JDK cannot send on the notification socket (a UNIX datagram socket):
        // systemd-notify does it; the unit sets NotifyAccess=all so that it is accepted.
        try {
            Process p = new ProcessBuilder("systemd-notify", what, "--pid=" + ProcessHandle.current().pid())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
                LOG.warn("systemd-notify {} failed", what);
            }
        } catch (IOException e) {
            LOG.warn("cannot run systemd-notify: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
