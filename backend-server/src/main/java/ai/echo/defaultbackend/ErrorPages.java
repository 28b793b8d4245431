package ai.echo.defaultbackend;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One immutable generation of error pages: what the error files directory held when it was last read, over
 * the built-in pages. The lookup for a code and format is {@code <code><ext>}, then {@code <d>xx<ext>}
 * (for example {@code 503.json}, then {@code 5xx.json}), then the built-in page, as custom-error-pages does,
 * with every extension of the format tried in order ({@code .html} before {@code .htm}).
 *
 * <p>Loading never fails as a whole: a file that cannot be read, is not UTF-8 or is too large is logged and
 * its previous version (from the generation given) is kept; a missing directory means built-in pages only.
 */
final class ErrorPages {

    static final int FIRST_CODE = 400;
    static final int LAST_CODE = 599;
    /** Larger files are refused: an error page is a few kilobytes, and every page is held in memory. */
    static final long MAX_FILE_BYTES = 1024 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(ErrorPages.class);
    private static final Pattern FILE_NAME = Pattern.compile("([45](?:[0-9]{2}|xx))(\\.[A-Za-z]+)");
    private static final PageTemplate[] BUILT_IN = new PageTemplate[PageFormat.values().length];

    static {
        for (PageFormat format : PageFormat.values()) {
            BUILT_IN[format.ordinal()] = PageTemplate.builtIn(format);
        }
    }

    /** Built-in pages only. */
    static final ErrorPages BUILT_IN_ONLY = new ErrorPages(Map.of(), 0);

    /** Templates by file name, as read; kept so the next generation can fall back to them. */
    private final Map<String, PageTemplate> files;
    private final PageTemplate[][] exact = new PageTemplate[LAST_CODE - FIRST_CODE + 1][];
    private final PageTemplate[][] byClass = new PageTemplate[2][];
    private final int problems;

    private ErrorPages(Map<String, PageTemplate> files, int problems) {
        this.files = Map.copyOf(files);
        this.problems = problems;
        for (Map.Entry<String, PageTemplate> entry : this.files.entrySet()) {
            Matcher matcher = FILE_NAME.matcher(entry.getKey());
            if (!matcher.matches()) {
                continue;
            }
            String code = matcher.group(1);
            PageTemplate[][] table = code.endsWith("xx") ? byClass : exact;
            int index = code.endsWith("xx") ? code.charAt(0) - '4' : Integer.parseInt(code) - FIRST_CODE;
            PageFormat format = entry.getValue().format();
            if (table[index] == null) {
                table[index] = new PageTemplate[PageFormat.values().length];
            }
            PageTemplate current = table[index][format.ordinal()];
            if (current == null || takesPrecedence(entry.getKey(), nameOf(current), format)) {
                table[index][format.ordinal()] = entry.getValue();
            }
        }
    }

    private String nameOf(PageTemplate template) {
        for (Map.Entry<String, PageTemplate> entry : files.entrySet()) {
            if (entry.getValue() == template) {
                return entry.getKey();
            }
        }
        return "";
    }

    /**
     * Of two files for one code and format, whether {@code name} is served rather than {@code other}: the
     * extension listed first ({@code 404.html} over {@code 404.htm}), then the one written in lower case, as
     * listed ({@code 404.html} over {@code 404.HTML}), then the name that sorts first. Whatever order the
     * directory lists them in, and the files were read in, the same one.
     */
    static boolean takesPrecedence(String name, String other, PageFormat format) {
        int rank = rank(name, format);
        int otherRank = rank(other, format);
        return rank != otherRank ? rank < otherRank : name.compareTo(other) < 0;
    }

    /** Twice the index of the file's extension among the format's, plus one unless it is in lower case. */
    private static int rank(String fileName, PageFormat format) {
        String lower = fileName.toLowerCase(java.util.Locale.ROOT);
        for (int i = 0; i < format.extensions.size(); i++) {
            if (lower.endsWith(format.extensions.get(i))) {
                return 2 * i + (fileName.endsWith(format.extensions.get(i)) ? 0 : 1);
            }
        }
        return Integer.MAX_VALUE;
    }

    /** The page for a status from 400 to 599 in a format; never null. */
    PageTemplate find(int code, PageFormat format) {
        PageTemplate[] forCode = exact[code - FIRST_CODE];
        if (forCode != null && forCode[format.ordinal()] != null) {
            return forCode[format.ordinal()];
        }
        PageTemplate[] forClass = byClass[code / 100 - 4];
        if (forClass != null && forClass[format.ordinal()] != null) {
            return forClass[format.ordinal()];
        }
        return BUILT_IN[format.ordinal()];
    }

    /** How many files the directory holds pages from. */
    int fileCount() {
        return files.size();
    }

    /** How many files could not be used when this generation was read. */
    int problems() {
        return problems;
    }

    /**
     * Reads the directory into a new generation.
     *
     * @param previous the generation in use, whose pages stand in for files that cannot be read now
     */
    static ErrorPages load(Path directory, ErrorPages previous) {
        Map<String, PageTemplate> files = new HashMap<>();
        int problems = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                Matcher matcher = FILE_NAME.matcher(name);
                if (!matcher.matches()) {
                    continue;
                }
                PageFormat format = PageFormat.byExtension(matcher.group(2));
                if (format == null || !Files.isRegularFile(entry)) {
                    continue;
                }
                try {
                    files.put(name, PageTemplate.parse(read(entry), format));
                } catch (IOException | RuntimeException e) {
                    problems++;
                    PageTemplate kept = previous.files.get(name);
                    LOG.warn("error page {} not loaded ({}); {}", Flags.quote(entry.toString()),
                            Flags.quote(describe(e)), kept == null ? "not served" : "keeping its previous version");
                    if (kept != null) {
                        files.put(name, kept);
                    }
                }
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            return new ErrorPages(Map.of(), 0);
        } catch (IOException e) {
            LOG.warn("error pages directory {} not readable ({}); keeping the pages loaded before",
                    Flags.quote(directory.toString()), Flags.quote(describe(e)));
            return new ErrorPages(previous.files, 1);
        }
        return new ErrorPages(files, problems);
    }

    private static String read(Path file) throws IOException {
        if (Files.size(file) > MAX_FILE_BYTES) {
            throw new IOException("larger than " + MAX_FILE_BYTES + " bytes");
        }
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length > MAX_FILE_BYTES) {
            throw new IOException("larger than " + MAX_FILE_BYTES + " bytes");
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IOException("not valid UTF-8", e);
        }
    }

    private static String describe(Exception e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
