package ai.echo.defaultbackend;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Builds each connection's pipeline: the {@link StrictRequestDecoder} and the {@link RoutingHandler}, both
 * holding the connection's {@link ConnectionGuard} (timeouts). There is no response encoder: every
 * response is already bytes ({@link Responses}). Connections past the limit are closed as soon as they
 * are accepted.
 */
@ChannelHandler.Sharable
final class BackendInitializer extends ChannelInitializer<Channel> {

    private final BackendConfig config;
    private final Responses responses;
    private final ServerState state;
    private final ChannelGroup channels;
    private final int maxConnections;
    private final AtomicInteger open = new AtomicInteger();
    private final HttpDecoderConfig decoderConfig;
    private final Features features;

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
        this.channels = channels;
        this.maxConnections = maxConnections;
        this.decoderConfig = new HttpDecoderConfig()
                .setMaxInitialLineLength(config.maxRequestLineBytes())
                .setMaxHeaderSize(config.maxHeaderBytes())
                .setValidateHeaders(true);
    }

    @Override
    protected void initChannel(Channel channel) {
        if (open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            state.connectionRefused();
            channel.close();
            return;
        }
        channel.closeFuture().addListener(future -> open.decrementAndGet());
        channels.add(channel);
        ConnectionGuard guard = new ConnectionGuard(config, state::timedOut);
        channel.pipeline().addLast(
                new StrictRequestDecoder(decoderConfig, guard),
                new RoutingHandler(responses, state, guard, features));
        if (state.isDraining()) {
            channel.pipeline().fireUserEventTriggered(ConnectionGuard.DRAIN);
        }
    }

    int openConnections() {
        return open.get();
    }
}
