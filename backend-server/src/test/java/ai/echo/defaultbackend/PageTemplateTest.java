package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PageTemplateTest {

    /** Everything a hostile client or upstream could put in a header that reaches a page. */
    private static final String HOSTILE = "</title><script>alert('x')</script>\"&amp;\\\r\n\u0000\u001b[31m\u2028"
            + "]]><!--{{code}}";

    private static String[] values(String all) {
        String[] values = new String[PageTemplate.Placeholder.values().length];
        Arrays.fill(values, Escape.sanitize(all, Escape.MAX_VALUE_CHARS));
        return values;
    }

    private static String render(String template, PageFormat format, String[] values) {
        return page(PageTemplate.parse(template, format), values);
    }

    /** The page for one request, as the server takes it: the fixed bytes when there are, else rendered. */
    static String page(PageTemplate template, String[] values) {
        byte[] fixed = template.fixed();
        if (fixed != null) {
            return new String(fixed, StandardCharsets.UTF_8);
        }
        return render(template, values, new PageTemplate.Scratch());
    }

    /** Prepares and writes the page with {@code scratch}, checking the length it announced. */
    private static String render(PageTemplate template, String[] values, PageTemplate.Scratch scratch) {
        int length = template.prepare(values, scratch);
        ByteBuf out = Unpooled.buffer(length, length);
        try {
            template.writeTo(out, scratch);
            assertThat(out.readableBytes()).as("the length prepare() announced").isEqualTo(length);
            return out.toString(StandardCharsets.UTF_8);
        } finally {
            out.release();
        }
    }

    @Test
    void fillsEveryPlaceholder() {
        String[] values = new String[PageTemplate.Placeholder.values().length];
        for (PageTemplate.Placeholder placeholder : PageTemplate.Placeholder.values()) {
            values[placeholder.ordinal()] = "<" + placeholder.key + ">";
        }
        String page = render("{{code}}|{{ reason }}|{{REQUEST_ID}}|{{original_uri}}|{{namespace}}|{{ingress}}"
                + "|{{service}}|{{unknown}}|{{code", PageFormat.TEXT, values);
        assertThat(page).isEqualTo("<code>|<reason>|<request_id>|<original_uri>|<namespace>|<ingress>|<service>"
                + "|{{unknown}}|{{code");
    }

    /** The router looks up only the headers a page shows, so a page must say exactly which those are. */
    @Test
    void saysWhichPlaceholdersItShows() {
        PageTemplate page = PageTemplate.parse("{{request_id}} {{ service }} {{not_ours}} {{Request_ID}}",
                PageFormat.TEXT);
        assertThat(Arrays.stream(PageTemplate.Placeholder.values()).filter(page::shows))
                .containsExactly(PageTemplate.Placeholder.REQUEST_ID, PageTemplate.Placeholder.SERVICE);
        PageTemplate fixed = PageTemplate.parse("<h1>down</h1>", PageFormat.HTML);
        assertThat(Arrays.stream(PageTemplate.Placeholder.values()).filter(fixed::shows)).isEmpty();
        PageTemplate json = PageTemplate.builtIn(PageFormat.JSON);
        assertThat(Arrays.stream(PageTemplate.Placeholder.values()).filter(json::shows)).containsExactly(
                PageTemplate.Placeholder.CODE, PageTemplate.Placeholder.REASON, PageTemplate.Placeholder.REQUEST_ID);
    }

    @Test
    void escapesForHtml() {
        String page = render("<p title=\"{{original_uri}}\">{{request_id}}</p>", PageFormat.HTML, values(HOSTILE));
        assertThat(page).doesNotContain("<script>", "</title>", "\"&amp;", "'x'", "\r", "\n", "\u0000", "\u001b",
                "\u2028", "<!--");
        assertThat(page).contains("&lt;/title&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;amp;");
        // Values are not templates: a placeholder inside a value stays text.
        assertThat(page).contains("{{code}}");
    }

    @Test
    void escapesForXml() {
        String page = render("<e a=\"{{namespace}}\">{{ingress}}</e>", PageFormat.XML, values(HOSTILE));
        assertThat(page).doesNotContain("<script>", "]]>", "<!--", "\u0000", "\u001b", "\r\n");
        assertThat(page).contains("&lt;/title&gt;&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt;&quot;&amp;amp;");
    }

    @Test
    void escapesForJson() {
        String page = render("{\"id\":\"{{request_id}}\",\"uri\":\"{{original_uri}}\"}", PageFormat.JSON,
                values(HOSTILE));
        assertThat(page).doesNotContain("<", ">", "\r", "\n", "\u0000", "\u001b", "\u2028", "'\"");
        assertThat(page).contains("\\u003c/title\\u003e", "\\\"\\u0026amp;\\\\", "\\ufffd");
        // Still one JSON object with two string members.
        assertThat(page.replaceAll("\\\\.", "")).matches("\\{\"id\":\"[^\"]*\",\"uri\":\"[^\"]*\"}");
    }

    @Test
    void plainTextKeepsNoControlCharacters() {
        String page = render("{{service}}", PageFormat.TEXT, values(HOSTILE));
        assertThat(page).doesNotContain("\r", "\n", "\u0000", "\u001b", "\u2028");
        assertThat(page).startsWith("</title><script>");
    }

    @Test
    void cutsLongValues() {
        String[] values = values("a".repeat(100_000));
        assertThat(render("{{original_uri}}", PageFormat.TEXT, values))
                .hasSize(Escape.MAX_VALUE_CHARS + 3).endsWith("...");
        String atTheLimit = "b".repeat(Escape.MAX_VALUE_CHARS);
        assertThat(render("{{original_uri}}", PageFormat.TEXT, values(atTheLimit))).isEqualTo(atTheLimit);
        assertThat(render("{{original_uri}}", PageFormat.TEXT, values(atTheLimit + "c")))
                .isEqualTo(atTheLimit + "...");
        String controlAtTheLimit = "\u0001" + "b".repeat(Escape.MAX_VALUE_CHARS - 1);
        assertThat(render("{{original_uri}}", PageFormat.TEXT, values(controlAtTheLimit)))
                .isEqualTo("\uFFFD" + "b".repeat(Escape.MAX_VALUE_CHARS - 1));
    }

    @Test
    void aPageWithoutPlaceholdersIsEncodedOnce() {
        PageTemplate template = PageTemplate.parse("<h1>down</h1> {{not_ours}} é", PageFormat.HTML);
        byte[] first = template.fixed();
        assertThat(first).isNotNull();
        assertThat(template.fixed()).isSameAs(first);
        assertThat(new String(first, StandardCharsets.UTF_8)).isEqualTo("<h1>down</h1> {{not_ours}} é");
        assertThat(page(template, values("y"))).isEqualTo("<h1>down</h1> {{not_ours}} é");
    }

    @Test
    void oneScratchServesPageAfterPageWithExactLengths() {
        PageTemplate.Scratch scratch = new PageTemplate.Scratch();
        // More placeholders than the scratch starts with room for, adjacent, first and last, between
        // literals of two- and three-byte characters.
        PageTemplate many = PageTemplate.parse("{{code}}{{reason}}é{{request_id}}€".repeat(7) + "{{service}}",
                PageFormat.HTML);
        String[] values = values("<\u00e9\u0001>");
        String value = "&lt;\uFFFD\uFFFD&gt;"; // sanitised, then escaped
        String first = render(many, values, scratch);
        assertThat(first).isEqualTo((value + value + "é" + value + "€").repeat(7) + value);
        // A shorter page through the same scratch holds none of the longer one's values.
        PageTemplate json = PageTemplate.builtIn(PageFormat.JSON);
        String[] plain = values("");
        plain[PageTemplate.Placeholder.CODE.ordinal()] = "404";
        plain[PageTemplate.Placeholder.REASON.ordinal()] = "Not Found";
        assertThat(render(json, plain, scratch))
                .isEqualTo("{\"code\":404,\"reason\":\"Not Found\",\"request_id\":\"\"}\n");
        assertThat(render(many, values, scratch)).isEqualTo(first);
    }

    @Test
    void aScratchGrownByAnOutsizedPageIsNotWorthKeeping() {
        PageTemplate.Scratch scratch = new PageTemplate.Scratch();
        String[] empty = values("");
        render(PageTemplate.builtIn(PageFormat.HTML), values("r".repeat(Escape.MAX_VALUE_CHARS)), scratch);
        assertThat(scratch.worthKeeping()).as("after a built-in page").isTrue();

        PageTemplate manySlots = PageTemplate.parse("{{request_id}}".repeat(257), PageFormat.TEXT);
        assertThat(render(manySlots, empty, scratch)).isEmpty();
        assertThat(scratch.worthKeeping()).as("after 257 placeholders").isFalse();

        scratch = new PageTemplate.Scratch();
        PageTemplate longValues = PageTemplate.parse("{{original_uri}}".repeat(40), PageFormat.TEXT);
        assertThat(render(longValues, values("u".repeat(Escape.MAX_VALUE_CHARS)), scratch))
                .hasSize(40 * Escape.MAX_VALUE_CHARS);
        assertThat(scratch.worthKeeping()).as("after 20,480 characters of values").isFalse();
    }

    @ParameterizedTest
    @EnumSource(PageFormat.class)
    void builtInPagesShowCodeReasonAndRequestId(PageFormat format) {
        String[] values = values("");
        values[PageTemplate.Placeholder.CODE.ordinal()] = "503";
        values[PageTemplate.Placeholder.REASON.ordinal()] = "Service Unavailable";
        values[PageTemplate.Placeholder.REQUEST_ID.ordinal()] = "abc<1>";
        String page = page(PageTemplate.builtIn(format), values);
        assertThat(page).contains("503", "Service Unavailable");
        switch (format) {
            case HTML -> assertThat(page).startsWith("<!DOCTYPE html>").contains("<title>503 Service Unavailable</title>",
                    "abc&lt;1&gt;");
            case JSON -> assertThat(page).isEqualTo("{\"code\":503,\"reason\":\"Service Unavailable\","
                    + "\"request_id\":\"abc\\u003c1\\u003e\"}\n");
            case XML -> assertThat(page).startsWith("<?xml").contains("<code>503</code>",
                    "<requestId>abc&lt;1&gt;</requestId>");
            case TEXT -> assertThat(page).isEqualTo("503 Service Unavailable\n");
        }
    }
}
