import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.ServerChannelRecvByteBufAllocator;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The floor of the bench's floor part: Netty's epoll transport (or io_uring, when the server under test is
 * run on it) with nothing of HTTP. One event loop, one handler that answers every read with a fixed
 * response (the 1.5 404, or 200 "ok" when the read starts with {@code GET /healthz}) and flushes when the
 * read is done, as the server does; the listener accepts up to 256 connections a wakeup from a backlog of
 * 1,024, as the server's does. No decoding, no routing, no clock: what is left
 * is what any server on this transport pays per request, so the server's cost above it is its HTTP layer's
 * (Netty's request decoder and the routing handler).
 *
 * <p>It answers once per read, so it serves only clients that send one request and wait for its answer
 * (wrk's keep-alive cases): not pipelining, not {@code Connection: close}. Run by bench/bench.py, compiled
 * against the server's jar, which holds Netty:
 * {@code java -cp backend-server.jar:CLASSES FloorServer PORT [epoll|io_uring]}.
 */
public final class FloorServer {

    private static final String DATE =
            DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC));
    private static final ByteBuf NOT_FOUND = fixed("HTTP/1.1 404 Not Found\r\nDate: " + DATE
            + "\r\nContent-Length: 21\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ndefault backend - 404");
    private static final ByteBuf OK = fixed("HTTP/1.1 200 OK\r\nDate: " + DATE
            + "\r\nContent-Length: 2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nok");
    private static final byte[] HEALTHZ = "GET /healthz ".getBytes(StandardCharsets.US_ASCII);

    private FloorServer() {
    }

    private static ByteBuf fixed(String response) {
        byte[] bytes = response.getBytes(StandardCharsets.US_ASCII);
        return Unpooled.unreleasableBuffer(Unpooled.directBuffer(bytes.length).writeBytes(bytes)).asReadOnly();
    }

    @ChannelHandler.Sharable
    private static final class Answer extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf request = (ByteBuf) msg;
            try {
                ctx.write((startsWithHealthz(request) ? OK : NOT_FOUND).duplicate(), ctx.voidPromise());
            } finally {
                request.release();
            }
        }

        private static boolean startsWithHealthz(ByteBuf request) {
            if (request.readableBytes() < HEALTHZ.length) {
                return false;
            }
            for (int i = 0; i < HEALTHZ.length; i++) {
                if (request.getByte(request.readerIndex() + i) != HEALTHZ[i]) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    public static void main(String[] args) throws InterruptedException {
        String transport = args.length == 2 ? args[1] : "epoll";
        if (args.length < 1 || args.length > 2 || !transport.equals("epoll") && !transport.equals("io_uring")) {
            System.err.println("usage: FloorServer PORT [epoll|io_uring]");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        boolean uring = transport.equals("io_uring");
        IoHandlerFactory handlers = uring ? IoUringIoHandler.newFactory() : EpollIoHandler.newFactory();
        Class<? extends ServerChannel> listener =
                uring ? IoUringServerSocketChannel.class : EpollServerSocketChannel.class;
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, handlers);
        ServerChannelRecvByteBufAllocator accepts = new ServerChannelRecvByteBufAllocator();
        accepts.respectMaybeMoreData(false);
        accepts.maxMessagesPerRead(256);
        Answer answer = new Answer();
        try {
            new ServerBootstrap()
                    .group(loop)
                    .channel(listener)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, accepts)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel channel) {
                            channel.pipeline().addLast(answer);
                        }
                    })
                    .bind("127.0.0.1", port).sync()
                    .channel().closeFuture().sync();
        } finally {
            loop.shutdownGracefully();
        }
    }
}
