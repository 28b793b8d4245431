package ai.echo.defaultbackend;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The optional access log: one JSON object per line on stdout for a sample of the requests, with a ceiling
 * of lines per second so that a flood of requests cannot make logging the bottleneck.
 *
 * <p>The event loops only decide and hand over: when a request's head arrives, {@link #sample()} is a random
 * draw and {@link #tryAcquire()} a lock-free token bucket, so that a request past the ceiling costs nothing
 * more; when it is answered, {@link #submit} is a non-blocking offer to a bounded queue. One daemon thread
 * formats the lines and hands them to {@link Stdout}'s writer, waiting for room there when stdout is slow, so
 * that the queue here fills instead: a line refused by the ceiling or by a full queue is dropped and counted.
 * A line counts as written once stdout took it, and as dropped if writing it failed (stdout closed); the
 * counts are in the metrics. Requests refused as malformed (400, 414, 431) are not logged: they have
 * no reliable method or path, and are counted in {@code defaultbackend_http_requests_total} and
 * {@code defaultbackend_connections_closed_total}.
 *
 * <p>Every field from the request is read as UTF-8 (bytes that are not become U+FFFD), cut to
 * {@link Escape#MAX_VALUE_CHARS} and escaped as a JSON string (non-ASCII as {@code \\u} escapes, so a line is
 * ASCII).
 */
final class AccessLog implements AutoCloseable {

    /**
     * One request, as captured on the event loop; formatted later by the writer thread. The request's values
     * are as the decoder read them, one char per byte.
     */
    record Entry(long epochMillis, String remote, String method, String path, int status, long bytes,
                 long durationNanos, String userAgent, String requestId, String xCode) {
    }

    static final int QUEUE_CAPACITY = 8192;

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final Entry STOP = new Entry(0, "", "", "", 0, 0, 0, "", "", "");
    /**
     * How long {@link #close} waits for the lines queued to be handed to stdout: a few milliseconds when it
     * is read, and a bound on the stop when it is not.
     */
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(1);

    private final double sampleRate;
    private final long nanosPerLine;
    private final long burstNanos;
    private final LongSupplier nanoClock;
    private final Stdout out;
    private final BlockingQueue<Entry> queue;
    /** The token bucket as a theoretical arrival time (GCRA): a line may go if this is not too far ahead. */
    private final AtomicLong nextFree;
    private final LongAdder written = new LongAdder();
    private final LongAdder rateLimited = new LongAdder();
    private final LongAdder queueFull = new LongAdder();
    private final LongAdder writeErrors = new LongAdder();
    private final Thread writer;

    /**
     * @param sampleRate        share of requests considered for logging, 0 to 1
     * @param maxLinesPerSecond ceiling of lines per second, averaged, with a burst of one second's worth
     */
    AccessLog(double sampleRate, int maxLinesPerSecond, int queueCapacity, Stdout out, LongSupplier nanoClock) {
        this.sampleRate = sampleRate;
        this.nanosPerLine = TimeUnit.SECONDS.toNanos(1) / maxLinesPerSecond;
        this.burstNanos = nanosPerLine * (maxLinesPerSecond - 1L);
        this.nanoClock = nanoClock;
        this.out = out;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.nextFree = new AtomicLong(nanoClock.getAsLong());
        this.writer = new Thread(this::drain, "access-log");
        writer.setDaemon(true);
        writer.start();
    }

    /** Whether this request is in the sample. */
    boolean sample() {
        return sampleRate >= 1.0 || sampleRate > 0 && ThreadLocalRandom.current().nextDouble() < sampleRate;
    }

    /** Takes a token for one line; false (and counted as dropped) when over the ceiling. */
    boolean tryAcquire() {
        long now = nanoClock.getAsLong();
        while (true) {
            long free = nextFree.get();
            long start = free - now < 0 ? now : free;
            if (start - now > burstNanos) {
                rateLimited.increment();
                return false;
            }
            if (nextFree.compareAndSet(free, start + nanosPerLine)) {
                return true;
            }
        }
    }

    /** Hands a line to the writer thread; never blocks. */
    void submit(Entry entry) {
        if (!queue.offer(entry)) {
            queueFull.increment();
        }
    }

    long written() {
        return written.sum();
    }

    long droppedByRateLimit() {
        return rateLimited.sum();
    }

    long droppedQueueFull() {
        return queueFull.sum();
    }

    /** Lines whose write to stdout failed (stdout closed: EPIPE). */
    long droppedWriteError() {
        return writeErrors.sum();
    }

    private void drain() {
        List<Entry> batch = new ArrayList<>(256);
        StringBuilder lines = new StringBuilder(64 * 1024);
        boolean stopping = false;
        while (!stopping) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                stopping = true;
            }
            queue.drainTo(batch, 255);
            int count = 0;
            for (Entry entry : batch) {
                if (entry == STOP) {
                    stopping = true;
                } else {
                    format(entry, lines);
                    count++;
                }
            }
            batch.clear();
            if (lines.length() > 0) {
                // Escaped, the lines are ASCII.
                byte[] bytes = lines.toString().getBytes(StandardCharsets.US_ASCII);
                lines.setLength(0);
                int formatted = count;
                try {
                    out.put(bytes, ok -> (ok ? written : writeErrors).add(formatted));
                } catch (InterruptedException e) {
                    stopping = true;
                }
            }
        }
    }

    static void format(Entry entry, StringBuilder out) {
        out.append("{\"time\":\"").append(TIME.format(Instant.ofEpochMilli(entry.epochMillis()))).append('"');
        string(out, "remote", entry.remote());
        string(out, "method", entry.method());
        string(out, "path", entry.path());
        out.append(",\"status\":").append(entry.status());
        out.append(",\"bytes\":").append(entry.bytes());
        long micros = entry.durationNanos() / 1000;
        long fraction = micros % 1000;
        out.append(",\"duration_ms\":").append(micros / 1000).append('.')
                .append(fraction < 100 ? (fraction < 10 ? "00" : "0") : "").append(fraction);
        string(out, "user_agent", entry.userAgent());
        string(out, "request_id", entry.requestId());
        string(out, "x_code", entry.xCode());
        out.append("}\n");
    }

    private static void string(StringBuilder out, String name, String value) {
        out.append(",\"").append(name).append("\":\"");
        Escape.json(Escape.cut(Escape.utf8(value), Escape.MAX_VALUE_CHARS), out);
        out.append('"');
    }

    /**
     * Hands what is queued to stdout, then stops the writer; gives up after {@link #CLOSE_TIMEOUT}, when
     * stdout is not being read, and leaves the writer waiting for room there.
     */
    @Override
    public void close() {
        while (!queue.offer(STOP)) {
            queue.poll();
            queueFull.increment();
        }
        try {
            writer.join(CLOSE_TIMEOUT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
