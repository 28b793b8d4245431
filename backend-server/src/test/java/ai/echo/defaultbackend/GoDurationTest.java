package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The range of {@link GoDuration#parse}: up to {@link Long#MAX_VALUE} nanoseconds (2562047h47m16.854775807s),
 * checked over the sum of all parts, so that nothing above it wraps round into a short or negative timeout;
 * and Go's arithmetic: each part's fraction of a nanosecond is dropped before the parts are added.
 */
class GoDurationTest {

    private static final Duration LONGEST = Duration.ofNanos(Long.MAX_VALUE);

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"9223372036854775807ns", "9223372036.854775807s", "2562047h47m16.854775807s",
            "2562047h2836s854775807ns", "4611686018427387904ns4611686018427387903ns",
            // Over by a fraction of a nanosecond, which Go drops before it checks the range.
            "9223372036854775807.5ns", "9223372036854775807.9ns0.9ns"})
    void theLongestRepresentableDurationIsAccepted(String text) {
        assertThat(GoDuration.parse(text)).isEqualTo(LONGEST);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"9223372036854775808ns", "9223372036.854775808s", "2562047h47m16.854775808s",
            "2562047h47m17s", "153722868m", "2562048h",
            // Only the sum is too large: each part alone is in range.
            "4611686018427387904ns4611686018427387904ns", "9223372036854775807ns1ns", "2562047h3600s",
            // Large enough that long arithmetic would wrap round to a small or negative value.
            "18446744073709551616ns", "18446744073709551617ns", "99999999999999999999h"})
    void anythingLongerIsRejectedRatherThanWrapped(String text) {
        assertThatThrownBy(() -> GoDuration.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("duration out of range");
    }

    @Test
    void justBelowTheBoundEveryUnitStillParses() {
        assertThat(GoDuration.parse("9223372036854775806ns")).isEqualTo(LONGEST.minusNanos(1));
        assertThat(GoDuration.parse("153722867m")).isEqualTo(Duration.ofMinutes(153_722_867));
        assertThat(GoDuration.parse("2562047h")).isEqualTo(Duration.ofHours(2_562_047));
        assertThat(GoDuration.parse("2562047h47m16s")).isEqualTo(Duration.ofSeconds(Long.MAX_VALUE / 1_000_000_000L));
    }

    @Test
    void fractionsOfANanosecondAreDropped() {
        assertThat(GoDuration.parse("1.5ns")).isEqualTo(Duration.ofNanos(1));
        assertThat(GoDuration.parse("0.999ns")).isEqualTo(Duration.ZERO);
        assertThat(GoDuration.parse("1.0000000005s")).isEqualTo(Duration.ofSeconds(1));
        assertThat(GoDuration.parse("9223372036854775806.5ns")).isEqualTo(LONGEST.minusNanos(1));
        // Dropped from each part, before the parts are added: Go reads 0.5ns0.5ns as zero.
        assertThat(GoDuration.parse("0.5ns0.5ns")).isEqualTo(Duration.ZERO);
        assertThat(GoDuration.parse("1.5us0.0015us")).isEqualTo(Duration.ofNanos(1501));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"+5s, 5000000000", "+1m30s, 90000000000", "+.5s, 500000000", "+0, 0", "-0, 0", "-0s, 0",
            "-0.0h, 0"})
    void aSignIsReadAsGoReadsIt(String text, long nanos) {
        assertThat(GoDuration.parse(text)).isEqualTo(Duration.ofNanos(nanos));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"-5s", "-1ns", "-0.5s", "-1m30s"})
    void aNegativeTimeoutIsRefusedWithItsReason(String text) {
        assertThatThrownBy(() -> GoDuration.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("negative durations are not allowed (every duration here is a timeout)");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"+", "-", "+-5s", "--5s", "++5s"})
    void aSignAloneOrTwiceIsRefused(String text) {
        assertThatThrownBy(() -> GoDuration.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }
}
