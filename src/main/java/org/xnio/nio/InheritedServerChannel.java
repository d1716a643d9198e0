package org.xnio.nio;

import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import org.xnio.ChannelListener;
import org.xnio.OptionMap;
import org.xnio.StreamConnection;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;

/**
 * Turns a listening socket inherited from systemd into an XNIO accepting channel.
 *
 * <p>Undertow's builder can only bind a host and port, and XNIO's channel wrappers are
 * package-private, hence this class in XNIO's package (fine on the class path; it would
 * not be under JPMS). It does exactly what {@code NioXnioWorker.createTcpConnectionServer}
 * does after binding: wrap the channel in a {@code NioTcpServer} (accepting on the worker's
 * accept thread) inside a {@code QueuedNioTcpServer2}, and install the accept listener.
 * Checked against xnio-nio 3.8.16; a different XNIO version may need another look.
 */
public final class InheritedServerChannel {
    private InheritedServerChannel() {
    }

    public static AcceptingChannel<StreamConnection> wrap(XnioWorker worker, ServerSocketChannel channel,
            OptionMap options, ChannelListener<? super AcceptingChannel<StreamConnection>> acceptListener)
            throws IOException {
        channel.configureBlocking(false);
        QueuedNioTcpServer2 server = new QueuedNioTcpServer2(
                new NioTcpServer((NioXnioWorker) worker, channel, options, true));
        server.setAcceptListener(acceptListener);
        return server;
    }
}
