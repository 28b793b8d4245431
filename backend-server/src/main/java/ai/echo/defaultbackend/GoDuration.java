package ai.echo.defaultbackend;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;

/**
 * Go's {@code time.ParseDuration} syntax, so that {@code --timeout=5s} means what it meant for 1.5:
 * a sequence of decimal numbers, each with an optional fraction and a unit ({@code ns}, {@code us},
 * {@code µs}, {@code ms}, {@code s}, {@code m}, {@code h}), such as {@code 500ms}, {@code 1m30s},
 * {@code 1.5h}, after an optional sign. A bare {@code 0} is allowed; negative durations are not, since every
 * duration here is a timeout (Go reads them, and its server takes a negative timeout as none).
 *
 * <p>As in Go, each number is multiplied by its unit and its fraction of a nanosecond dropped before the
 * parts are added ({@code 0.5ns0.5ns} is zero), and the sum must fit in a signed 64-bit count of
 * nanoseconds: nothing larger wraps round into a short timeout.
 */
final class GoDuration {

    private GoDuration() {
    }

    static Duration parse(String text) {
        boolean negative = text.startsWith("-");
        int i = negative || text.startsWith("+") ? 1 : 0;
        if (i == text.length()) {
            throw new IllegalArgumentException("empty duration");
        }
        if (text.length() - i == 1 && text.charAt(i) == '0') {
            return Duration.ZERO;
        }
        BigDecimal nanos = BigDecimal.ZERO;
        while (i < text.length()) {
            int numberStart = i;
            while (i < text.length() && (Character.isDigit(text.charAt(i)) || text.charAt(i) == '.')) {
                i++;
            }
            String number = text.substring(numberStart, i);
            if (number.isEmpty() || number.equals(".") || number.indexOf('.') != number.lastIndexOf('.')) {
                throw new IllegalArgumentException("not a Go duration (such as 500ms, 5s, 1m)");
            }
            int unitStart = i;
            while (i < text.length() && !Character.isDigit(text.charAt(i)) && text.charAt(i) != '.') {
                i++;
            }
            long unitNanos = unitNanos(text.substring(unitStart, i));
            nanos = nanos.add(new BigDecimal(number).multiply(BigDecimal.valueOf(unitNanos))
                    .setScale(0, RoundingMode.DOWN));
        }
        if (nanos.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException("duration out of range");
        }
        if (negative && nanos.signum() > 0) {
            throw new IllegalArgumentException("negative durations are not allowed (every duration here is a timeout)");
        }
        return Duration.ofNanos(nanos.longValue());
    }

    private static long unitNanos(String unit) {
        switch (unit) {
            case "ns":
                return 1L;
            case "us":
            case "\u00b5s":
            case "\u03bcs":
                return 1_000L;
            case "ms":
                return 1_000_000L;
            case "s":
                return 1_000_000_000L;
            case "m":
                return 60_000_000_000L;
            case "h":
                return 3_600_000_000_000L;
            case "":
                throw new IllegalArgumentException("missing unit (such as 500ms, 5s, 1m)");
            default:
                throw new IllegalArgumentException("unknown unit \"" + unit + "\" (use ns, us, ms, s, m or h)");
        }
    }

    /** A short spelling of a duration that {@link #parse} reads back, for help and start-up output. */
    static String format(Duration duration) {
        if (duration.isZero()) {
            return "0s";
        }
        long nanos = duration.toNanos();
        if (nanos % 1_000_000_000L != 0) {
            if (nanos % 1_000_000L == 0) {
                return (nanos / 1_000_000L) + "ms";
            }
            return nanos + "ns";
        }
        long seconds = nanos / 1_000_000_000L;
        StringBuilder out = new StringBuilder();
        if (seconds >= 3600) {
            out.append(seconds / 3600).append('h');
            seconds %= 3600;
        }
        if (seconds >= 60 || (out.length() > 0 && seconds > 0)) {
            out.append(seconds / 60).append('m');
            seconds %= 60;
        }
        if (seconds > 0 || out.length() > 0) {
            out.append(seconds).append('s');
        }
        return out.toString();
    }
}
