package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The length limits of {@link Escape}: a value of exactly the limit is kept whole, one character more is cut
 * to the limit and marked with {@code ...}; the marker is added only when something was cut, whatever else
 * was replaced. The request-value limit is the 512 characters the README documents for the access log.
 */
class EscapeTest {

    private static final int LIMIT = Escape.MAX_VALUE_CHARS;
    private static final int HEADER_LIMIT = 256;

    @Test
    void theRequestValueLimitIs512Characters() {
        assertThat(Escape.sanitize("v".repeat(512), Escape.MAX_VALUE_CHARS)).isEqualTo("v".repeat(512));
        assertThat(Escape.sanitize("v".repeat(513), Escape.MAX_VALUE_CHARS)).isEqualTo("v".repeat(512) + "...");
    }

    @Test
    void sanitizeKeepsAValueUpToTheLimitAndCutsTheRest() {
        assertThat(Escape.sanitize("a".repeat(LIMIT - 1), LIMIT)).isEqualTo("a".repeat(LIMIT - 1));
        assertThat(Escape.sanitize("a".repeat(LIMIT), LIMIT)).isEqualTo("a".repeat(LIMIT));
        assertThat(Escape.sanitize("a".repeat(LIMIT + 1), LIMIT)).isEqualTo("a".repeat(LIMIT) + "...");
        assertThat(Escape.sanitize(null, LIMIT)).isEmpty();
    }

    @Test
    void sanitizeMarksACutOnlyWhenItCut() {
        // Replaced but not cut: exactly at the limit, one below.
        assertThat(Escape.sanitize("a".repeat(LIMIT - 1) + "\n", LIMIT)).isEqualTo("a".repeat(LIMIT - 1) + "\uFFFD");
        assertThat(Escape.sanitize("\u00e9" + "a".repeat(LIMIT - 2), LIMIT))
                .isEqualTo("\uFFFD" + "a".repeat(LIMIT - 2));
        // Replaced and cut.
        assertThat(Escape.sanitize("\u001b" + "a".repeat(LIMIT), LIMIT))
                .isEqualTo("\uFFFD" + "a".repeat(LIMIT - 1) + "...");
        // Cut before the bad character, which is therefore not there to replace.
        assertThat(Escape.sanitize("a".repeat(LIMIT) + "\r\n", LIMIT)).isEqualTo("a".repeat(LIMIT) + "...");
    }

    @Test
    void cutKeepsAValueUpToTheLimitAndChangesNothingElse() {
        String control = "\u0001\u00e9";
        assertThat(Escape.cut(control + "b".repeat(LIMIT - 3), LIMIT)).isEqualTo(control + "b".repeat(LIMIT - 3));
        assertThat(Escape.cut(control + "b".repeat(LIMIT - 2), LIMIT)).isEqualTo(control + "b".repeat(LIMIT - 2));
        assertThat(Escape.cut(control + "b".repeat(LIMIT - 1), LIMIT))
                .isEqualTo(control + "b".repeat(LIMIT - 2) + "...");
        assertThat(Escape.cut(null, LIMIT)).isEmpty();
    }

    @Test
    void headerValuesAreCutAt256Characters() {
        assertThat(Escape.headerValue("h".repeat(HEADER_LIMIT - 1))).isEqualTo("h".repeat(HEADER_LIMIT - 1));
        assertThat(Escape.headerValue("h".repeat(HEADER_LIMIT))).isEqualTo("h".repeat(HEADER_LIMIT));
        assertThat(Escape.headerValue("h".repeat(HEADER_LIMIT + 1))).isEqualTo("h".repeat(HEADER_LIMIT) + "...");
    }

    @Test
    void headerValuesReplaceWhatAHeaderCannotHoldWithinTheLimit() {
        assertThat(Escape.headerValue("a\r\nSet-Cookie: x" + "h".repeat(HEADER_LIMIT - 16) + "\u00e9"))
                .isEqualTo("a??Set-Cookie: x" + "h".repeat(HEADER_LIMIT - 16) + "...")
                .hasSize(HEADER_LIMIT + 3);
        assertThat(Escape.headerValue("h".repeat(HEADER_LIMIT - 1) + "\u007f"))
                .isEqualTo("h".repeat(HEADER_LIMIT - 1) + "?");
        assertThat(Escape.headerValue(null)).isEmpty();
    }

    @Test
    void escapesFromTheFirstSpecialCharacterOnAndCopiesCleanTextAsItIs() {
        String clean = "req-3f2a9c8e /api/v1?page=2;x=y";
        for (String format : new String[] {"html", "xml", "json"}) {
            assertThat(escape(format, clean)).as(format).isEqualTo("before|" + clean);
            assertThat(escape(format, "")).as(format).isEqualTo("before|");
        }
        assertThat(escape("html", "ab<c&'\"d\\>")).isEqualTo("before|ab&lt;c&amp;&#39;&quot;d\\&gt;");
        assertThat(escape("xml", "ab\u0001c'\t\uFFFE>")).isEqualTo("before|ab\uFFFDc&apos;\t\uFFFD&gt;");
        assertThat(escape("json", "ab'c\"\\\n\u00e9<")).isEqualTo("before|ab'c\\\"\\\\\\n\\u00e9\\u003c");
        // A special character first, and last.
        assertThat(escape("json", "&x")).isEqualTo("before|\\u0026x");
        assertThat(escape("html", "x&")).isEqualTo("before|x&amp;");
    }

    private static String escape(String format, String value) {
        StringBuilder out = new StringBuilder("before|");
        switch (format) {
            case "html" -> Escape.html(value, out);
            case "xml" -> Escape.xml(value, out);
            default -> Escape.json(value, out);
        }
        return out.toString();
    }
}
