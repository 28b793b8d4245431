package ai.echo.defaultbackend;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Standard output, written by one thread of its own. Everything the server prints there goes through it: its
 * log lines (slf4j-simple prints to {@code System.out}, which {@link #printStream()} replaces), the stop line
 * and the access log. Whoever prints only hands bytes over, in memory, so a stdout nobody reads (a log
 * collector that stopped: the pipe fills at 64 KiB and every write to it blocks) blocks this one thread: never
 * an event loop, a signal handler or the drain, and the process still stops within {@code --timeout}.
 *
 * <p>One writer also keeps every line whole, and the lines in the order they were handed over, where two
 * writers on the same pipe could cut one's line with the other's (a write of more than 4 KiB to a pipe is not
 * atomic).
 *
 * <p>The writer thread runs while there is something to write, and ends once nothing more has come for
 * {@link #IDLE}: a server at rest, whose stdout has only its start-up line, keeps no thread and no stack for it
 * (about 0.3 MB of resident memory, measured against the build before this class). The next line starts another.
 *
 * <p>At most {@link #CAPACITY} bytes wait. Past that, log lines are dropped, and one line says how many at the
 * place they would have been; the access log waits for room ({@link #put}), so that its own queue fills and
 * drops, counted; the few lifecycle lines ({@link #line}) are always taken.
 */
final class Stdout implements AutoCloseable {

    /** Bytes waiting at most: a few thousand log or access-log lines, a few seconds of a slow reader. */
    static final int CAPACITY = 1 << 20;
    /** How long the writer thread waits for more before it ends. */
    static final Duration IDLE = Duration.ofSeconds(1);

    /** Told, on the writer thread, whether bytes handed over by {@link #put} were written. */
    interface Outcome {
        void written(boolean ok);
    }

    /** Bytes handed over by {@link #put}, and whom to tell how their write went. */
    private record Told(byte[] bytes, Outcome outcome) {
    }

    /** Log lines dropped in a row, noted in the queue where they would have been. */
    private static final class Dropped {
        long lines = 1;
    }

    private final OutputStream target;
    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    /** Something to write, or closed. */
    private final Condition ready = lock.newCondition();
    /** A chunk was written: room was made. */
    private final Condition progress = lock.newCondition();
    /** Bytes to write ({@code byte[]} or {@link Told}) and notes of lines dropped ({@link Dropped}). */
    private final ArrayDeque<Object> queue = new ArrayDeque<>();
    private final long idleNanos;
    /** The writer thread, while one runs. Guarded by {@link #lock}, as every field below. */
    private Thread writer;
    private long queuedBytes;
    /** Chunks handed over and chunks done with (written or failed), to wait for what was handed over. */
    private long handedOver;
    private long done;
    private boolean closed;

    Stdout(OutputStream target) {
        this(target, CAPACITY);
    }

    Stdout(OutputStream target, int capacity) {
        this(target, capacity, IDLE);
    }

    Stdout(OutputStream target, int capacity, Duration idle) {
        this.target = target;
        this.capacity = capacity;
        this.idleNanos = idle.toNanos();
    }

    /** A lifecycle line ({@code stopping http server...}): always taken, never waits. */
    void line(String line) {
        enqueue((line + "\n").getBytes(StandardCharsets.UTF_8), true);
    }

    /** Log text: taken if there is room, else dropped (and noted); never waits. */
    boolean offer(byte[] bytes) {
        return enqueue(bytes, false);
    }

    /**
     * Access-log lines: waits for room, so that only the caller's own thread waits on a slow stdout.
     * {@code outcome} is told once they are written, or their write failed (stdout closed: EPIPE).
     */
    void put(byte[] bytes, Outcome outcome) throws InterruptedException {
        lock.lock();
        try {
            while (!closed && queuedBytes > 0 && queuedBytes + bytes.length > capacity) {
                progress.await();
            }
            add(new Told(bytes, outcome), bytes.length);
        } finally {
            lock.unlock();
        }
    }

    private boolean enqueue(byte[] bytes, boolean always) {
        lock.lock();
        try {
            if (!always && queuedBytes > 0 && queuedBytes + bytes.length > capacity) {
                if (queue.peekLast() instanceof Dropped) {
                    ((Dropped) queue.peekLast()).lines++;
                } else {
                    queue.add(new Dropped());
                    handedOver++;
                    wakeWriter();
                }
                return false;
            }
            add(bytes, bytes.length);
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void add(Object chunk, int length) {
        queue.add(chunk);
        queuedBytes += length;
        handedOver++;
        wakeWriter();
    }

    /** Something was queued: the writer takes it, or one is started to. Called holding {@link #lock}. */
    private void wakeWriter() {
        if (writer != null) {
            ready.signal();
        } else if (!closed) {
            writer = new Thread(this::writeAll, "stdout");
            writer.setDaemon(true);
            writer.start();
        }
    }

    /** Whether a writer thread runs now; for tests. */
    boolean writing() {
        lock.lock();
        try {
            return writer != null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until what was handed over before this call is written, at most {@code timeout}.
     *
     * @return false when the time ran out first (stdout is not being read)
     */
    boolean awaitWritten(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            long target = handedOver;
            while (done < target) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                progress.awaitNanos(left);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return done >= handedOver;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A {@link PrintStream} for {@code System.out}: what is printed there is handed over with {@link #offer},
     * a line at a time (or the lines printed together).
     */
    PrintStream printStream() {
        return new PrintStream(new HandOver(), true, StandardCharsets.UTF_8);
    }

    private void writeAll() {
        while (true) {
            Object chunk;
            byte[] bytes;
            lock.lock();
            try {
                long left = idleNanos;
                while (queue.isEmpty() && !closed && left > 0) {
                    try {
                        left = ready.awaitNanos(left);
                    } catch (InterruptedException e) {
                        left = 0; // nobody interrupts it; ending is safe, the next line starts another
                    }
                }
                chunk = queue.poll();
                if (chunk == null) {
                    // Closed, or nothing for the idle time: end; the next line handed over starts another.
                    writer = null;
                    return;
                }
                if (chunk instanceof Dropped) {
                    long lines = ((Dropped) chunk).lines;
                    bytes = ("WARN " + lines + " log line" + (lines == 1 ? "" : "s")
                            + " dropped: stdout was not being read fast enough\n").getBytes(StandardCharsets.UTF_8);
                } else {
                    bytes = chunk instanceof Told ? ((Told) chunk).bytes() : (byte[]) chunk;
                }
            } finally {
                lock.unlock();
            }
            boolean ok = true;
            try {
                target.write(bytes);
                target.flush();
            } catch (IOException e) {
                ok = false; // stdout closed (EPIPE): nowhere left to say so but in the counts of those told
            }
            lock.lock();
            try {
                if (!(chunk instanceof Dropped)) {
                    queuedBytes -= bytes.length;
                }
                done++;
                progress.signalAll();
            } finally {
                lock.unlock();
            }
            if (chunk instanceof Told) {
                ((Told) chunk).outcome().written(ok);
            }
        }
    }

    /** Writes what is queued, at most {@code timeout}, then stops the writer. */
    void close(Duration timeout) {
        awaitWritten(timeout);
        lock.lock();
        try {
            closed = true;
            ready.signal();
            progress.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(1));
    }

    /**
     * Collects what a {@link PrintStream} writes, and hands over whole lines when it flushes. A PrintStream
     * flushes more often than once a line (after each part of a line printed in parts, and every 8 KiB of a
     * long one): handing those pieces over as they came would let a drop cut a line.
     */
    private final class HandOver extends OutputStream {
        private static final int MAX_PENDING = 64 * 1024;
        private final Pending pending = new Pending();

        @Override
        public synchronized void write(int b) {
            pending.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            pending.write(b, off, len);
        }

        @Override
        public synchronized void flush() {
            byte[] lines = pending.takeLines(MAX_PENDING);
            if (lines != null) {
                offer(lines);
            }
        }
    }

    private static final class Pending extends ByteArrayOutputStream {
        Pending() {
            super(256);
        }

        /** The whole lines written, or everything once there is more than {@code max}; null for none. */
        byte[] takeLines(int max) {
            int end = count;
            if (end <= max) {
                while (end > 0 && buf[end - 1] != '\n') {
                    end--;
                }
            }
            if (end == 0) {
                return null;
            }
            byte[] lines = Arrays.copyOf(buf, end);
            System.arraycopy(buf, end, buf, 0, count - end);
            count -= end;
            return lines;
        }
    }
}
