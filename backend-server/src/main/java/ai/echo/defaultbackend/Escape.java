package ai.echo.defaultbackend;

import java.nio.charset.StandardCharsets;

/**
 * Makes text that came from a request safe to put in a response or a log line. Request values are first
 * {@linkplain #sanitize sanitised} (visible ASCII only, bounded length), then escaped for where they go.
 */
final class Escape {

    /** Longest request value put in a page, a header or a log line; longer values are cut. */
    static final int MAX_VALUE_CHARS = 512;

    private Escape() {
    }

    /**
     * Visible ASCII and space only: anything else (controls, DEL, bytes a proxy passed as Latin-1) becomes
     * U+FFFD, so no line break, terminal escape or invisible character can ride along. Cut to
     * {@code maxChars}, with {@code ...} to show it.
     */
    static String sanitize(CharSequence value, int maxChars) {
        if (value == null) {
            return "";
        }
        int length = Math.min(value.length(), maxChars);
        boolean clean = length == value.length();
        for (int i = 0; clean && i < length; i++) {
            char c = value.charAt(i);
            clean = c >= 0x20 && c < 0x7f;
        }
        if (clean) {
            return value.toString();
        }
        StringBuilder out = new StringBuilder(length + 3);
        for (int i = 0; i < length; i++) {
            char c = value.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '\uFFFD');
        }
        if (length < value.length()) {
            out.append("...");
        }
        return out.toString();
    }

    /** For a response header: visible ASCII and space only (others become {@code ?}), cut to 256 characters. */
    static String headerValue(CharSequence value) {
        String cut = cut(value, 256);
        StringBuilder out = null;
        for (int i = 0; i < cut.length(); i++) {
            char c = cut.charAt(i);
            boolean ok = c >= 0x20 && c < 0x7f;
            if (!ok && out == null) {
                out = new StringBuilder(cut.length()).append(cut, 0, i);
            }
            if (out != null) {
                out.append(ok ? c : '?');
            }
        }
        return out == null ? cut : out.toString();
    }

    /**
     * Cut to {@code maxChars}, with {@code ...} to show it; null becomes empty. Nothing else changes; a cut
     * that would split a character outside the BMP (two chars) is made before it.
     */
    static String cut(CharSequence value, int maxChars) {
        if (value == null) {
            return "";
        }
        if (value.length() <= maxChars) {
            return value.toString();
        }
        int end = Character.isHighSurrogate(value.charAt(maxChars - 1)) ? maxChars - 1 : maxChars;
        return value.subSequence(0, end) + "...";
    }

    /**
     * The text a request's bytes spell in UTF-8. Request values reach this code one char per byte
     * (ISO-8859-1, as HTTP's parsers read them), so a client's UTF-8 {@code é} is two chars, {@code Ã©};
     * read again as UTF-8 it is one. Bytes that are not UTF-8 become U+FFFD, as Go's {@code encoding/json}
     * writes them and as a reader of nginx's raw bytes sees them. Null stays null.
     */
    static String utf8(String bytes) {
        if (bytes == null) {
            return null;
        }
        for (int i = 0; i < bytes.length(); i++) {
            if (bytes.charAt(i) >= 0x80) {
                return new String(bytes.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            }
        }
        return bytes;
    }

    /** For HTML text and attribute values. */
    static void html(CharSequence value, StringBuilder out) {
        for (int i = copyClean(value, out); i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
    }

    /** For XML text and attribute values; characters XML 1.0 cannot hold become U+FFFD. */
    static void xml(CharSequence value, StringBuilder out) {
        for (int i = copyClean(value, out); i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&apos;");
                default -> out.append(c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == '\uFFFE' || c == '\uFFFF'
                        ? '\uFFFD' : c);
            }
        }
    }

    /**
     * For the inside of a JSON string. Besides what JSON requires, {@code <}, {@code >}, {@code &} and the
     * line separators are escaped too, so the string stays inert if a page embeds it in HTML or JavaScript;
     * non-ASCII is escaped so that a log line is plain ASCII.
     */
    static void json(CharSequence value, StringBuilder out) {
        for (int i = copyClean(value, out); i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&') {
                        out.append("\\u").append(HEX[(c >> 12) & 0xf]).append(HEX[(c >> 8) & 0xf])
                                .append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
    }

    /**
     * Appends {@code value} up to its first character that may need escaping, in one copy: most values
     * have none and are copied whole, not a character at a time.
     *
     * @return the index of that character, or the value's length
     */
    private static int copyClean(CharSequence value, StringBuilder out) {
        int i = 0;
        while (i < value.length() && !special(value.charAt(i))) {
            i++;
        }
        out.append(value, 0, i);
        return i;
    }

    /** Whether a character may need escaping in some format: outside space to tilde, or {@code " & ' < > \}. */
    private static boolean special(char c) {
        return c < 0x20 || c >= 0x7f || c == '"' || c == '&' || c == '\'' || c == '<' || c == '>' || c == '\\';
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();
}
