package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The range of {@link GoDuration#parse}: up to {@link Long#MAX_VALUE} nanoseconds (2562047h47m16.854775807s),
 * compared exactly over the sum of all parts, so that nothing above it wraps round into a short or negative
 * timeout. Fractions of a nanosecond below the bound are dropped, as Go drops them.
 */
class GoDurationTest {

    private static final Duration LONGEST = Duration.ofNanos(Long.MAX_VALUE);

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"9223372036854775807ns", "9223372036.854775807s", "2562047h47m16.854775807s",
            "2562047h2836s854775807ns", "4611686018427387904ns4611686018427387903ns"})
    void theLongestRepresentableDurationIsAccepted(String text) {
        assertThat(GoDuration.parse(text)).isEqualTo(LONGEST);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"9223372036854775808ns", "9223372036.854775808s", "2562047h47m16.854775808s",
            "2562047h47m17s", "153722868m", "2562048h",
            // Only the sum is too large: each part alone is in range.
            "4611686018427387904ns4611686018427387904ns", "9223372036854775807ns1ns", "2562047h3600s",
            // Above the bound by a fraction of a nanosecond: compared exactly, not after truncation.
            "9223372036854775807.5ns",
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
    }
}
