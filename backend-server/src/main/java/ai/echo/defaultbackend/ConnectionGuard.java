package ai.echo.defaultbackend;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.Ticker;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The four timeouts of 1.5, for one connection, and the graceful close of idle connections on shutdown.
 * Not a handler of its own: the {@link RoutingHandler} attaches it and passes it the connection's events,
 * and the {@link StrictRequestDecoder} tells it of a request's first byte, before decoding it. A handler
 * in front of the decoder would do the same at the cost of one more pipeline stage that every read passes
 * through: 4-8 % more CPU time per request at 1,000 connections, none measurable at 64 (three side-by-side
 * runs of bench/run.sh --baseline-jar).
 *
 * <ul>
 *   <li>a new connection must send a complete request head within the read-header timeout;</li>
 *   <li>once a request's first byte arrives, its head must be complete within the read-header timeout and
 *       the whole request within the read timeout; for a request pipelined behind another, both run from
 *       that one's answer;</li>
 *   <li>between requests, a keep-alive connection may stay idle for the idle timeout;</li>
 *   <li>a client that stops reading its responses (the outbound buffer stays over its high-water mark) is
 *       closed after the write timeout;</li>
 *   <li>once the server drains, a connection that has sent nothing is closed when it is
 *       {@linkplain #SILENT_IDLE_ON_DRAIN_NANOS 5 s} old, as Go's {@code Shutdown} closes one.</li>
 * </ul>
 * Expired connections are closed without a response, as 1.5 does.
 *
 * <p>One timer per connection at most, and no new timer per request: a transition only moves the deadline,
 * and the timer re-arms itself for the remaining time when it fires early (the {@code IdleStateHandler}
 * technique). All methods run on the channel's event loop.
 */
final class ConnectionGuard implements Runnable {

    /** Fired down the pipeline of every connection when the server starts draining. */
    static final Object DRAIN = new Object() {
        @Override
        public String toString() {
            return "DRAIN";
        }
    };

    /**
     * How old a connection that has sent nothing must be for a drain to close it as idle: Go's
     * {@code Shutdown} counts a new connection as idle from 5 s after it opened ({@code closeIdleConns},
     * golang/go#22682), so one that a load balancer opened and never used does not hold the drain until its
     * header timeout (10 s), while one whose request is on its way is spared.
     */
    private static final long SILENT_IDLE_ON_DRAIN_NANOS = TimeUnit.SECONDS.toNanos(5);

    private enum Phase {
        NEW,
        IDLE,
        HEAD,
        BODY,
        /** The last response is out and the output shut: what the client still sends is dropped until then. */
        LINGER
    }

    private final long readHeaderNanos;
    private final long readNanos;
    private final long writeNanos;
    private final long idleNanos;
    private final Runnable onTimeout;
    private final Runnable onIdle;
    private long lingerNanos;

    private ChannelHandlerContext ctx;
    /** The event loop's clock, so that tests on an EmbeddedChannel can move time. */
    private Ticker ticker;
    private Phase phase = Phase.NEW;
    private boolean started;
    private long phaseStart;
    /**
     * The phase began in the read being handled and its start is not read yet: it is, once that read is
     * handled ({@link #readComplete}) if the request is unfinished by then. A request whose head is answered
     * within the read that brought its first byte never needs that clock read.
     */
    private boolean startPending;
    /** The server is draining: a connection still {@link Phase#NEW} is due at 5 s old. */
    private boolean draining;
    private boolean writeBlocked;
    private long writeBlockedSince;
    private ScheduledFuture<?> timer;
    private long timerAt;
    /** The drain's close is asked for (after what is queued): no deadline is left to keep. */
    private boolean closing;

    ConnectionGuard(BackendConfig config, Runnable onTimeout, Runnable onIdle) {
        this.readHeaderNanos = nanos(config.readHeaderTimeout());
        this.readNanos = nanos(config.readTimeout());
        this.writeNanos = nanos(config.writeTimeout());
        // As in Go's http.Server: without an idle timeout, the read timeout bounds the wait between requests.
        this.idleNanos = config.idleTimeout().isZero() ? readNanos : nanos(config.idleTimeout());
        this.onTimeout = onTimeout;
        this.onIdle = onIdle;
    }

    private static long nanos(Duration duration) {
        return duration.isZero() ? 0 : duration.toNanos();
    }

    /**
     * Binds the guard to its connection, through the context of the handler that drives it (whose
     * {@code close()} ends the connection); its deadlines run from here if the connection is already active.
     */
    void attach(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.ticker = ctx.executor().ticker();
        if (ctx.channel().isActive()) {
            start();
        }
    }

    /** The connection is active: a new connection's read-header deadline runs (once, however often told). */
    void start() {
        if (!started) {
            started = true;
            phaseStart = ticker.nanoTime();
            rearm();
        }
    }

    /** Bytes have arrived, before the decoder reads them: on an idle connection, a request's first byte. */
    void bytesReceived() {
        // The first byte of a request: from now on its head and whole-request deadlines run.
        if (phase == Phase.IDLE) {
            phase = Phase.HEAD;
            startPending = true;
        } else if (phase == Phase.NEW) {
            enter(Phase.HEAD, phaseStart);
        }
    }

    /**
     * The decoder holds the beginning of another request, left in a read after the request before it was
     * answered (a pipelined request): its head is due within the read-header timeout from that answer, as
     * Go's server reads a pipelined request, and the connection is no longer idle, so a drain spares it.
     */
    void requestBegun() {
        if (phase == Phase.IDLE) {
            phase = Phase.HEAD;
            rearm();
        }
    }

    /** The decoder has produced a request head. */
    void headReceived() {
        if (phase != Phase.BODY) {
            phase = Phase.BODY;
            if (!startPending) {
                rearm();
            }
        }
    }

    /**
     * The read the decoder was given has been handled: a request that began in it and is still unfinished
     * starts its deadlines now, a read's handling (microseconds) after its first byte came.
     */
    void readComplete() {
        if (startPending) {
            readPendingStart();
            rearm();
        }
    }

    private void readPendingStart() {
        if (startPending) {
            startPending = false;
            phaseStart = ticker.nanoTime();
        }
    }

    /**
     * A request has been read to its end and answered; the connection waits for the next one.
     *
     * @param now the time of the answer on the event loop's ticker, read by the caller for it
     */
    void requestComplete(long now) {
        enter(Phase.IDLE, now);
    }

    /**
     * Closes the connection {@code nanos} from now, on this guard's own timer: the lingering close after a
     * last response, without a second timer per connection. Not counted as a timeout.
     */
    void closeAfterLinger(long nanos) {
        lingerNanos = nanos;
        enter(Phase.LINGER, ticker.nanoTime());
    }

    /**
     * The server drains (on {@link #DRAIN}).
     *
     * @return true when the connection can be closed now: it is {@linkplain #isIdle() idle}, or has sent
     *         nothing and is 5 s old; one that has sent nothing and is younger is closed at that age by the
     *         timer, unless a first byte comes before then and makes it a request, answered as usual
     */
    boolean drain() {
        draining = true;
        if (isIdle() || started && silentPastDrainAge(ticker.nanoTime())) {
            return true;
        }
        rearm();
        return false;
    }

    /**
     * Closes a connection the drain is done with once what is still queued on it is written: idle is under
     * the high-water mark, and writable again under the low-water mark, neither that nothing is queued. A
     * client that never reads is ended by the drain's {@code --timeout}.
     */
    static void closeOnceWritten(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    /** Draining, the connection has sent nothing and is old enough by {@code now} to be closed as idle. */
    private boolean silentPastDrainAge(long now) {
        return draining && phase == Phase.NEW && now - (phaseStart + SILENT_IDLE_ON_DRAIN_NANOS) >= 0;
    }

    /**
     * True between two requests on a keep-alive connection: it can be closed without losing anything. A
     * connection that has sent nothing yet is not idle here: its request may already be in the socket,
     * unread. Go's server spares such a connection for its first 5 s, and so does a drain here, which closes
     * it at 5 s old ({@link #drain()}); otherwise it ends with its answer or at its header timeout.
     */
    private boolean isIdle() {
        return phase == Phase.IDLE && !writeBlocked;
    }

    private void enter(Phase next, long start) {
        phase = next;
        phaseStart = start;
        startPending = false;
        rearm();
    }

    /** The connection's outbound buffer went over its high-water mark or back under its low one. */
    void writabilityChanged(boolean writable) {
        long now = ticker.nanoTime();
        if (writable && writeBlocked && phase == Phase.IDLE) {
            // As in Go's server, whose idle time starts once the answer is written: a slow reader's connection
            // is idle from when its answers went through, not from when they were queued.
            phaseStart = now;
        }
        writeBlocked = !writable;
        writeBlockedSince = now;
        rearm();
    }

    /** The connection is closed or its handler removed: the timer goes. */
    void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** The time at which the connection expires in its current state, or {@link Long#MAX_VALUE} for never. */
    private long deadline() {
        // Read late rather than never, should the end of the read not have come through.
        readPendingStart();
        long deadline = Long.MAX_VALUE;
        switch (phase) {
            case NEW:
            case HEAD:
                if (phase == Phase.NEW && draining) {
                    deadline = phaseStart + SILENT_IDLE_ON_DRAIN_NANOS;
                }
                deadline = earliest(deadline, phaseStart, readHeaderNanos);
                deadline = earliest(deadline, phaseStart, readNanos);
                break;
            case BODY:
                deadline = earliest(deadline, phaseStart, readNanos);
                break;
            case IDLE:
                // Draining, an idle connection goes at once: one whose answers were still queued at the DRAIN
                // goes once it is writable again, after the rest is written (run()), as Go's Shutdown closes a
                // connection at its next poll once its answer is written.
                deadline = draining && !writeBlocked ? phaseStart : earliest(deadline, phaseStart, idleNanos);
                break;
            case LINGER:
                deadline = phaseStart + lingerNanos;
                break;
            default:
                break;
        }
        if (writeBlocked) {
            deadline = earliest(deadline, writeBlockedSince, writeNanos);
        }
        return deadline;
    }

    private static long earliest(long deadline, long start, long timeout) {
        return timeout == 0 ? deadline : Math.min(deadline, start + timeout);
    }

    private void rearm() {
        if (closing) {
            return;
        }
        long deadline = deadline();
        if (deadline == Long.MAX_VALUE || ctx == null) {
            return;
        }
        if (timer != null) {
            if (timerAt - deadline <= 0) {
                return; // fires no later than needed; run() re-arms for what is left
            }
            timer.cancel(false);
        }
        schedule(deadline);
    }

    private void schedule(long deadline) {
        timerAt = deadline;
        timer = ctx.executor().schedule(this, Math.max(0, deadline - ticker.nanoTime()), TimeUnit.NANOSECONDS);
    }

    @Override
    public void run() {
        timer = null;
        if (closing || !ctx.channel().isOpen()) {
            return;
        }
        long deadline = deadline();
        if (deadline == Long.MAX_VALUE) {
            return;
        }
        long now = ticker.nanoTime();
        if (now - deadline >= 0) {
            // Neither the lingering close nor a drain's close of a silent connection is a timeout; a keep-alive
            // connection's end after the idle timeout is the normal one, counted apart.
            if (isIdle()) {
                if (draining) {
                    // Once: the empty write's flush may run due tasks here (an EmbeddedChannel does), and a
                    // writability change meanwhile must not arm the timer for another close.
                    closing = true;
                    closeOnceWritten(ctx);
                    return;
                }
                onIdle.run();
            } else if (phase != Phase.LINGER && !silentPastDrainAge(now)) {
                onTimeout.run();
            }
            ctx.close();
        } else {
            schedule(deadline);
        }
    }
}
