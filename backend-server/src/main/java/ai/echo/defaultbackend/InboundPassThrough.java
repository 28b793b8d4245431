package ai.echo.defaultbackend;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandler;

/**
 * Passes every inbound event on to the next handler, as Netty's {@code ChannelInboundHandlerAdapter} does,
 * for handlers to override what they handle. Unlike Netty's adapter, it carries no {@code @Skip}
 * annotations: Netty reads those through reflection to build each handler's event mask, and the JDK answers
 * each annotation type read with a proxy class made at run time, which the AOT cache cannot hold (see
 * {@link Acceptor}). Without them Netty hands a handler every event, and the methods here pass it on.
 *
 * <p>{@link StrictRequestDecoder} extends Netty's decoder, so it cannot extend this; it declares the same
 * methods itself.
 */
abstract class InboundPassThrough implements ChannelInboundHandler {

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        // Nothing to set up.
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // Nothing held.
    }

    @Override
    public void channelRegistered(ChannelHandlerContext ctx) {
        ctx.fireChannelRegistered();
    }

    @Override
    public void channelUnregistered(ChannelHandlerContext ctx) {
        ctx.fireChannelUnregistered();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.fireExceptionCaught(cause);
    }
}
