package ai.echo.defaultbackend;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An error page prepared once from its text: literal parts and {@code {{placeholder}}} slots. Rendering
 * fills each slot with its value escaped for the page's format; a page without slots is encoded once and
 * served as is. Unknown {@code {{names}}} are left in the page untouched.
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
    /** Strings and Placeholders, in order. */
    private final Object[] parts;
    /** The whole page when it has no placeholder; null otherwise. */
    private final byte[] fixed;
    private final int literalChars;

    private PageTemplate(PageFormat format, Object[] parts) {
        this.format = format;
        this.parts = parts;
        int chars = 0;
        boolean hasSlot = false;
        for (Object part : parts) {
            if (part instanceof String) {
                chars += ((String) part).length();
            } else {
                hasSlot = true;
            }
        }
        this.literalChars = chars;
        this.fixed = hasSlot ? null : String.join("", (String[]) java.util.Arrays.copyOf(parts, parts.length,
                String[].class)).getBytes(StandardCharsets.UTF_8);
    }

    static PageTemplate parse(String text, PageFormat format) {
        List<Object> parts = new ArrayList<>();
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
            literal.append(text, pos, open);
            if (literal.length() > 0) {
                parts.add(literal.toString());
                literal.setLength(0);
            }
            parts.add(placeholder);
            pos = close + 2;
        }
        literal.append(text, pos, text.length());
        if (literal.length() > 0) {
            parts.add(literal.toString());
        }
        return new PageTemplate(format, parts.toArray());
    }

    PageFormat format() {
        return format;
    }

    /** The whole page when it has no placeholder (the same array every time), or null. */
    byte[] fixed() {
        return fixed;
    }

    /**
     * Appends the page for one request to {@code out}, for a caller that encodes it itself; a page
     * without placeholders is served from {@link #fixed()} instead.
     *
     * @param values indexed by {@link Placeholder#ordinal()}, already {@linkplain Escape#sanitize sanitised}
     */
    void renderTo(String[] values, StringBuilder out) {
        out.ensureCapacity(out.length() + literalChars + 128);
        for (Object part : parts) {
            if (part instanceof String) {
                out.append((String) part);
            } else {
                String value = values[((Placeholder) part).ordinal()];
                switch (format) {
                    case HTML -> Escape.html(value, out);
                    case XML -> Escape.xml(value, out);
                    case JSON -> Escape.json(value, out);
                    default -> out.append(value);
                }
            }
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
