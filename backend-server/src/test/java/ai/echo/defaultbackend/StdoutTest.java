package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The one writer of stdout: whole lines in order, and a stdout nobody reads blocks nobody else. */
class StdoutTest {

    private final StuckOutput blocking = new StuckOutput();
    private final List<Stdout> opened = new ArrayList<>();

    @AfterEach
    void close() {
        blocking.release.countDown();
        opened.forEach(Stdout::close);
    }

    private Stdout open(OutputStream target, int capacity) {
        Stdout stdout = new Stdout(target, capacity);
        opened.add(stdout);
        return stdout;
    }

    private List<String> lines() {
        return blocking.written.toString(StandardCharsets.UTF_8).lines().toList();
    }

    /**
     * Printers on several threads, faster than the writer: every line comes out whole, each thread's in
     * order, and those over the capacity are dropped and counted in the notes, none lost unsaid.
     */
    @Test
    void linesFromManyThreadsComeOutWholeAndEachThreadsInOrder() throws Exception {
        Stdout stdout = open(blocking.written, Stdout.CAPACITY);
        PrintStream out = stdout.printStream();
        int threads = 4;
        int lines = 2000;
        List<Thread> printers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            printers.add(new Thread(() -> {
                for (int i = 0; i < lines; i++) {
                    // Long lines, some printed in parts, under a lock of the printers' as slf4j-simple prints a
                    // line and its stack trace (a PrintStream keeps a println whole, not a line in parts).
                    synchronized (printers) {
                        if (i % 2 == 0) {
                            out.println("INFO thread " + thread + " line " + i + " " + "x".repeat(3000));
                        } else {
                            out.print("INFO thread " + thread + " line " + i + " ");
                            out.print("y".repeat(5000));
                            out.println();
                        }
                    }
                }
            }));
        }
        printers.forEach(Thread::start);
        for (Thread printer : printers) {
            printer.join();
        }
        stdout.line("stopping http server...");
        assertThat(stdout.awaitWritten(Await.DEADLINE)).isTrue();

        List<String> all = lines();
        assertThat(all).endsWith("stopping http server...");
        Map<Integer, Integer> last = new HashMap<>();
        long printed = 0;
        long dropped = 0;
        for (String line : all.subList(0, all.size() - 1)) {
            Matcher note = Pattern.compile("WARN (\\d+) log lines? dropped: stdout was not being read fast enough")
                    .matcher(line);
            if (note.matches()) {
                dropped += Long.parseLong(note.group(1));
                continue;
            }
            assertThat(line).matches("INFO thread \\d line \\d+ (x{3000}|y{5000})");
            String[] parts = line.split(" ");
            int thread = Integer.parseInt(parts[2]);
            int number = Integer.parseInt(parts[4]);
            assertThat(number).isGreaterThan(last.getOrDefault(thread, -1));
            last.put(thread, number);
            printed++;
        }
        assertThat(printed + dropped).isEqualTo(threads * lines);
    }

    /**
     * With stdout stuck (a full pipe), printing, handing over a lifecycle line and waiting for the output all
     * return at once or within their bound; log lines over the capacity are dropped and one line says how
     * many, where they would have been; once stdout takes bytes again, the rest comes out in order.
     */
    @Test
    void aStdoutNobodyReadsBlocksOnlyItsWriter() throws Exception {
        Stdout stdout = open(blocking, 100);
        PrintStream out = stdout.printStream();
        out.println("first");
        assertThat(blocking.stuck.await(Await.DEADLINE.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        long start = System.nanoTime();
        for (int i = 0; i < 10; i++) {
            out.println("log line " + i + " " + "z".repeat(20)); // 32 bytes: two fit beside "first" in 100
        }
        stdout.line("stopping http server...");
        out.println("after the stop line");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("printing with stdout stuck")
                .isLessThan(Duration.ofSeconds(1));

        long waiting = System.nanoTime();
        assertThat(stdout.awaitWritten(Duration.ofMillis(200))).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - waiting)).isBetween(Duration.ofMillis(190),
                Duration.ofSeconds(5));

        blocking.release.countDown();
        assertThat(stdout.awaitWritten(Await.DEADLINE)).isTrue();
        assertThat(lines()).containsExactly("first", "log line 0 " + "z".repeat(20), "log line 1 " + "z".repeat(20),
                "WARN 8 log lines dropped: stdout was not being read fast enough", "stopping http server...",
                "WARN 1 log line dropped: stdout was not being read fast enough");
    }

    @Test
    void putWaitsForRoomAndOnlyItsCallerWaits() throws Exception {
        Stdout stdout = open(blocking, 100);
        stdout.put("access 1\n".getBytes(StandardCharsets.US_ASCII), ok -> { });
        assertThat(blocking.stuck.await(Await.DEADLINE.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        // 9 + 81 <= 100: fits
        stdout.put("a".repeat(80).concat("\n").getBytes(StandardCharsets.US_ASCII), ok -> { });
        // 90 + 39 > 100, and the lifecycle line is taken all the same.
        stdout.line("a lifecycle line is taken all the same");
        AtomicBoolean handedOver = new AtomicBoolean();
        Thread accessLog = new Thread(() -> {
            try {
                stdout.put("access 3\n".getBytes(StandardCharsets.US_ASCII), ok -> { }); // 129 + 9 > 100: waits
                handedOver.set(true);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        accessLog.start();
        accessLog.join(200);
        assertThat(accessLog.isAlive()).as("waiting for room").isTrue();
        assertThat(handedOver).isFalse();

        blocking.release.countDown();
        accessLog.join(Await.DEADLINE.toMillis());
        assertThat(handedOver).isTrue();
        assertThat(stdout.awaitWritten(Await.DEADLINE)).isTrue();
        assertThat(lines()).containsExactly("access 1", "a".repeat(80), "a lifecycle line is taken all the same",
                "access 3");
    }

    @Test
    void closingWithStdoutStuckIsBounded() throws Exception {
        Stdout stdout = open(blocking, Stdout.CAPACITY);
        stdout.line("stopping http server...");
        assertThat(blocking.stuck.await(Await.DEADLINE.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        long start = System.nanoTime();
        stdout.close(Duration.ofMillis(300));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(290),
                Duration.ofSeconds(5));
    }

    /**
     * At rest there is no writer thread: none before the first line, and the one that wrote a line ends once
     * nothing more came for the idle time; a later line starts another and is written all the same.
     */
    @Test
    void theWriterThreadRunsOnlyWhileThereIsSomethingToWrite() throws Exception {
        Stdout stdout = new Stdout(blocking.written, Stdout.CAPACITY, Duration.ofMillis(50));
        opened.add(stdout);
        assertThat(stdout.writing()).as("before the first line").isFalse();
        blocking.release.countDown();
        stdout.line("started");
        assertThat(stdout.awaitWritten(Await.DEADLINE)).isTrue();
        Await.until("the writer to end at rest", () -> !stdout.writing());
        stdout.line("stopping");
        assertThat(stdout.awaitWritten(Await.DEADLINE)).isTrue();
        assertThat(lines()).containsExactly("started", "stopping");
    }
}
