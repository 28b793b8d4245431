package ai.echo.defaultbackend;

import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds each connection's pipeline: the {@link StrictRequestDecoder} and the {@link RoutingHandler}, both
 * holding the connection's {@link ConnectionGuard} (timeouts). There is no response encoder: every
 * response is already bytes ({@link Responses}). Connections past the limit are closed as soon as they
 * are accepted.
 *
 * <p>Added to each connection before it is registered, it builds the pipeline once the connection is
 * registered, and removes itself: what Netty's {@code ChannelInitializer} does, without extending Netty's
 * adapters (see {@link Acceptor}). One instance serves every connection of a listener.
 */
final class BackendInitializer implements ChannelHandler {

    private static final Logger LOG = LoggerFactory.getLogger(BackendInitializer.class);
    /** The least a connection's read asks the socket for: a request head shorter than this is read in one call. */
    static final int MIN_READ = 2048;
    /**
     * How each connection reads: Netty's adaptive sizing, as by default, but never below {@link #MIN_READ}.
     * By default the size follows the reads down, as far as 64 bytes, and a read that fills its buffer is
     * followed by another, in case more is waiting. A request whose length is a size the allocator steps
     * through (a multiple of 16 up to 496, then 512 and 1024: the suite's X-Code request is 80 bytes) lands
     * on it every few requests, and each time costs that second read, which finds nothing (EAGAIN): one
     * request in eight paid one more system call (bench/RESULTS.md). A buffer is held while its read is
     * decoded, and past that only as the start of a head that has not all arrived, as Netty's first read
     * already was 2 KiB: nothing more at rest. Shared, as its settings are the same for every connection:
     * each makes its own handle from it, and none may change it (its reads per wakeup would change for all).
     */
    private static final RecvByteBufAllocator READS = reads();

    private final BackendConfig config;
    private final Responses responses;
    private final ServerState state;
    private final ChannelGroup channels;
    private final int maxConnections;
    private final AtomicInteger open = new AtomicInteger();
    private final HttpDecoderConfig decoderConfig;
    private final StrictRequestDecoder.HeadScratch headScratch = new StrictRequestDecoder.HeadScratch();
    private final Features features;
    private final ChannelFutureListener countClosed = future -> open.decrementAndGet();
    /** What every connection's guard calls when it closes one for a timeout: one for all, not one each. */
    private final Runnable countTimeout;
    private final Runnable countIdle;

    /**
     * @param maxConnections the limit of open connections through this initializer, or
     *                       {@link Integer#MAX_VALUE} for none
     */
    BackendInitializer(BackendConfig config, Responses responses, ServerState state, ChannelGroup channels,
                       int maxConnections) {
        this(config, responses, state, channels, maxConnections, Features.NONE);
    }

    /**
     * @param features what this listener adds to the 1.5 answers (error pages, metrics, access log)
     */
    BackendInitializer(BackendConfig config, Responses responses, ServerState state, ChannelGroup channels,
                       int maxConnections, Features features) {
        this.features = features;
        this.config = config;
        this.responses = responses;
        this.state = state;
        this.countTimeout = state::timedOut;
        this.countIdle = state::idleExpired;
        this.channels = channels;
        this.maxConnections = maxConnections;
        // A lone LF ends a line as CRLF does: Go's server, which 1.5 is, reads lines so, and RFC 9112 (2.2)
        // lets a recipient. Netty's strict mode answered such a request with a 400. What Netty's lenient mode
        // would also skip before a request line, control characters, the decoder still refuses.
        this.decoderConfig = new HttpDecoderConfig()
                .setMaxInitialLineLength(config.maxRequestLineBytes())
                .setMaxHeaderSize(config.maxHeaderBytes())
                .setValidateHeaders(true)
                .setStrictLineParsing(false);
    }

    /**
     * {@link #READS}: up to Netty's default maximum of 64 KiB a read (for a body being drained), and up to 16
     * reads a wakeup, what Netty gives a stream channel's default allocator (the constructor alone gives 1).
     */
    private static RecvByteBufAllocator reads() {
        AdaptiveRecvByteBufAllocator reads = new AdaptiveRecvByteBufAllocator(MIN_READ, MIN_READ, 64 * 1024);
        reads.maxMessagesPerRead(16);
        return reads;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ctx.pipeline().remove(this);
        try {
            initChannel(ctx.channel());
        } catch (RuntimeException e) {
            LOG.warn("closing a connection whose pipeline could not be built: {}", e.toString());
            ctx.channel().close();
        }
    }

    private void initChannel(Channel channel) {
        if (open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            state.connectionRefused();
            channel.close();
            return;
        }
        channel.config().setRecvByteBufAllocator(READS);
        channel.closeFuture().addListener(countClosed);
        channels.add(channel);
        ConnectionGuard guard = new ConnectionGuard(config, countTimeout, countIdle);
        channel.pipeline().addLast(
                new StrictRequestDecoder(decoderConfig, guard, headScratch),
                new RoutingHandler(responses, state, guard, features));
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // Nothing held per connection.
    }

    @Override
    @SuppressWarnings("deprecation")
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.fireExceptionCaught(cause);
    }

    int openConnections() {
        return open.get();
    }
}
