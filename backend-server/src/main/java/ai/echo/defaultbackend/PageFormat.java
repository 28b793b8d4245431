package ai.echo.defaultbackend;

import java.util.List;
import java.util.Locale;

/**
 * The formats an error page can be served in, each with the file extensions that hold it in the error
 * files directory and the short name used as a metrics label.
 */
enum PageFormat {
    HTML("html", List.of(".html", ".htm")),
    JSON("json", List.of(".json")),
    XML("xml", List.of(".xml")),
    TEXT("text", List.of(".txt"));

    final String label;
    final List<String> extensions;

    PageFormat(String label, List<String> extensions) {
        this.label = label;
        this.extensions = extensions;
    }

    /** The format a file name's extension stands for, or null. */
    static PageFormat byExtension(String extension) {
        String lower = extension.toLowerCase(Locale.ROOT);
        for (PageFormat format : values()) {
            if (format.extensions.contains(lower)) {
                return format;
            }
        }
        return null;
    }
}
