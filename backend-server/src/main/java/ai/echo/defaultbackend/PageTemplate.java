package ai.echo.defaultbackend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An error page prepared once from its text: literal parts, encoded once as UTF-8, and
 * {@code {{placeholder}}} slots. Rendering writes the encoded parts and, in each slot, its value escaped for
 * the page's format; a page without slots is served as is. Unknown {@code {{names}}} are left in the page
 * untouched.
 */
final class PageTemplate {

    /** What a page may show of a request; nothing else of it ever reaches a page. */
    enum Placeholder {
        CODE("code"),
        REASON("reason"),
        REQUEST_ID("request_id"),
        ORIGINAL_URI("original_uri"),
        NAMESPACE("namespace"),
        INGRESS("ingress"),
        SERVICE("service");

        final String key;

        Placeholder(String key) {
            this.key = key;
        }

        static Placeholder byKey(String key) {
            for (Placeholder placeholder : values()) {
                if (placeholder.key.equals(key)) {
                    return placeholder;
                }
            }
            return null;
        }
    }

    private final PageFormat format;
    /** The text between the placeholders, encoded: one more than {@link #slots}, empty where two are adjacent. */
    private final byte[][] literals;
    /** The placeholders, in order. */
    private final Placeholder[] slots;
    private final int literalBytes;
    /** The whole page when it has no placeholder; null otherwise. */
    private final byte[] fixed;
    /** The placeholders the page has, one bit each by ordinal. */
    private final int shown;

    /** @param literals the text around the placeholders, one more than {@code slots} */
    private PageTemplate(PageFormat format, List<String> literals, List<Placeholder> slots) {
        this.format = format;
        this.literals = new byte[literals.size()][];
        int bytes = 0;
        for (int i = 0; i < this.literals.length; i++) {
            this.literals[i] = literals.get(i).getBytes(StandardCharsets.UTF_8);
            bytes += this.literals[i].length;
        }
        this.literalBytes = bytes;
        this.slots = slots.toArray(new Placeholder[0]);
        this.fixed = this.slots.length == 0 ? this.literals[0] : null;
        int shown = 0;
        for (Placeholder slot : this.slots) {
            shown |= 1 << slot.ordinal();
        }
        this.shown = shown;
    }

    static PageTemplate parse(String text, PageFormat format) {
        List<String> literals = new ArrayList<>();
        List<Placeholder> slots = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int pos = 0;
        while (pos < text.length()) {
            int open = text.indexOf("{{", pos);
            if (open < 0) {
                break;
            }
            int close = text.indexOf("}}", open + 2);
            if (close < 0) {
                break;
            }
            Placeholder placeholder = Placeholder.byKey(text.substring(open + 2, close).trim()
                    .toLowerCase(Locale.ROOT));
            if (placeholder == null) {
                literal.append(text, pos, open + 2);
                pos = open + 2;
                continue;
            }
            literals.add(literal.append(text, pos, open).toString());
            literal.setLength(0);
            slots.add(placeholder);
            pos = close + 2;
        }
        literals.add(literal.append(text, pos, text.length()).toString());
        return new PageTemplate(format, literals, slots);
    }

    PageFormat format() {
        return format;
    }

    /**
     * Whether the page shows {@code placeholder}: the values of those it does not show need not be looked
     * up for it.
     */
    boolean shows(Placeholder placeholder) {
        return (shown & 1 << placeholder.ordinal()) != 0;
    }

    /** The whole page when it has no placeholder (the same array every time), or null. */
    byte[] fixed() {
        return fixed;
    }

    /**
     * Escapes one request's values for this page's placeholders into {@code scratch}, ready for
     * {@link #writeTo}: the page's literal text is never copied, only these values. A page without
     * placeholders is served from {@link #fixed()} instead.
     *
     * @param values indexed by {@link Placeholder#ordinal()}, already {@linkplain Escape#sanitize sanitised}
     * @return the page's length in bytes, for Content-Length
     */
    int prepare(String[] values, Scratch scratch) {
        StringBuilder chars = scratch.chars;
        chars.setLength(0);
        if (scratch.slices.length < 2 * slots.length) {
            scratch.slices = new int[2 * slots.length];
        }
        int[] slices = scratch.slices;
        int bytes = literalBytes;
        for (int i = 0; i < slots.length; i++) {
            int start = chars.length();
            String value = values[slots[i].ordinal()];
            switch (format) {
                case HTML -> Escape.html(value, chars);
                case XML -> Escape.xml(value, chars);
                case JSON -> Escape.json(value, chars);
                default -> chars.append(value);
            }
            slices[2 * i] = chars.length();
            slices[2 * i + 1] = ByteBufUtil.utf8Bytes(chars, start, chars.length());
            bytes += slices[2 * i + 1];
        }
        return bytes;
    }

    /** Writes the page whose values {@link #prepare} put in {@code scratch}, all of it, to {@code out}. */
    void writeTo(ByteBuf out, Scratch scratch) {
        int[] slices = scratch.slices;
        int start = 0;
        for (int i = 0; i < slots.length; i++) {
            out.writeBytes(literals[i]);
            int end = slices[2 * i];
            ByteBufUtil.reserveAndWriteUtf8(out, scratch.chars, start, end, slices[2 * i + 1]);
            start = end;
        }
        out.writeBytes(literals[slots.length]);
    }

    /**
     * Where {@link #prepare} escapes a request's values: one per event loop, reused for every page. It holds
     * the escaped values only, never a page's text, so it stays small whatever the page.
     */
    static final class Scratch {
        private static final int KEPT_CHARS = 16 * 1024;
        private static final int KEPT_SLOTS = 256;

        final StringBuilder chars = new StringBuilder(256);
        /** Per placeholder, the end of its escaped value in {@link #chars} and that value's length in bytes. */
        int[] slices = new int[16];

        /**
         * Whether it is still small enough to keep for the next page: a custom page of up to 1 MiB may have
         * very many placeholders, or long values in them, and grow it far beyond what pages need.
         */
        boolean worthKeeping() {
            return chars.capacity() <= KEPT_CHARS && slices.length <= 2 * KEPT_SLOTS;
        }
    }

    /** The page served when the directory has none for a code and format: plain, readable, no assets. */
    static PageTemplate builtIn(PageFormat format) {
        return parse(switch (format) {
            case HTML -> """
                    <!DOCTYPE html>
                    <html lang="en">
                    <head>
                    <meta charset="utf-8">
                    <meta name="viewport" content="width=device-width, initial-scale=1">
                    <meta name="robots" content="noindex">
                    <title>{{code}} {{reason}}</title>
                    <style>
                    body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;\
                    font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f6f7f9;color:#1f2933}
                    main{text-align:center;padding:2rem}
                    h1{font-size:5rem;margin:0;font-weight:700;color:#3e4c59}
                    p{font-size:1.25rem;margin:.5rem 0 0}
                    small{display:block;margin-top:2rem;color:#7b8794;font-family:ui-monospace,monospace}
                    @media (prefers-color-scheme:dark){body{background:#1f2933;color:#e4e7eb}h1{color:#cbd2d9}}
                    </style>
                    </head>
                    <body>
                    <main>
                    <h1>{{code}}</h1>
                    <p>{{reason}}</p>
                    <small>{{request_id}}</small>
                    </main>
                    </body>
                    </html>
                    """;
            case JSON -> "{\"code\":{{code}},\"reason\":\"{{reason}}\",\"request_id\":\"{{request_id}}\"}\n";
            case XML -> """
                    <?xml version="1.0" encoding="UTF-8"?>
                    <error><code>{{code}}</code><reason>{{reason}}</reason>\
                    <requestId>{{request_id}}</requestId></error>
                    """;
            case TEXT -> "{{code}} {{reason}}\n";
        }, format);
    }
}
