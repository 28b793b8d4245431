package ai.echo.defaultbackend;

import io.netty.channel.ChannelFactory;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import java.util.Locale;

/** The Netty transports the server can run on. {@link #AUTO} is resolved at start-up by {@link #resolve()}. */
public enum Transport {
    AUTO,
    EPOLL,
    NIO,
    IO_URING;

    /** Thrown when a native transport was asked for by name and cannot be loaded here. */
    public static final class UnavailableException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    static Transport fromFlag(String value) {
        for (Transport transport : values()) {
            if (transport.flagValue().equals(value.trim().toLowerCase(Locale.ROOT))) {
                return transport;
            }
        }
        throw new IllegalArgumentException("must be one of auto, epoll, nio, io_uring");
    }

    public String flagValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The concrete transport to use: {@link #AUTO} becomes epoll where its native library loads and NIO
     * elsewhere; a native transport asked for by name must load, or start-up fails with the reason.
     */
    Transport resolve() {
        switch (this) {
            case AUTO:
                return Epoll.isAvailable() ? EPOLL : NIO;
            case EPOLL:
                if (!Epoll.isAvailable()) {
                    throw new UnavailableException("transport epoll is not available: "
                            + Epoll.unavailabilityCause(), Epoll.unavailabilityCause());
                }
                return EPOLL;
            case IO_URING:
                if (!IoUring.isAvailable()) {
                    throw new UnavailableException("transport io_uring is not available: "
                            + IoUring.unavailabilityCause(), IoUring.unavailabilityCause());
                }
                return IO_URING;
            default:
                return NIO;
        }
    }

    IoHandlerFactory ioHandlerFactory() {
        switch (this) {
            case EPOLL:
                return EpollIoHandler.newFactory();
            case IO_URING:
                return IoUringIoHandler.newFactory();
            case NIO:
                return NioIoHandler.newFactory();
            default:
                throw new IllegalStateException("resolve() the transport first");
        }
    }

    /** Constructors, not classes: Netty's reflective factory costs a method-handle spin-up at start. */
    ChannelFactory<? extends ServerSocketChannel> serverChannelFactory() {
        switch (this) {
            case EPOLL:
                return EpollServerSocketChannel::new;
            case IO_URING:
                return IoUringServerSocketChannel::new;
            case NIO:
                return NioServerSocketChannel::new;
            default:
                throw new IllegalStateException("resolve() the transport first");
        }
    }
}
