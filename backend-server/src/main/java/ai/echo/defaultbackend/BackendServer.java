package ai.echo.defaultbackend;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.NettyRuntime;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The server's lifecycle: binds the traffic and service ports on the chosen transport, then drains and
 * stops. Both ports share one event-loop group, which accepts and serves.
 */
public final class BackendServer implements AutoCloseable {

    /** A port could not be bound; the message names the address and the reason. */
    public static final class BindFailedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BindFailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final BackendConfig config;
    private final Transport transport;
    private final int ioThreads;
    private final EventLoopGroup group;
    private final ServerState state = new ServerState();
    private final ChannelGroup connections = new DefaultChannelGroup("connections", GlobalEventExecutor.INSTANCE);
    private final BackendInitializer trafficInitializer;
    private Channel trafficChannel;
    private Channel serviceChannel;

    private BackendServer(BackendConfig config) {
        this.config = config;
        this.transport = config.transport().resolve();
        this.ioThreads = config.ioThreads() > 0 ? config.ioThreads() : NettyRuntime.availableProcessors();
        this.group = new MultiThreadIoEventLoopGroup(ioThreads, new DefaultThreadFactory("backend-io", true),
                transport.ioHandlerFactory());
        Responses responses = new Responses();
        this.trafficInitializer =
                new BackendInitializer(config, responses, state, connections, config.maxConnections());
        BackendInitializer serviceInitializer =
                new BackendInitializer(config, responses, state, connections, Integer.MAX_VALUE);
        try {
            trafficChannel = bind(config.port(), trafficInitializer);
            serviceChannel = bind(config.svcPort(), serviceInitializer);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Binds both ports and starts serving.
     *
     * @throws BindFailedException            when a port cannot be bound
     * @throws Transport.UnavailableException when the transport asked for cannot be loaded
     */
    public static BackendServer start(BackendConfig config) {
        return new BackendServer(config);
    }

    private Channel bind(int port, BackendInitializer initializer) {
        SocketAddress address = config.bindAddress().isEmpty()
                ? new InetSocketAddress(port)
                : new InetSocketAddress(config.bindAddress(), port);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(initializer);
        try {
            return bootstrap.bind(address).syncUninterruptibly().channel();
        } catch (Exception e) {
            throw new BindFailedException("cannot listen on " + describe(address) + ": " + reason(e), e);
        }
    }

    private static String describe(SocketAddress address) {
        InetSocketAddress inet = (InetSocketAddress) address;
        String host = inet.getAddress().isAnyLocalAddress() ? "*" : inet.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + inet.getPort();
    }

    private static String reason(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        // Native transports say "bind(..) failed with error(-98): Address already in use"; keep the reason.
        int colon = message.lastIndexOf(": ");
        return (colon >= 0 ? message.substring(colon + 2) : message).toLowerCase(Locale.ROOT);
    }

    /** The traffic port actually bound (useful with port 0). */
    public int port() {
        return ((InetSocketAddress) trafficChannel.localAddress()).getPort();
    }

    /** The service port actually bound. */
    public int svcPort() {
        return ((InetSocketAddress) serviceChannel.localAddress()).getPort();
    }

    /** The transport in use, never {@link Transport#AUTO}. */
    public Transport transport() {
        return transport;
    }

    public int ioThreads() {
        return ioThreads;
    }

    /** Connections currently open on the traffic port. */
    public int openConnections() {
        return trafficInitializer.openConnections();
    }

    /**
     * Graceful stop: stops accepting at once, closes idle keep-alive connections, lets requests already
     * being read finish (their answers say {@code Connection: close}) for up to {@code timeout}, then closes
     * whatever is left and releases the threads.
     *
     * @return true when every connection finished within the timeout
     */
    public boolean drain(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        state.startDraining();
        closeListeners();
        connections.forEach(channel -> channel.pipeline().fireUserEventTriggered(ConnectionGuard.DRAIN));
        boolean drained = connections.newCloseFuture()
                .awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        close();
        return drained;
    }

    private void closeListeners() {
        if (trafficChannel != null) {
            trafficChannel.close().syncUninterruptibly();
        }
        if (serviceChannel != null) {
            serviceChannel.close().syncUninterruptibly();
        }
    }

    /** Immediate stop: closes the ports and every connection. */
    @Override
    public void close() {
        closeListeners();
        connections.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
