package ai.echo.defaultbackend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers each request: {@code /healthz} gets 200 {@code ok}, everything else 404, and bad input 400, 414 or
 * 431 with the connection closed. Bodies are dropped as they stream in and never read: the answer goes out
 * once the request has been read to its end, so that pipelined requests are answered in order and the
 * connection is ready for the next one. A request that waits for {@code 100 Continue} gets its final answer
 * at once instead, and the connection is then closed rather than left holding a body nobody will read.
 *
 * <p>One instance per connection; all methods run on its event loop.
 */
final class RoutingHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(RoutingHandler.class);
    private static final String HEALTHZ = "/healthz";
    /** How long a closing connection keeps draining what the client still sends, as Go's rstAvoidanceDelay. */
    private static final long LINGER_MILLIS = 500;

    private final Responses responses;
    private final ServerState state;
    private final ConnectionGuard guard;

    /** The answer to the request being read, sent when its last content arrives; null between requests. */
    private Responses.Kind pending;
    private boolean pendingHead;
    private boolean pendingHttp10;
    private boolean pendingKeepAlive;
    /** Set once the connection is to be closed: anything read after that is dropped. */
    private boolean closing;
    private boolean needsFlush;

    RoutingHandler(Responses responses, ServerState state, ConnectionGuard guard) {
        this.responses = responses;
        this.state = state;
        this.guard = guard;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (closing) {
                return;
            }
            if (msg instanceof HttpRequest) {
                onHead(ctx, (HttpRequest) msg);
            }
            if (!closing && msg instanceof HttpContent) {
                DecoderResult result = ((HttpContent) msg).decoderResult();
                if (result.isFailure()) {
                    // A broken body (bad chunk size, truncated chunk): the head was fine, the request is not.
                    reject(ctx, result.cause());
                } else if (msg instanceof LastHttpContent && pending != null) {
                    answer(ctx);
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHead(ChannelHandlerContext ctx, HttpRequest request) {
        guard.headReceived();
        DecoderResult result = request.decoderResult();
        if (result.isFailure()) {
            reject(ctx, result.cause());
            return;
        }
        HttpVersion version = request.protocolVersion();
        if (version.majorVersion() != 1) {
            reject(ctx, null);
            return;
        }
        boolean http10 = version.minorVersion() == 0;
        if (!http10 && request.headers().getAll(HttpHeaderNames.HOST).size() != 1) {
            reject(ctx, null); // RFC 9112 3.2: exactly one Host in HTTP/1.1
            return;
        }
        String uri = request.uri();
        if (!isValidTarget(uri)) {
            reject(ctx, null);
            return;
        }
        pending = isHealthz(uri) ? Responses.Kind.OK : Responses.Kind.NOT_FOUND;
        pendingHead = HttpMethod.HEAD.equals(request.method());
        pendingHttp10 = http10;
        pendingKeepAlive = HttpUtil.isKeepAlive(request) && !state.isDraining();
        if (HttpUtil.is100ContinueExpected(request)
                && (HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0)) {
            // Answer now, without 100 Continue; the body the client may still send is not worth reading.
            pendingKeepAlive = false;
            answer(ctx);
        }
    }

    private void answer(ChannelHandlerContext ctx) {
        Responses.Connection connection;
        if (pendingKeepAlive && state.isDraining()) {
            pendingKeepAlive = false;
        }
        if (pendingKeepAlive) {
            connection = pendingHttp10 ? Responses.Connection.KEEP_ALIVE : Responses.Connection.DEFAULT;
        } else {
            connection = pendingHttp10 ? Responses.Connection.DEFAULT : Responses.Connection.CLOSE;
        }
        ByteBuf response = responses.get(pending, pendingHttp10, connection, pendingHead);
        pending = null;
        if (pendingKeepAlive) {
            guard.requestComplete();
            ctx.write(response, ctx.voidPromise());
            needsFlush = true;
        } else {
            closeAfter(ctx, response);
        }
    }

    private void reject(ChannelHandlerContext ctx, Throwable cause) {
        Responses.Kind kind = Responses.Kind.BAD_REQUEST;
        if (cause instanceof TooLongHttpLineException) {
            kind = Responses.Kind.URI_TOO_LONG;
        } else if (cause instanceof TooLongHttpHeaderException) {
            kind = Responses.Kind.HEADERS_TOO_LARGE;
        }
        state.badRequest();
        pending = null;
        closeAfter(ctx, responses.get(kind, false, Responses.Connection.CLOSE, false));
    }

    /**
     * Sends the last response and closes the way Go and nginx do ("lingering close"): half-close first, then
     * drop whatever the client still sends for a moment. Closing a socket that has unread bytes makes the
     * kernel send a reset, which can destroy the response before the client reads it, exactly when it
     * matters most: after a 400 for a request whose rest is still arriving.
     */
    private void closeAfter(ChannelHandlerContext ctx, ByteBuf response) {
        closing = true;
        needsFlush = false;
        ctx.channel().config().setAutoRead(true);
        ctx.writeAndFlush(response).addListener((ChannelFutureListener) future -> {
            Channel channel = future.channel();
            if (!future.isSuccess() || !(channel instanceof DuplexChannel)) {
                channel.close();
                return;
            }
            ((DuplexChannel) channel).shutdownOutput().addListener(done -> {
                if (channel.isOpen()) {
                    channel.eventLoop().schedule(() -> channel.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
                }
            });
        });
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (needsFlush) {
            needsFlush = false;
            ctx.flush();
            if (!ctx.channel().isWritable()) {
                // The client is not reading what it asked for: stop reading its requests until it does.
                ctx.channel().config().setAutoRead(false);
            }
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof IOException)) {
            LOG.warn("closing a connection after an unexpected error: {}", cause.getClass().getName());
        }
        ctx.close();
    }

    /**
     * The request target, checked for what can reach here: Netty has split the request line on whitespace,
     * so what is left to refuse is control characters and bytes outside US-ASCII.
     */
    static boolean isValidTarget(String uri) {
        if (uri.isEmpty()) {
            return false;
        }
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                return false;
            }
        }
        return true;
    }

    /** Whether the target's path is exactly {@code /healthz}, whatever the query, in origin or absolute form. */
    static boolean isHealthz(String uri) {
        int pathStart = 0;
        if (uri.charAt(0) != '/') {
            int scheme = uri.indexOf("://");
            if (scheme <= 0) {
                return false; // "*" or authority form
            }
            pathStart = uri.indexOf('/', scheme + 3);
            if (pathStart < 0) {
                return false;
            }
        }
        if (!uri.startsWith(HEALTHZ, pathStart)) {
            return false;
        }
        int end = pathStart + HEALTHZ.length();
        return end == uri.length() || uri.charAt(end) == '?' || uri.charAt(end) == '#';
    }
}
