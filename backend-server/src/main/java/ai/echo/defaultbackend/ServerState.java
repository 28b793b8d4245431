package ai.echo.defaultbackend;

import java.util.concurrent.atomic.LongAdder;

/**
 * What all connections of one server share: whether it is draining, and counts of the connections it
 * closed for bad input, for timeouts, idle between requests or over the connection limit. Thread-safe.
 */
final class ServerState {

    private volatile boolean draining;
    private final LongAdder badRequests = new LongAdder();
    private final LongAdder timeouts = new LongAdder();
    private final LongAdder idleClosed = new LongAdder();
    private final LongAdder refused = new LongAdder();

    boolean isDraining() {
        return draining;
    }

    void startDraining() {
        draining = true;
    }

    void badRequest() {
        badRequests.increment();
    }

    void timedOut() {
        timeouts.increment();
    }

    /** A keep-alive connection was closed for staying idle between requests for the idle timeout. */
    void idleExpired() {
        idleClosed.increment();
    }

    /** A connection was closed on accept because the connection limit was reached. */
    void connectionRefused() {
        refused.increment();
    }

    long refusedConnections() {
        return refused.sum();
    }

    long badRequests() {
        return badRequests.sum();
    }

    long timeouts() {
        return timeouts.sum();
    }

    long idleClosed() {
        return idleClosed.sum();
    }
}
