package ai.echo.defaultbackend;

import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listening channel's only handler: gives each accepted connection its {@link BackendInitializer} and
 * registers it with an event loop of the group; when accepting fails (out of file descriptors, say), stops
 * accepting for a second, so that the event loop serves the open connections instead of spinning on the
 * listening socket. This is what Netty's {@code ServerBootstrap} does, without what {@code ServerBootstrap}
 * costs at start: its handlers extend Netty's adapters, whose {@code @Sharable} and {@code @Skip}
 * annotations Netty reads through reflection, and for each annotation type read the JDK generates a proxy
 * class at run time, which an AOT cache cannot hold. Without them the first {@code /healthz} comes 17 ms
 * sooner, and the server holds about 0.5 MiB less memory at rest (bench/RESULTS.md). Which is why this and
 * the connection's handlers pass events on through {@link InboundPassThrough} instead of Netty's adapter;
 * {@code AnnotationProxiesIT} fails if a proxy class is made again.
 *
 * <p>One per listening channel; all methods run on its event loop.
 */
final class Acceptor extends InboundPassThrough implements ChannelFutureListener {

    private static final Logger LOG = LoggerFactory.getLogger(Acceptor.class);
    /** How long accepting stays off after it failed. */
    static final long PAUSE_SECONDS = 1;

    private final EventLoopGroup loops;
    private final ChannelHandler initializer;
    private Runnable resume;

    /**
     * @param loops       the event loops the accepted connections are registered with
     * @param initializer added to each accepted connection before it is registered
     */
    Acceptor(EventLoopGroup loops, ChannelHandler initializer) {
        this.loops = loops;
        this.initializer = initializer;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ChannelConfig config = ctx.channel().config();
        // Made once, now: when accepting fails for want of file descriptors, loading a class may fail too.
        resume = () -> config.setAutoRead(true);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Channel child = (Channel) msg;
        child.pipeline().addLast(initializer);
        try {
            loops.register(child).addListener(this);
        } catch (Throwable e) {
            forceClose(child, e);
        }
    }

    /** The registration of an accepted connection is done: one that failed is closed. */
    @Override
    public void operationComplete(ChannelFuture registration) {
        if (!registration.isSuccess()) {
            forceClose(registration.channel(), registration.cause());
        }
    }

    private static void forceClose(Channel child, Throwable cause) {
        child.unsafe().closeForcibly();
        LOG.warn("closed an accepted connection that could not be registered: {}", reason(cause));
    }

    /** Accepting failed: no more accepting for {@link #PAUSE_SECONDS}; the error is logged, not passed on. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ChannelConfig config = ctx.channel().config();
        if (config.isAutoRead()) {
            config.setAutoRead(false);
            ctx.executor().schedule(resume, PAUSE_SECONDS, TimeUnit.SECONDS);
            LOG.warn("accepting connections paused for {} s: {}", PAUSE_SECONDS, reason(cause));
        }
    }

    private static String reason(Throwable cause) {
        return cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage();
    }
}
