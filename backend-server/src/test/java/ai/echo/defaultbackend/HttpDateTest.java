package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The Date header's value, formatted by hand, against RFC 9110's example and java.time's formatter. */
class HttpDateTest {

    private static final DateTimeFormatter ORACLE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    @Test
    void isTheImfFixdateOfRfc9110() {
        assertThat(Responses.httpDate(784111777L)).isEqualTo("Sun, 06 Nov 1994 08:49:37 GMT");
        assertThat(Responses.httpDate(0L)).isEqualTo("Thu, 01 Jan 1970 00:00:00 GMT");
        assertThat(Responses.httpDate(951782400L)).as("a leap day").isEqualTo("Tue, 29 Feb 2000 00:00:00 GMT");
        assertThat(Responses.httpDate(4102444799L)).isEqualTo("Thu, 31 Dec 2099 23:59:59 GMT");
    }

    @Test
    void agreesWithJavaTimeOverTwoCenturies() {
        SplittableRandom random = new SplittableRandom(2026);
        for (int i = 0; i < 100_000; i++) {
            long second = random.nextLong(0, 7_258_118_400L); // 1970 to 2200
            assertThat(Responses.httpDate(second)).as("second %d", second)
                    .isEqualTo(ORACLE.format(Instant.ofEpochSecond(second)));
        }
    }
}
