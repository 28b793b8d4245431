package ai.echo.defaultbackend;

import java.util.concurrent.atomic.LongAdder;

/**
 * What all connections of one server share: whether it is draining, and counts of the connections it
 * closed for bad input or for timeouts. Thread-safe.
 */
final class ServerState {

    private volatile boolean draining;
    private final LongAdder badRequests = new LongAdder();
    private final LongAdder timeouts = new LongAdder();

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

    long badRequests() {
        return badRequests.sum();
    }

    long timeouts() {
        return timeouts.sum();
    }
}
