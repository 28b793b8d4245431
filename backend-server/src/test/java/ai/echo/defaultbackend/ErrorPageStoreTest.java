package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reloading on change. The fallback check interval is set far beyond the deadlines here, so these tests
 * pass only if the directory's change events drive the reload.
 */
class ErrorPageStoreTest {

    private static final Duration NO_FALLBACK = Duration.ofMinutes(10);

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

        Await.until("the new version served", () -> page(store, 503, PageFormat.HTML).equals("version two"));
        assertThat(store.reloads()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void reloadsWhenAFileIsAddedChangedOrRemoved() throws Exception {
        store = new ErrorPageStore(dir, NO_FALLBACK).start();
        assertThat(page(store, 404, PageFormat.JSON)).startsWith("{\"code\":404");

        Files.writeString(dir.resolve("4xx.json"), "{\"added\":{{code}}}");
        Await.until("the added file served", () -> page(store, 404, PageFormat.JSON).equals("{\"added\":404}"));

        Files.writeString(dir.resolve("4xx.json"), "{\"changed\":{{code}}}");
        Await.until("the changed file served", () -> page(store, 404, PageFormat.JSON).equals("{\"changed\":404}"));

        Files.delete(dir.resolve("4xx.json"));
        Await.until("the built-in page back", () -> page(store, 404, PageFormat.JSON).startsWith("{\"code\":404"));
    }

    @Test
    void keepsServingThePreviousPageWhenTheFileBreaks() throws Exception {
        Files.writeString(dir.resolve("500.txt"), "good");
        store = new ErrorPageStore(dir, NO_FALLBACK).start();
        long reloads = store.reloads();

        Files.write(dir.resolve("500.txt"), new byte[] {(byte) 0xc3, (byte) 0x28});
        Await.until("a reload that found the broken file", () -> store.reloadProblems() >= 1);
        assertThat(store.reloads()).isGreaterThan(reloads);
        assertThat(page(store, 500, PageFormat.TEXT)).isEqualTo("good");

        Files.writeString(dir.resolve("500.txt"), "fixed");
        Await.until("the fixed file served", () -> page(store, 500, PageFormat.TEXT).equals("fixed"));
    }

    @Test
    void startsWithBuiltInPagesWhenTheDirectoryIsMissingAndPicksItUpLater() throws Exception {
        Path missing = dir.resolve("www");
        store = new ErrorPageStore(missing, Duration.ofMillis(100)).start();
        assertThat(page(store, 503, PageFormat.TEXT)).isEqualTo("503 \n");

        Path staging = Files.createDirectory(dir.resolve("staging"));
        Files.writeString(staging.resolve("503.txt"), "now there");
        Files.move(staging, missing, StandardCopyOption.ATOMIC_MOVE);
        Await.until("the directory picked up", () -> page(store, 503, PageFormat.TEXT).equals("now there"));
    }

    /**
     * Deleting the directory cancels its watch; once the fallback check has found it again, the watch is
     * registered anew. A change the fingerprint cannot see (the same name, size and modification time, set
     * back to what it was) then still causes a reread: only a change event can have caused it.
     */
    @Test
    void watchesTheDirectoryAgainOnceItIsDeletedAndRecreated() throws Exception {
        Path pages = Files.createDirectory(dir.resolve("pages"));
        Files.writeString(pages.resolve("503.txt"), "first");
        store = new ErrorPageStore(pages, Duration.ofMillis(100)).start();
        assertThat(page(store, 503, PageFormat.TEXT)).isEqualTo("first");

        Files.delete(pages.resolve("503.txt"));
        Files.delete(pages);
        Await.until("the built-in page back", () -> page(store, 503, PageFormat.TEXT).equals("503 \n"));

        Path staging = Files.createDirectory(dir.resolve("staging"));
        Files.writeString(staging.resolve("503.txt"), "second");
        Files.move(staging, pages, StandardCopyOption.ATOMIC_MOVE);
        Await.until("the recreated directory read", () -> page(store, 503, PageFormat.TEXT).equals("second"));

        Path file = pages.resolve("503.txt");
        FileTime modified = Files.getLastModifiedTime(file);
        long reloads = store.reloads();
        // Touched until the new watch reports it: it is registered just after the reread above, not before.
        // The touches are further apart than the store's 50 ms settling, which waits for a quiet moment.
        long deadline = System.nanoTime() + Await.DEADLINE.toNanos();
        while (store.reloads() == reloads) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + Await.DEADLINE + ": a reread on the new watch's event");
            }
            Files.setLastModifiedTime(file, modified);
            long touched = System.nanoTime();
            while (store.reloads() == reloads && System.nanoTime() - touched < TimeUnit.MILLISECONDS.toNanos(250)) {
                Thread.sleep(10);
            }
        }
        assertThat(page(store, 503, PageFormat.TEXT)).isEqualTo("second");
    }

    /**
     * A directory something keeps writing to, more often than the store's quiet time, is still read: the
     * store does not wait for a quiet moment that never comes. The writes here come every 10 ms; the change
     * to a page among them must be served well within the deadline (about a second after it began).
     */
    @Test
    void aDirectoryThatNeverGoesQuietIsStillRead() throws Exception {
        Path pages = Files.createDirectory(dir.resolve("pages"));
        Files.writeString(pages.resolve("503.txt"), "first");
        store = new ErrorPageStore(pages, NO_FALLBACK).start();
        assertThat(page(store, 503, PageFormat.TEXT)).isEqualTo("first");

        AtomicBoolean writing = new AtomicBoolean(true);
        Thread writer = new Thread(() -> {
            int i = 0;
            while (writing.get()) {
                try {
                    Files.writeString(pages.resolve("notes.log"), Integer.toString(i++));
                    Thread.sleep(10);
                } catch (IOException | InterruptedException e) {
                    return;
                }
            }
        }, "busy-writer");
        writer.start();
        try {
            Await.until("the first write seen", () -> Files.exists(pages.resolve("notes.log")));
            Files.writeString(pages.resolve("503.txt"), "second");
            Await.until("the page changed while the directory stays busy",
                    () -> page(store, 503, PageFormat.TEXT).equals("second"));
            assertThat(writer.isAlive()).as("still writing when the change was read").isTrue();
        } finally {
            writing.set(false);
            writer.join();
        }
    }
}
