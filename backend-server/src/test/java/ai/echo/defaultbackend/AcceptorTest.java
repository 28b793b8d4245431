package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The listening channel's handler on its own: the listening channel is an {@link EmbeddedChannel}, the
 * accepted connections are handed to it as the transport does (as messages), and registered with a real
 * NIO event loop.
 */
class AcceptorTest {

    private final EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final BackendInitializer initializer = new BackendInitializer(BackendConfig.DEFAULTS, new Responses(),
            new ServerState(), new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE), Integer.MAX_VALUE);
    private final EmbeddedChannel listener = new EmbeddedChannel(new Acceptor(loops, initializer));

    @AfterEach
    void stop() {
        listener.finishAndReleaseAll();
        loops.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static List<String> handlers(Channel channel) throws Exception {
        return channel.eventLoop().submit(() -> channel.pipeline().names()).get(10, TimeUnit.SECONDS);
    }

    @Test
    void anAcceptedConnectionIsRegisteredWithTheEventLoopsAndGetsItsPipeline() throws Exception {
        NioSocketChannel accepted = new NioSocketChannel();
        listener.writeInbound(accepted);
        Await.until("registered", accepted::isRegistered);
        assertThat(accepted.eventLoop().parent()).isSameAs(loops);
        assertThat(handlers(accepted)).hasSize(3) // and Netty's tail
                .element(0).asString().startsWith("StrictRequestDecoder");
        assertThat(handlers(accepted).get(1)).startsWith("RoutingHandler");
        assertThat(initializer.openConnections()).isEqualTo(1);
        accepted.close().syncUninterruptibly();
        Await.until("counted as closed", () -> initializer.openConnections() == 0);
        Object passedOn = listener.readInbound();
        assertThat(passedOn).as("nothing passed on").isNull();
    }

    @Test
    void aConnectionThatCannotBeRegisteredIsClosed() throws Exception {
        // An embedded channel cannot be registered with a NIO event loop: its registration fails.
        EmbeddedChannel accepted = new EmbeddedChannel(false, false);
        listener.writeInbound(accepted);
        Await.until("closed", () -> !accepted.isOpen());
        assertThat(accepted.isRegistered()).isFalse();
        assertThat(initializer.openConnections()).as("never set up, so never counted").isZero();
    }

    @Test
    void anAcceptErrorPausesAcceptingForASecond() {
        listener.freezeTime();
        assertThat(listener.config().isAutoRead()).isTrue();
        listener.pipeline().fireExceptionCaught(new IOException("accept(..) failed: Too many open files"));
        assertThat(listener.config().isAutoRead()).isFalse();
        // A second error while paused neither extends the pause nor schedules a second end to it.
        listener.advanceTimeBy(500, TimeUnit.MILLISECONDS);
        listener.pipeline().fireExceptionCaught(new IOException("accept(..) failed: Too many open files"));
        listener.advanceTimeBy(499, TimeUnit.MILLISECONDS);
        listener.runScheduledPendingTasks();
        assertThat(listener.config().isAutoRead()).as("at 999 ms").isFalse();
        listener.advanceTimeBy(1, TimeUnit.MILLISECONDS);
        listener.runScheduledPendingTasks();
        assertThat(listener.config().isAutoRead()).as("at 1 s").isTrue();
        listener.config().setAutoRead(false);
        listener.advanceTimeBy(1, TimeUnit.SECONDS);
        listener.runScheduledPendingTasks();
        assertThat(listener.config().isAutoRead()).as("nothing else scheduled").isFalse();
        // Handled here: nothing reached the end of the pipeline, where Netty logs it as unhandled.
        listener.checkException();
    }
}
