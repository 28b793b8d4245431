package ai.echo.defaultbackend;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The error pages in use, kept current with the error files directory by one daemon thread, so that the
 * event loops only ever read a field.
 *
 * <p>A Kubernetes ConfigMap volume is updated by swapping its {@code ..data} symlink, which the directory's
 * watch reports as an entry created there; the thread then reads the whole directory again. As a safety net
 * for file systems without change events, and for a directory that does not exist yet, the thread also
 * compares a cheap fingerprint (names, sizes, modification times, through symlinks) every
 * {@code checkInterval}.
 */
final class ErrorPageStore implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorPageStore.class);
    /** A change is read once the directory has been quiet this long... */
    private static final long QUIET_MILLIS = 50;
    /** ...or this long after it began, if the directory never goes quiet. */
    private static final long MAX_SETTLE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Path directory;
    private final Duration checkInterval;
    private final LongAdder reloads = new LongAdder();
    private final LongAdder reloadProblems = new LongAdder();
    private volatile ErrorPages current;
    private volatile boolean closed;
    private Thread thread;
    private WatchService watchService;
    private WatchKey watchKey;
    private List<String> fingerprint = List.of();

    ErrorPageStore(Path directory, Duration checkInterval) {
        this.directory = directory;
        this.checkInterval = checkInterval;
        this.current = ErrorPages.BUILT_IN_ONLY;
    }

    /** Reads the directory once, then starts watching it. */
    ErrorPageStore start() {
        try {
            watchService = directory.getFileSystem().newWatchService();
        } catch (IOException | UnsupportedOperationException e) {
            LOG.info("error pages directory cannot be watched ({}); checking it every {}",
                    e.getClass().getSimpleName(), GoDuration.format(checkInterval));
        }
        // Watch first, read second: a change made in between is then seen, not lost.
        register();
        fingerprint = fingerprint();
        reload("start");
        thread = new Thread(this::watch, "error-pages-watch");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    ErrorPages current() {
        return current;
    }

    /** One phrase for the start-up line: where the pages come from. */
    String describe() {
        String where = Flags.quote(directory.toString());
        if (!Files.isDirectory(directory)) {
            return "built-in error pages (" + where + " not found, watched)";
        }
        return "error pages from " + where + " (" + current.fileCount() + " files, others built-in)";
    }

    /** Successful reads of the directory since start, the first included. */
    long reloads() {
        return reloads.sum();
    }

    /** Files that could not be loaded, summed over every read. */
    long reloadProblems() {
        return reloadProblems.sum();
    }

    private void watch() {
        while (!closed) {
            try {
                register();
                boolean changed = false;
                if (watchService != null) {
                    WatchKey key = watchService.poll(checkInterval.toMillis(), TimeUnit.MILLISECONDS);
                    if (key != null) {
                        changed = !key.pollEvents().isEmpty();
                        if (!key.reset()) {
                            watchKey = null; // the directory went away; register again when it is back
                        }
                        // A ConfigMap update is several renames in a row: let it finish before reading.
                        settle();
                    }
                } else {
                    Thread.sleep(checkInterval.toMillis());
                }
                List<String> now = fingerprint();
                if (changed || !now.equals(fingerprint)) {
                    fingerprint = now;
                    reload("change");
                }
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warn("error pages watch: {}", Flags.quote(String.valueOf(e)));
            }
        }
    }

    /**
     * Waits for the directory to be quiet for {@link #QUIET_MILLIS}, so that a change made of several steps
     * is read once, but no longer than {@link #MAX_SETTLE_NANOS}: a directory something keeps writing to
     * (more often than the quiet time) is still read about once a second.
     */
    private void settle() throws InterruptedException {
        long deadline = System.nanoTime() + MAX_SETTLE_NANOS;
        WatchKey more;
        long left;
        while ((left = deadline - System.nanoTime()) > 0
                && (more = watchService.poll(Math.min(QUIET_MILLIS, TimeUnit.NANOSECONDS.toMillis(left) + 1),
                        TimeUnit.MILLISECONDS)) != null) {
            more.pollEvents();
            if (!more.reset()) {
                watchKey = null;
            }
        }
    }

    private void register() {
        if (watchService == null || (watchKey != null && watchKey.isValid())) {
            return;
        }
        if (!Files.isDirectory(directory)) {
            return;
        }
        try {
            watchKey = directory.register(watchService, StandardWatchEventKinds.ENTRY_CREATE,
                    StandardWatchEventKinds.ENTRY_DELETE, StandardWatchEventKinds.ENTRY_MODIFY);
        } catch (IOException e) {
            watchKey = null;
        }
    }

    private void reload(String why) {
        ErrorPages next = ErrorPages.load(directory, current);
        current = next;
        reloads.increment();
        reloadProblems.add(next.problems());
        if (!"start".equals(why)) { // the start-up line says what was found first
            LOG.info("error pages loaded from {}: {} files, {} not loaded", Flags.quote(directory.toString()),
                    next.fileCount(), next.problems());
        }
    }

    /** Names with size and modification time, symlinks followed; empty when the directory is missing. */
    private List<String> fingerprint() {
        if (!Files.isDirectory(directory)) {
            // The usual case, with no pages mounted: a stat, rather than an exception every interval.
            return List.of();
        }
        List<String> entries = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory)) {
            for (Path entry : stream) {
                try {
                    BasicFileAttributes attributes = Files.readAttributes(entry, BasicFileAttributes.class);
                    entries.add(entry.getFileName() + "\0" + attributes.size() + "\0"
                            + attributes.lastModifiedTime().toMillis() + "\0" + attributes.fileKey());
                } catch (IOException e) {
                    entries.add(entry.getFileName() + "\0?");
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        entries.sort(null);
        return entries;
    }

    @Override
    public void close() {
        closed = true;
        if (thread != null) {
            thread.interrupt();
        }
        if (watchService != null) {
            try {
                watchService.close();
            } catch (IOException e) {
                LOG.debug("closing the error pages watch", e);
            }
        }
    }
}
