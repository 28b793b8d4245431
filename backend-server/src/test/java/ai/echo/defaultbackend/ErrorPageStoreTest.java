package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reloading on change. The fallback check interval is set far beyond the deadlines here, so these tests
 * pass only if the directory's change events drive the reload.
 */
class ErrorPageStoreTest {

    private static final Duration NO_FALLBACK = Duration.ofMinutes(10);
    private static final Duration DEADLINE = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private ErrorPageStore store;

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    private static String page(ErrorPageStore store, int code, PageFormat format) {
        String[] values = new String[PageTemplate.Placeholder.values().length];
        Arrays.fill(values, "");
        values[PageTemplate.Placeholder.CODE.ordinal()] = Integer.toString(code);
        return PageTemplateTest.page(store.current().find(code, format), values);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + DEADLINE + ": " + what);
            }
            Thread.sleep(10);
        }
    }

    /** Lays out a ConfigMap volume: a timestamped data directory, {@code ..data} and one symlink per key. */
    private Path configMapVersion(String name, String key, String content) throws IOException {
        Path version = Files.createDirectory(dir.resolve(name));
        Files.writeString(version.resolve(key), content);
        return version;
    }

    /** Swaps {@code ..data} the way the kubelet does: a new symlink renamed over the old one. */
    private void swapData(Path version) throws IOException {
        Path tmp = dir.resolve("..data_tmp");
        Files.createSymbolicLink(tmp, version.getFileName());
        Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void reloadsWhenAConfigMapUpdateSwapsItsDataLink() throws Exception {
        Path v1 = configMapVersion("..v1", "503.html", "version one");
        swapData(v1);
        Files.createSymbolicLink(dir.resolve("503.html"), Path.of("..data/503.html"));
        store = new ErrorPageStore(dir, NO_FALLBACK).start();
        assertThat(page(store, 503, PageFormat.HTML)).isEqualTo("version one");

        swapData(configMapVersion("..v2", "503.html", "version two"));

        await("the new version served", () -> page(store, 503, PageFormat.HTML).equals("version two"));
        assertThat(store.reloads()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void reloadsWhenAFileIsAddedChangedOrRemoved() throws Exception {
        store = new ErrorPageStore(dir, NO_FALLBACK).start();
        assertThat(page(store, 404, PageFormat.JSON)).startsWith("{\"code\":404");

        Files.writeString(dir.resolve("4xx.json"), "{\"added\":{{code}}}");
        await("the added file served", () -> page(store, 404, PageFormat.JSON).equals("{\"added\":404}"));

        Files.writeString(dir.resolve("4xx.json"), "{\"changed\":{{code}}}");
        await("the changed file served", () -> page(store, 404, PageFormat.JSON).equals("{\"changed\":404}"));

        Files.delete(dir.resolve("4xx.json"));
        await("the built-in page back", () -> page(store, 404, PageFormat.JSON).startsWith("{\"code\":404"));
    }

    @Test
    void keepsServingThePreviousPageWhenTheFileBreaks() throws Exception {
        Files.writeString(dir.resolve("500.txt"), "good");
        store = new ErrorPageStore(dir, NO_FALLBACK).start();
        long reloads = store.reloads();

        Files.write(dir.resolve("500.txt"), new byte[] {(byte) 0xc3, (byte) 0x28});
        await("a reload that found the broken file", () -> store.reloadProblems() >= 1);
        assertThat(store.reloads()).isGreaterThan(reloads);
        assertThat(page(store, 500, PageFormat.TEXT)).isEqualTo("good");

        Files.writeString(dir.resolve("500.txt"), "fixed");
        await("the fixed file served", () -> page(store, 500, PageFormat.TEXT).equals("fixed"));
    }

    @Test
    void startsWithBuiltInPagesWhenTheDirectoryIsMissingAndPicksItUpLater() throws Exception {
        Path missing = dir.resolve("www");
        store = new ErrorPageStore(missing, Duration.ofMillis(100)).start();
        assertThat(page(store, 503, PageFormat.TEXT)).isEqualTo("503 \n");

        Path staging = Files.createDirectory(dir.resolve("staging"));
        Files.writeString(staging.resolve("503.txt"), "now there");
        Files.move(staging, missing, StandardCopyOption.ATOMIC_MOVE);
        await("the directory picked up", () -> page(store, 503, PageFormat.TEXT).equals("now there"));
    }
}
