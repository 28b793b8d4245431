package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The Date of a response comes from the time the caller read for its request: the wall clock is read when
 * that time may be in a new second, and only then. Driven by a mock ticker and a wall clock that counts
 * its reads.
 */
class ResponsesDateTest {

    private static final long SECOND = 1_785_000_000L; // Sat, 25 Jul 2026 17:20:00 GMT

    private final AtomicLong wallMillis = new AtomicLong();
    private final AtomicInteger wallReads = new AtomicInteger();
    private final Responses responses = new Responses(() -> {
        wallReads.incrementAndGet();
        return wallMillis.get();
    });
    private final MockTicker ticker = Ticker.newMockTicker();

    private String date(Ticker on) {
        return dateOf(responses.get(ByteBufAllocator.DEFAULT, on, on.nanoTime(), Responses.Kind.NOT_FOUND, false,
                Responses.Connection.DEFAULT, false));
    }

    private String dateOfBuiltResponse() {
        return dateOf(responses.build(ByteBufAllocator.DEFAULT, ticker, ticker.nanoTime(), 503, false,
                Responses.Connection.DEFAULT, false, Responses.contentTypeLine("text/plain"), "",
                "down".getBytes(StandardCharsets.US_ASCII)));
    }

    /** The Date value of a response, which is released. */
    private static String dateOf(ByteBuf response) {
        try {
            String text = response.toString(StandardCharsets.US_ASCII);
            int start = text.indexOf("\r\nDate: ") + 8;
            return text.substring(start, text.indexOf("\r\n", start));
        } finally {
            response.release();
        }
    }

    @Test
    void readsTheWallClockOnceForTheRestOfTheSecond() {
        wallMillis.set(SECOND * 1000 + 400);
        assertThat(date(ticker)).isEqualTo("Sat, 25 Jul 2026 17:20:00 GMT");
        assertThat(wallReads).hasValue(1);

        // 400 ms into the second when read: 599 ms of it are sure to be left.
        for (int i = 0; i < 5; i++) {
            ticker.advance(119, TimeUnit.MILLISECONDS);
            assertThat(date(ticker)).isEqualTo("Sat, 25 Jul 2026 17:20:00 GMT");
            assertThat(dateOfBuiltResponse()).isEqualTo("Sat, 25 Jul 2026 17:20:00 GMT");
        }
        assertThat(wallReads).as("595 ms later").hasValue(1);

        ticker.advance(4, TimeUnit.MILLISECONDS);
        wallMillis.set(SECOND * 1000 + 999);
        assertThat(date(ticker)).as("599 ms later the clock is read again").isEqualTo("Sat, 25 Jul 2026 17:20:00 GMT");
        assertThat(wallReads).hasValue(2);
    }

    @Test
    void neverSendsThePreviousSecondOnceTheNextHasBegun() {
        // In the last millisecond of a second, the next may begin at any moment: each response reads the clock.
        wallMillis.set(SECOND * 1000 + 999);
        assertThat(date(ticker)).isEqualTo("Sat, 25 Jul 2026 17:20:00 GMT");
        ticker.advance(1, TimeUnit.MICROSECONDS);
        assertThat(date(ticker)).isEqualTo("Sat, 25 Jul 2026 17:20:00 GMT");
        assertThat(wallReads).hasValue(2);

        ticker.advance(1, TimeUnit.MICROSECONDS);
        wallMillis.set(SECOND * 1000 + 1000);
        assertThat(date(ticker)).isEqualTo("Sat, 25 Jul 2026 17:20:01 GMT");
        assertThat(dateOfBuiltResponse()).isEqualTo("Sat, 25 Jul 2026 17:20:01 GMT");
        assertThat(wallReads).hasValue(3);
    }

    @Test
    void followsTheWallClockWhenItIsSetBack() {
        wallMillis.set(SECOND * 1000);
        assertThat(date(ticker)).isEqualTo("Sat, 25 Jul 2026 17:20:00 GMT");
        wallMillis.set((SECOND - 3600) * 1000 + 500);
        ticker.advance(999, TimeUnit.MILLISECONDS);
        assertThat(date(ticker)).isEqualTo("Sat, 25 Jul 2026 16:20:00 GMT");
    }

    @Test
    void anotherTickerReadsTheClockAgain() {
        // Each EmbeddedChannel of a test has a ticker of its own, frozen or moved at will, on one thread.
        wallMillis.set(SECOND * 1000);
        MockTicker ahead = Ticker.newMockTicker();
        ahead.advance(1, TimeUnit.HOURS);
        assertThat(date(ahead)).isEqualTo("Sat, 25 Jul 2026 17:20:00 GMT");

        wallMillis.set(SECOND * 1000 + 1000);
        assertThat(date(ticker)).isEqualTo("Sat, 25 Jul 2026 17:20:01 GMT");
        assertThat(wallReads).hasValue(2);
    }
}
