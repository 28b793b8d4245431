package ai.echo.defaultbackend;

/**
 * Proactive negotiation (RFC 9110, section 12.5.1) of an error page's media type from an {@code Accept}
 * value, among the {@link Variant}s.
 *
 * <p>Each variant takes the quality of the most specific media range that matches it ({@code type/subtype}
 * with parameters, then {@code type/subtype}, then {@code type/*}, then {@code *}{@code /*}); a quality of 0,
 * or no matching range, makes it unacceptable. The variant with the highest quality wins; ties go to the
 * variant matched by the more specific range, then to the configured default, then to the range that comes
 * first in the header, then to the order of {@link Variant}. Nothing acceptable, an empty header or one with
 * no valid range at all: the default.
 *
 * <p>Our representations carry only {@code charset=utf-8}, so a range with any other parameter (such as
 * {@code text/html;level=1}, or another charset) does not match them. Invalid ranges and invalid q-values are
 * skipped, not guessed at. Parameters after {@code q} are accept extensions and are ignored.
 */
final class ContentNegotiation {

    /** More ranges than this are not read: no real client sends them, and it bounds the work. */
    static final int MAX_RANGES = 64;

    private ContentNegotiation() {
    }

    static Variant choose(CharSequence accept, Variant defaultVariant) {
        if (accept == null) {
            return defaultVariant;
        }
        Variant[] variants = Variant.values();
        int[] quality = new int[variants.length];
        int[] specificity = new int[variants.length];
        int[] position = new int[variants.length];
        java.util.Arrays.fill(specificity, -1);
        Parser parser = new Parser(accept);
        for (int range = 0; range < MAX_RANGES && parser.next(); range++) {
            for (int v = 0; v < variants.length; v++) {
                int matched = parser.specificityFor(variants[v]);
                if (matched > specificity[v]) {
                    specificity[v] = matched;
                    quality[v] = parser.quality;
                    position[v] = range;
                }
            }
        }
        Variant best = null;
        int bestIndex = -1;
        for (int v = 0; v < variants.length; v++) {
            if (specificity[v] < 0 || quality[v] == 0) {
                continue;
            }
            if (best == null || better(v, bestIndex, variants, quality, specificity, position, defaultVariant)) {
                best = variants[v];
                bestIndex = v;
            }
        }
        return best == null ? defaultVariant : best;
    }

    /**
     * The quality, in thousandths, that {@code accept} gives {@code type/subtype}, whatever the parameters of
     * its ranges (a version, say): that of the most specific range that matches it ({@code type/subtype}, then
     * {@code type/*}, then {@code *}{@code /*}), the highest among equally specific ones; -1 when no range
     * matches, or there is no header.
     */
    static int quality(CharSequence accept, String type, String subtype) {
        if (accept == null) {
            return -1;
        }
        int quality = -1;
        int specificity = -1;
        Parser parser = new Parser(accept);
        for (int range = 0; range < MAX_RANGES && parser.next(); range++) {
            int matched = parser.specificityFor(type, subtype);
            if (matched > specificity || matched == specificity && matched >= 0 && parser.quality > quality) {
                specificity = matched;
                quality = parser.quality;
            }
        }
        return quality;
    }

    private static boolean better(int v, int b, Variant[] variants, int[] quality, int[] specificity, int[] position,
                                  Variant defaultVariant) {
        if (quality[v] != quality[b]) {
            return quality[v] > quality[b];
        }
        if (specificity[v] != specificity[b]) {
            return specificity[v] > specificity[b];
        }
        if ((variants[v] == defaultVariant) != (variants[b] == defaultVariant)) {
            return variants[v] == defaultVariant;
        }
        return position[v] < position[b]; // equal: the earlier variant, already held, stays
    }

    /**
     * The RFC 9110 qvalue (12.4.2) from {@code start} to {@code end} of {@code text}: 0, 0.d{0,3}, 1,
     * 1.0{0,3}; in thousandths, or -1 when it is none.
     */
    static int qvalue(CharSequence text, int start, int end) {
        int length = end - start;
        if (length < 1 || length > 5) {
            return -1;
        }
        char first = text.charAt(start);
        if (first != '0' && first != '1') {
            return -1;
        }
        if (length == 1) {
            return first == '1' ? 1000 : 0;
        }
        if (text.charAt(start + 1) != '.') {
            return -1;
        }
        int value = 0;
        for (int i = 0; i < 3; i++) {
            int index = start + 2 + i;
            int digit = 0;
            if (index < end) {
                char c = text.charAt(index);
                if (c < '0' || c > '9') {
                    return -1;
                }
                digit = c - '0';
            }
            value = value * 10 + digit;
        }
        if (first == '1') {
            return value == 0 ? 1000 : -1;
        }
        return value;
    }

    /** Reads one media range at a time; each call to {@link #next()} leaves its parts in the fields. */
    private static final class Parser {
        private final CharSequence text;
        private int pos;
        int typeStart;
        int typeEnd;
        int subtypeStart;
        int subtypeEnd;
        /** Thousandths, 0 to 1000. */
        int quality;
        /** Whether the range has a parameter other than q and {@code charset=utf-8}. */
        boolean foreignParameter;
        boolean hasCharset;

        Parser(CharSequence text) {
            this.text = text;
        }

        /** Advances to the next valid range; false at the end. */
        boolean next() {
            while (pos < text.length()) {
                int start = pos;
                boolean valid = parseRange();
                skipToNextElement();
                if (valid) {
                    return true;
                }
                if (pos == start) {
                    pos++;
                }
            }
            return false;
        }

        private boolean parseRange() {
            skipWhitespace();
            typeStart = pos;
            typeEnd = skipToken();
            if (typeEnd == typeStart || !at('/')) {
                return false;
            }
            pos++;
            subtypeStart = pos;
            subtypeEnd = skipToken();
            if (subtypeEnd == subtypeStart) {
                return false;
            }
            if (isStar(typeStart, typeEnd) && !isStar(subtypeStart, subtypeEnd)) {
                return false; // "*/html" is not a media range
            }
            quality = 1000;
            foreignParameter = false;
            hasCharset = false;
            boolean afterQ = false;
            while (true) {
                skipWhitespace();
                if (pos >= text.length() || at(',')) {
                    return true;
                }
                if (!at(';')) {
                    return false;
                }
                pos++;
                skipWhitespace();
                int nameStart = pos;
                int nameEnd = skipToken();
                if (nameEnd == nameStart || !at('=')) {
                    return false;
                }
                pos++;
                int valueStart = pos;
                int valueEnd;
                boolean quoted = at('"');
                if (quoted) {
                    valueEnd = skipQuoted();
                    if (valueEnd < 0) {
                        return false;
                    }
                } else {
                    valueEnd = skipToken();
                    if (valueEnd == valueStart) {
                        return false;
                    }
                }
                if (afterQ) {
                    continue; // accept-ext
                }
                if (equalsIgnoreCase(nameStart, nameEnd, "q")) {
                    int q = quoted ? -1 : qvalue(text, valueStart, valueEnd);
                    if (q < 0) {
                        return false;
                    }
                    quality = q;
                    afterQ = true;
                } else if (equalsIgnoreCase(nameStart, nameEnd, "charset")) {
                    int from = quoted ? valueStart + 1 : valueStart;
                    int to = quoted ? valueEnd - 1 : valueEnd;
                    if (equalsIgnoreCase(from, to, "utf-8")) {
                        hasCharset = true;
                    } else {
                        foreignParameter = true;
                    }
                } else {
                    foreignParameter = true;
                }
            }
        }

        /**
         * How specifically the current range matches the variant: 3 to 0, or -1 for no match. A range with a
         * parameter the variant lacks matches it not at all; one naming its charset, more than one without.
         */
        int specificityFor(Variant variant) {
            if (foreignParameter) {
                return -1;
            }
            int matched = specificityFor(variant.type, variant.subtype);
            return matched == 2 && hasCharset ? 3 : matched;
        }

        /** How specifically the current range matches {@code type/subtype}, parameters aside: 2 to 0, or -1. */
        int specificityFor(String type, String subtype) {
            if (isStar(typeStart, typeEnd)) {
                return 0;
            }
            if (!equalsIgnoreCase(typeStart, typeEnd, type)) {
                return -1;
            }
            if (isStar(subtypeStart, subtypeEnd)) {
                return 1;
            }
            return equalsIgnoreCase(subtypeStart, subtypeEnd, subtype) ? 2 : -1;
        }

        private boolean at(char c) {
            return pos < text.length() && text.charAt(pos) == c;
        }

        private boolean isStar(int start, int end) {
            return end - start == 1 && text.charAt(start) == '*';
        }

        private boolean equalsIgnoreCase(int start, int end, String expected) {
            if (end - start != expected.length()) {
                return false;
            }
            for (int i = 0; i < expected.length(); i++) {
                char c = text.charAt(start + i);
                if (c >= 'A' && c <= 'Z') {
                    c = (char) (c + ('a' - 'A'));
                }
                if (c != expected.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        private void skipWhitespace() {
            while (pos < text.length() && (text.charAt(pos) == ' ' || text.charAt(pos) == '\t')) {
                pos++;
            }
        }

        private int skipToken() {
            while (pos < text.length() && isTokenChar(text.charAt(pos))) {
                pos++;
            }
            return pos;
        }

        /** Skips a quoted string starting at pos; returns the index after its closing quote, or -1. */
        private int skipQuoted() {
            pos++;
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c == '\\') {
                    pos += 2;
                } else if (c == '"') {
                    pos++;
                    return pos;
                } else {
                    pos++;
                }
            }
            pos = text.length();
            return -1;
        }

        /** Moves past the next comma outside a quoted string (or to the end). */
        private void skipToNextElement() {
            boolean quoted = false;
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (quoted && c == '\\') {
                    pos += 2;
                    continue;
                }
                pos++;
                if (c == '"') {
                    quoted = !quoted;
                } else if (c == ',' && !quoted) {
                    return;
                }
            }
        }

        /** RFC 9110 tchar. */
        private static boolean isTokenChar(char c) {
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
                return true;
            }
            return "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
        }
    }
}
