package ai.echo.defaultbackend;

import static ai.echo.defaultbackend.Wire.send;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AccessLogTest {

    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final Stdout out = new Stdout(bytes);
    private Stdout slow;
    private AccessLog log;
    private EmbeddedChannel channel;

    @AfterEach
    void close() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
        if (log != null) {
            log.close();
        }
        out.close();
        if (slow != null) {
            slow.close();
        }
    }

    private List<String> lines() {
        return bytes.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private static AccessLog.Entry entry(int status) {
        return new AccessLog.Entry(0, "127.0.0.1", "GET", "/", status, 145, 1_234_567, "curl", "", "");
    }

    @Test
    void theCeilingHoldsWhateverTheLoad() {
        log = new AccessLog(1.0, 10, 100, out, clock::get);
        int allowed = 0;
        for (int i = 0; i < 10_000; i++) {
            allowed += log.tryAcquire() ? 1 : 0;
        }
        assertThat(allowed).isEqualTo(10);
        assertThat(log.droppedByRateLimit()).isEqualTo(10_000 - 10);

        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(100)); // a tenth of a second: one more line
        allowed = 0;
        for (int i = 0; i < 1000; i++) {
            allowed += log.tryAcquire() ? 1 : 0;
        }
        assertThat(allowed).isEqualTo(1);

        clock.addAndGet(TimeUnit.SECONDS.toNanos(60)); // a quiet minute refills the burst, no more
        allowed = 0;
        for (int i = 0; i < 1000; i++) {
            allowed += log.tryAcquire() ? 1 : 0;
        }
        assertThat(allowed).isEqualTo(10);
    }

    @Test
    void theCeilingHoldsAcrossThreads() throws InterruptedException {
        log = new AccessLog(1.0, 50, 100, out, clock::get);
        AtomicLong allowed = new AtomicLong();
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 5000; i++) {
                    if (log.tryAcquire()) {
                        allowed.incrementAndGet();
                    }
                }
            });
            threads[t].start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(allowed.get()).isEqualTo(50);
        assertThat(log.droppedByRateLimit()).isEqualTo(20_000 - 50);
    }

    @Test
    void samplesAtTheRateAsked() {
        log = new AccessLog(0.25, 10, 100, out, clock::get);
        int sampled = 0;
        for (int i = 0; i < 40_000; i++) {
            sampled += log.sample() ? 1 : 0;
        }
        // Binomial(40000, 0.25): the standard deviation is about 87, so this range is over 11 of them wide.
        assertThat(sampled).isBetween(9_500, 10_500);
        assertThat(new AccessLog(0, 10, 1, out, clock::get).sample()).isFalse();
        assertThat(new AccessLog(1, 10, 1, out, clock::get).sample()).isTrue();
    }

    @Test
    void aLineIsOneEscapedJsonObject() {
        StringBuilder line = new StringBuilder();
        AccessLog.format(new AccessLog.Entry(1_795_690_563_197L, "::1", "GET", "/\"}\n{\"injected\":1\u001b[2J",
                503, 183, 2_598_000, "Mozilla \u00c3\u00a9\u00e2\u0080\u00a8 <x>", "id\\1", "503"), line);
        assertThat(line.toString()).isEqualTo("{\"time\":\"2026-11-26T10:56:03.197Z\",\"remote\":\"::1\","
                + "\"method\":\"GET\",\"path\":\"/\\\"}\\n{\\\"injected\\\":1\\u001b[2J\",\"status\":503,"
                + "\"bytes\":183,\"duration_ms\":2.598,\"user_agent\":\"Mozilla \\u00e9\\u2028 \\u003cx\\u003e\","
                + "\"request_id\":\"id\\\\1\",\"x_code\":\"503\"}\n");
        line.setLength(0);
        AccessLog.format(new AccessLog.Entry(0, "", "", "x".repeat(5000), 404, 0, 5_000, null, null, null), line);
        assertThat(line.toString()).contains("\"duration_ms\":0.005,", "\"user_agent\":\"\",")
                .contains("x".repeat(Escape.MAX_VALUE_CHARS) + "...\"").hasSizeLessThan(700);
        line.setLength(0);
        String atTheLimit = "y".repeat(Escape.MAX_VALUE_CHARS);
        AccessLog.format(new AccessLog.Entry(0, "", "", atTheLimit, 404, 0, 0, atTheLimit + "z", null, null), line);
        assertThat(line.toString()).contains("\"path\":\"" + atTheLimit + "\",", "\"user_agent\":\"" + atTheLimit + "...\",");
    }

    @ParameterizedTest(name = "{0} ns")
    @CsvSource({
            "0, 0.000", "999, 0.000", "5000, 0.005", "9000, 0.009", "10000, 0.010", "99000, 0.099", "100000, 0.100",
            "1010000, 1.010", "1100000, 1.100", "1999999, 1.999", "12345678000, 12345.678",
    })
    void durationsAreMillisecondsWithThreeDecimals(long nanos, String formatted) {
        StringBuilder line = new StringBuilder();
        AccessLog.format(new AccessLog.Entry(0, "", "GET", "/", 404, 0, nanos, null, null, null), line);
        assertThat(line.toString()).contains(",\"duration_ms\":" + formatted + ",");
    }

    @Test
    void theWriterThreadWritesWhatIsSubmitted() throws InterruptedException {
        log = new AccessLog(1.0, 1000, 100, out, clock::get);
        for (int i = 0; i < 25; i++) {
            log.submit(entry(400 + i));
        }
        Await.until("25 lines written", () -> lines().size() == 25);
        assertThat(log.written()).isEqualTo(25);
        assertThat(lines().get(24)).contains("\"status\":424,");
    }

    @Test
    void aFullQueueDropsAndCountsInsteadOfBlocking() throws InterruptedException {
        StuckOutput stdout = new StuckOutput();
        // Room for one chunk at a time: the log's thread waits for it as soon as stdout is stuck.
        slow = new Stdout(stdout, 1);
        log = new AccessLog(1.0, 1000, 4, slow, clock::get);
        log.submit(entry(500));
        // The writer is blocked.
        assertThat(stdout.stuck.await(Await.DEADLINE.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        long start = System.nanoTime();
        for (int i = 0; i < 1000; i++) {
            log.submit(entry(404));
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        // All but the queue's 4, and the one batch (256 at most) its thread may have taken before it had to wait.
        assertThat(log.droppedQueueFull()).isBetween(1000L - 4 - 256, 1000L - 4);
        stdout.release.countDown();
        Await.until("the lines kept written", () -> stdout.written.toString(StandardCharsets.UTF_8).lines().count()
                == 1001 - log.droppedQueueFull());
    }

    /**
     * A line counts as written once stdout took it: not while the write is blocked (a full pipe), and not at
     * all when it fails (stdout closed: EPIPE), where it counts as dropped for a write error.
     */
    @Test
    void linesCountAsWrittenOnlyOnceStdoutTookThem() throws Exception {
        StuckOutput stdout = new StuckOutput();
        slow = new Stdout(stdout);
        log = new AccessLog(1.0, 1000, 100, slow, clock::get);
        log.submit(entry(404));
        assertThat(stdout.stuck.await(Await.DEADLINE.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(log.written()).as("while the write is blocked").isZero();
        stdout.release.countDown();
        Await.until("the line written", () -> log.written() == 1);

        stdout.failing.set(true);
        for (int i = 0; i < 5; i++) {
            log.submit(entry(404));
        }
        Await.until("the failed lines counted", () -> log.droppedWriteError() == 5);
        assertThat(log.written()).isEqualTo(1);
    }

    /** The client's address as people write it: IPv6 compressed, as in 1.5's logs and everyone else's. */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "::1, ::1",
            "0:0:0:0:0:0:0:1, ::1",
            "2001:db8:0:0:0:0:0:1, 2001:db8::1",
            "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
            "fd00:0:0:0:0:0:a:0, fd00::a:0",
            "::ffff:10.0.0.1, 10.0.0.1",
            "127.0.0.1, 127.0.0.1",
    })
    void theRemoteAddressIsWrittenAsPeopleWriteIt(String address, String written) {
        assertThat(RoutingHandler.remoteAddress(new InetSocketAddress(address, 40000))).isEqualTo(written);
    }

    @Test
    void aRemoteAddressThatIsNotAnIpAddressIsWrittenAsItSaysItself() {
        assertThat(RoutingHandler.remoteAddress(InetSocketAddress.createUnresolved("example", 80)))
                .isEqualTo("example/<unresolved>:80");
        assertThat(RoutingHandler.remoteAddress(new EmbeddedChannel().remoteAddress())).isEqualTo("embedded");
    }

    /** The decoder hands request values on one char per byte; the log shows the UTF-8 text they spell. */
    @Test
    void requestBytesAreLoggedAsTheUtf8TextTheySpell() {
        StringBuilder line = new StringBuilder();
        // "/café/😀" in UTF-8, then a byte that is no UTF-8 (Latin-1 é), then a sequence cut short.
        AccessLog.format(new AccessLog.Entry(0, "", "GET", "/caf\u00c3\u00a9/\u00f0\u009f\u0098\u0080",
                404, 0, 0, "a\u00e9b", "\u00e2\u0080", null), line);
        assertThat(line.toString()).contains("\"path\":\"/caf\\u00e9/\\ud83d\\ude00\",",
                "\"user_agent\":\"a\\ufffdb\",", "\"request_id\":\"\\ufffd\",");
        // Cut at the limit, a character of two chars is not split: its high half alone is no text.
        line.setLength(0);
        String emoji = "\u00f0\u009f\u0098\u0080";
        AccessLog.format(new AccessLog.Entry(0, "", "GET", "p".repeat(Escape.MAX_VALUE_CHARS - 1) + emoji, 404, 0,
                0, null, null, null), line);
        assertThat(line.toString()).contains("\"path\":\"" + "p".repeat(Escape.MAX_VALUE_CHARS - 1) + "...\",");
    }

    @Test
    void thePipelineLogsSampledTrafficWithItsFields() throws InterruptedException {
        log = new AccessLog(1.0, 1000, 100, out, System::nanoTime);
        Features features = new Features(Metrics.Port.TRAFFIC, null, null, null, Variant.TEXT_HTML, false, log);
        BackendInitializer initializer = new BackendInitializer(BackendConfig.DEFAULTS, new Responses(),
                new ServerState(), new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE), Integer.MAX_VALUE,
                features);
        channel = new EmbeddedChannel();
        channel.pipeline().addLast(initializer);
        send(channel, "DELETE /a/b?c=\"d\" HTTP/1.1\r\nHost: x\r\nUser-Agent: bot\u00ff\"\r\n"
                + "X-Request-ID: r-1\r\nX-Code: 503\r\n\r\n");
        Wire.received(channel);
        Await.until("one line", () -> lines().size() == 1);
        assertThat(lines().get(0)).matches("\\{\"time\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\","
                + "\"remote\":\"embedded\",\"method\":\"DELETE\",\"path\":\"/a/b\\?c=\\\\\"d\\\\\"\",\"status\":404,"
                + "\"bytes\":145,\"duration_ms\":\\d+\\.\\d{3},\"user_agent\":\"bot\\\\ufffd\\\\\"\","
                + "\"request_id\":\"r-1\",\"x_code\":\"503\"}");
        Matcher duration = Pattern.compile("\"duration_ms\":(\\d+\\.\\d{3})").matcher(lines().get(0));
        assertThat(duration.find()).isTrue();
        assertThat(Double.parseDouble(duration.group(1))).as("this request's time, metrics off or on")
                .isLessThan(1000);
    }
}
