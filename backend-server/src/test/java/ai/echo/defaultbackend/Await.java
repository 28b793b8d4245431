package ai.echo.defaultbackend;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waiting in tests for what another thread does: polled, bounded, and failing with what was awaited. */
final class Await {

    /** Long enough for a loaded CI machine; a condition that holds at all holds well within it. */
    static final Duration DEADLINE = Duration.ofSeconds(10);

    private Await() {
    }

    /** Returns once {@code condition} holds; fails the test if it does not within {@link #DEADLINE}. */
    static void until(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + DEADLINE + ": " + what);
            }
            Thread.sleep(5);
        }
    }
}
