package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ErrorPagesTest {

    @TempDir
    Path dir;

    private static String page(ErrorPages pages, int code, PageFormat format) {
        String[] values = new String[PageTemplate.Placeholder.values().length];
        Arrays.fill(values, "");
        values[PageTemplate.Placeholder.CODE.ordinal()] = Integer.toString(code);
        values[PageTemplate.Placeholder.REASON.ordinal()] = StatusText.reason(code);
        return PageTemplateTest.page(pages.find(code, format), values);
    }

    private void write(String name, String content) throws IOException {
        Files.writeString(dir.resolve(name), content);
    }

    @Test
    void looksUpCodeThenClassThenBuiltIn() throws IOException {
        write("503.html", "exact {{code}}");
        write("5xx.html", "class {{code}}");
        write("4xx.json", "{\"class\":{{code}}}");
        write("404.txt", "plain {{code}}");
        ErrorPages pages = ErrorPages.load(dir, ErrorPages.BUILT_IN_ONLY);

        assertThat(pages.fileCount()).isEqualTo(4);
        assertThat(page(pages, 503, PageFormat.HTML)).isEqualTo("exact 503");
        assertThat(page(pages, 502, PageFormat.HTML)).isEqualTo("class 502");
        assertThat(page(pages, 503, PageFormat.JSON)).startsWith("{\"code\":503,"); // built-in: no 5xx.json
        assertThat(page(pages, 418, PageFormat.JSON)).isEqualTo("{\"class\":418}");
        assertThat(page(pages, 404, PageFormat.TEXT)).isEqualTo("plain 404");
        assertThat(page(pages, 403, PageFormat.TEXT)).isEqualTo("403 Forbidden\n");
        assertThat(page(pages, 404, PageFormat.HTML)).startsWith("<!DOCTYPE html>");
        assertThat(page(pages, 404, PageFormat.XML)).startsWith("<?xml");
    }

    @Test
    void prefersHtmlOverHtmAndIgnoresOtherFiles() throws IOException {
        write("404.htm", "htm");
        write("404.html", "html");
        write("410.htm", "gone");
        write("200.html", "not an error");
        write("4xx.gif", "GIF89a");
        write("404.HTML.bak", "backup");
        write("6xx.html", "no such class");
        Files.createDirectory(dir.resolve("500.html"));
        ErrorPages pages = ErrorPages.load(dir, ErrorPages.BUILT_IN_ONLY);

        assertThat(page(pages, 404, PageFormat.HTML)).isEqualTo("html");
        assertThat(page(pages, 410, PageFormat.HTML)).isEqualTo("gone");
        assertThat(page(pages, 500, PageFormat.HTML)).startsWith("<!DOCTYPE html>");
        assertThat(pages.fileCount()).isEqualTo(3);
        assertThat(pages.problems()).isZero();
    }

    /**
     * Two files for one code and format that differ only in case: the lower-case one, as listed, whatever the
     * order they are compared in (the files are kept in a map whose order changes from one start to the next).
     */
    @Test
    void ofTwoFilesForOnePageTheSameOneIsServedWhateverTheOrder() throws IOException {
        for (String[] pair : new String[][] {{"404.html", "404.HTML"}, {"404.html", "404.htm"},
                {"404.HTML", "404.htm"}, {"404.HTML", "404.Html"}, {"4xx.json", "4xx.JSON"}}) {
            PageFormat format = pair[0].toLowerCase(java.util.Locale.ROOT).endsWith("json")
                    ? PageFormat.JSON : PageFormat.HTML;
            assertThat(ErrorPages.takesPrecedence(pair[0], pair[1], format)).as("%s over %s", pair[0], pair[1])
                    .isTrue();
            assertThat(ErrorPages.takesPrecedence(pair[1], pair[0], format)).as("%s over %s", pair[1], pair[0])
                    .isFalse();
        }
        write("404.HTML", "upper");
        write("404.html", "lower");
        assertThat(page(ErrorPages.load(dir, ErrorPages.BUILT_IN_ONLY), 404, PageFormat.HTML)).isEqualTo("lower");
    }

    @Test
    void followsSymlinksAsAConfigMapVolumeHasThem() throws IOException {
        Path data = Files.createDirectory(dir.resolve("..2026_11_26_10_00_00.1"));
        Files.writeString(data.resolve("503.json"), "{\"from\":\"configmap\"}");
        Files.createSymbolicLink(dir.resolve("..data"), data.getFileName());
        Files.createSymbolicLink(dir.resolve("503.json"), Path.of("..data/503.json"));
        ErrorPages pages = ErrorPages.load(dir, ErrorPages.BUILT_IN_ONLY);
        assertThat(page(pages, 503, PageFormat.JSON)).isEqualTo("{\"from\":\"configmap\"}");
    }

    @Test
    void keepsThePreviousVersionOfABrokenFile() throws IOException {
        write("503.html", "good {{code}}");
        write("404.html", "fine");
        ErrorPages first = ErrorPages.load(dir, ErrorPages.BUILT_IN_ONLY);

        Files.write(dir.resolve("503.html"), new byte[] {'b', 'a', 'd', (byte) 0xff, (byte) 0xfe});
        write("502.html", "x".repeat((int) ErrorPages.MAX_FILE_BYTES + 1));
        ErrorPages second = ErrorPages.load(dir, first);

        assertThat(second.problems()).isEqualTo(2);
        assertThat(page(second, 503, PageFormat.HTML)).isEqualTo("good 503");
        assertThat(page(second, 502, PageFormat.HTML)).startsWith("<!DOCTYPE html>"); // never loaded: built-in
        assertThat(page(second, 404, PageFormat.HTML)).isEqualTo("fine");

        Files.delete(dir.resolve("404.html"));
        ErrorPages third = ErrorPages.load(dir, second);
        assertThat(page(third, 404, PageFormat.HTML)).startsWith("<!DOCTYPE html>");
    }

    @Test
    void aFileOfExactlyTheLimitIsServedAndOneByteMoreIsNot() throws IOException {
        write("502.html", "y".repeat((int) ErrorPages.MAX_FILE_BYTES));
        write("503.html", "z".repeat((int) ErrorPages.MAX_FILE_BYTES + 1));
        ErrorPages pages = ErrorPages.load(dir, ErrorPages.BUILT_IN_ONLY);
        assertThat(pages.problems()).isEqualTo(1);
        assertThat(page(pages, 502, PageFormat.HTML)).hasSize((int) ErrorPages.MAX_FILE_BYTES);
        assertThat(page(pages, 503, PageFormat.HTML)).startsWith("<!DOCTYPE html>");
    }

    @Test
    void aMissingDirectoryMeansBuiltInPages() {
        ErrorPages pages = ErrorPages.load(dir.resolve("does-not-exist"), ErrorPages.BUILT_IN_ONLY);
        assertThat(pages.fileCount()).isZero();
        assertThat(pages.problems()).isZero();
        assertThat(page(pages, 503, PageFormat.TEXT)).isEqualTo("503 Service Unavailable\n");
    }
}
