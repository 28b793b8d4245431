package ai.echo.defaultbackend;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.ServerChannelRecvByteBufAllocator;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.ChannelGroupFuture;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.util.NetUtil;
import io.netty.util.NettyRuntime;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The server's lifecycle: binds the traffic and service ports on the chosen transport, then drains and
 * stops. The traffic port has the event-loop group sized by {@code --io-threads}; the service port has one
 * thread of its own, so that encoding a {@code /metrics} scrape never delays traffic. The server also owns
 * the error pages (and their watch thread), the metrics and the access log writer; the access log's lines go
 * to the {@link Stdout} it is given.
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
    private final EventLoopGroup serviceGroup;
    private final ErrorPageStore errorPages;
    private final AccessLog accessLog;
    /** The stdout writer the server made for its access log, when not given one; closed with it. */
    private final Stdout ownStdout;
    private final Metrics metrics;
    private final ServerState state = new ServerState();
    private final ChannelGroup connections = new DefaultChannelGroup("connections", GlobalEventExecutor.INSTANCE);
    private final BackendInitializer trafficInitializer;
    private final int maxConnections;
    private final BackendInitializer serviceInitializer;
    /** How often the error files directory is compared, in case its change events are missed. */
    private static final Duration ERROR_PAGES_CHECK_INTERVAL = Duration.ofSeconds(10);
    /** The kernel's queue of connections waiting to be accepted, per listening socket. */
    private static final int ACCEPT_BACKLOG = 1024;
    /**
     * Connections accepted at most each time the listening socket is ready: a full backlog in four turns
     * of the event loop. 256 accepts cost a few milliseconds, about one turn's work at 1,000 busy
     * connections, so neither the waiting connections nor the open ones wait much longer than a turn.
     */
    private static final int ACCEPTS_PER_WAKEUP = 256;

    private static final Runnable NOTHING = () -> { };

    private Channel trafficChannel;
    private Channel serviceChannel;

    private BackendServer(BackendConfig config, Stdout stdout) {
        this.config = config;
        this.transport = config.transport().resolve();
        this.ioThreads = config.ioThreads() > 0 ? config.ioThreads() : NettyRuntime.availableProcessors();
        this.group = new MultiThreadIoEventLoopGroup(ioThreads, new DefaultThreadFactory("backend-io", true),
                transport.ioHandlerFactory());
        this.serviceGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("backend-svc", true),
                transport.ioHandlerFactory());
        this.errorPages = config.honorXCode()
                ? new ErrorPageStore(Path.of(config.errorFilesPath()), ERROR_PAGES_CHECK_INTERVAL).start()
                : null;
        this.ownStdout = config.accessLog() && stdout == null ? new Stdout(System.out) : null;
        this.accessLog = config.accessLog()
                ? new AccessLog(config.accessLogSampleRate(), config.accessLogMaxLinesPerSecond(),
                        AccessLog.QUEUE_CAPACITY, stdout != null ? stdout : ownStdout, System::nanoTime)
                : null;
        this.metrics = config.metrics() ? new Metrics(new Metrics.Sources(
                this::openConnections, this::openServiceConnections,
                state::badRequests, state::timeouts, state::idleClosed, state::refusedConnections, accessLog,
                errorPages)) : null;
        Responses responses = new Responses();
        this.maxConnections = config.effectiveMaxConnections(Runtime.getRuntime().maxMemory());
        this.trafficInitializer = new BackendInitializer(config, responses, state, connections,
                maxConnections, new Features(Metrics.Port.TRAFFIC, metrics, null, errorPages,
                        config.defaultResponseFormat(), config.debug(), accessLog));
        MetricsEndpoint endpoint = metrics == null ? null : new MetricsEndpoint(metrics);
        this.serviceInitializer = new BackendInitializer(config, responses, state, connections, Integer.MAX_VALUE,
                new Features(Metrics.Port.SERVICE, metrics, endpoint, null, config.defaultResponseFormat(), false,
                        null));
        try {
            trafficChannel = bind(config.port(), trafficInitializer, group);
            serviceChannel = bind(config.svcPort(), serviceInitializer, serviceGroup);
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
        return new BackendServer(config, null);
    }

    /**
     * As {@link #start(BackendConfig)}, with the access log written through {@code stdout}, the process's
     * one writer of its standard output.
     */
    static BackendServer start(BackendConfig config, Stdout stdout) {
        return new BackendServer(config, stdout);
    }

    private Channel bind(int port, BackendInitializer initializer, EventLoopGroup loops) {
        SocketAddress address = config.bindAddress().isEmpty()
                ? new InetSocketAddress(port)
                : new InetSocketAddress(config.bindAddress(), port);
        // Not through ServerBootstrap: its handlers cost annotation proxies at start (see Acceptor).
        ServerSocketChannel channel = null;
        try {
            channel = transport.serverChannelFactory().newChannel();
            channel.config()
                    .setBacklog(ACCEPT_BACKLOG)
                    .setReuseAddress(true)
                    .setRecvByteBufAllocator(acceptAllocator());
            // No TCP_NODELAY on the accepted sockets: every Netty transport sets it on each one already
            // (BackendServerTest checks), and setting it again cost one more system call per connection.
            channel.pipeline().addLast(new Acceptor(loops, initializer));
            loops.register(channel).syncUninterruptibly();
            channel.bind(address).syncUninterruptibly();
            return channel;
        } catch (Exception e) {
            if (channel != null) {
                if (channel.isRegistered()) {
                    channel.close().awaitUninterruptibly();
                } else {
                    channel.unsafe().closeForcibly();
                }
            }
            throw new BindFailedException("cannot listen on " + describe(address) + ": " + reason(e), e);
        }
    }

    /**
     * How the listening socket accepts: up to {@link #ACCEPTS_PER_WAKEUP} connections each time it is
     * ready, stopping early only when none is left. Netty 4.2's epoll listener stops after one: it asks
     * whether more may be waiting by comparing the accepted descriptor with 1, and its sockets are
     * level-triggered, so it takes the next one on the next turn of the event loop, after serving every
     * ready connection. Under load those turns are long: 1,000 connections opened at once by a load test
     * waited in the kernel's accept queue for up to two seconds, one accepted per turn (p99 1.2 s, against
     * 14 ms with this; bench/RESULTS.md).
     */
    private static RecvByteBufAllocator acceptAllocator() {
        ServerChannelRecvByteBufAllocator allocator = new ServerChannelRecvByteBufAllocator();
        allocator.respectMaybeMoreData(false);
        allocator.maxMessagesPerRead(ACCEPTS_PER_WAKEUP);
        return allocator;
    }

    /** {@code *:8080}, {@code 127.0.0.1:8080} or {@code [::1]:8080}: IPv6 compressed, as people write it. */
    private static String describe(SocketAddress address) {
        InetSocketAddress inet = (InetSocketAddress) address;
        return inet.getAddress().isAnyLocalAddress() ? "*:" + inet.getPort() : NetUtil.toSocketAddressString(inet);
    }

    private static String reason(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        // Native transports say "bind(..) failed with error(-98): Address already in use"; keep the reason.
        int colon = message.lastIndexOf(": ");
        return (colon >= 0 ? message.substring(colon + 2) : message).toLowerCase(Locale.ROOT);
    }

    /** The connections open now, on both ports (for tests). */
    ChannelGroup connections() {
        return connections;
    }

    /** The traffic port's listening channel (for tests). */
    Channel trafficChannel() {
        return trafficChannel;
    }

    /** The limit of open connections on the traffic port in force (the flag's, or derived from the heap). */
    public int maxConnections() {
        return maxConnections;
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

    /** What the start-up line says of the added features: error pages, metrics, access log. */
    public String describeFeatures() {
        return (errorPages == null ? "X-Code ignored" : errorPages.describe())
                + (metrics == null ? ", metrics off" : ", metrics on the service port")
                + (accessLog == null ? "" : ", access log on");
    }

    /** Connections currently open on the traffic port. */
    public int openConnections() {
        return trafficInitializer.openConnections();
    }

    private long openServiceConnections() {
        return serviceInitializer.openConnections();
    }

    /**
     * Graceful stop: stops accepting traffic at once, closes idle keep-alive connections, lets requests already
     * being read finish (their answers say {@code Connection: close}) for up to {@code timeout}, then closes
     * whatever is left and releases the threads. The service port keeps answering until then, as 1.5's did
     * (its {@code /healthz} and {@code /metrics} server was never shut down), so a scrape during the drain
     * gets the last figures; each answer there closes its connection too.
     *
     * @return true when every connection finished within the timeout
     */
    public boolean drain(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        state.startDraining();
        if (trafficChannel != null) {
            trafficChannel.close().syncUninterruptibly();
        }
        awaitRegistrations(group, deadline);
        awaitRegistrations(serviceGroup, deadline);
        // What the drain waits for is taken before DRAIN is sent, so that each of them is sent it: the service
        // port still accepts, and one it registers after the DRAIN went round is not waited for (its answer says
        // Connection: close all the same) rather than waited for to its header timeout.
        ChannelGroupFuture closed = connections.newCloseFuture();
        connections.forEach(channel -> channel.pipeline().fireUserEventTriggered(ConnectionGuard.DRAIN));
        boolean drained = closed.awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        close();
        return drained;
    }

    /**
     * A connection the listener accepted before it closed may not be registered with its own event loop yet,
     * and so not among {@link #connections}, which the drain reads next: it would get no DRAIN, the drain
     * would not wait for it, and the loops' shutdown would leave its request unanswered. Its registration is
     * a task already queued on its loop; a task queued after it on every loop has run once it has.
     */
    private static void awaitRegistrations(EventLoopGroup loops, long deadline) {
        for (EventExecutor loop : loops) {
            loop.submit(NOTHING).awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
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
        serviceGroup.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        if (errorPages != null) {
            errorPages.close();
        }
        if (accessLog != null) {
            accessLog.close();
        }
        if (ownStdout != null) {
            ownStdout.close();
        }
    }
}
