package ai.echo.defaultbackend;

import static ai.echo.defaultbackend.Wire.received;
import static ai.echo.defaultbackend.Wire.send;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** What /metrics says after known traffic: exact counts, 1.5's names and buckets, bounded labels. */
class MetricsTest {

    @TempDir
    Path dir;

    private final ServerState state = new ServerState();
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private ErrorPageStore store;
    private Metrics metrics;
    private BackendInitializer traffic;
    private BackendInitializer service;

    @BeforeEach
    void server() {
        store = new ErrorPageStore(dir, Duration.ofMinutes(10)).start();
        metrics = new Metrics(new Metrics.Sources(() -> traffic.openConnections(), () -> service.openConnections(),
                state::badRequests, state::timeouts, state::idleClosed, state::refusedConnections, null, store));
        DefaultChannelGroup group = new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE);
        traffic = new BackendInitializer(BackendConfig.DEFAULTS, new Responses(), state, group, Integer.MAX_VALUE,
                new Features(Metrics.Port.TRAFFIC, metrics, null, store, Variant.TEXT_HTML, false, null));
        service = new BackendInitializer(BackendConfig.DEFAULTS, new Responses(), state, group, Integer.MAX_VALUE,
                new Features(Metrics.Port.SERVICE, metrics, new MetricsEndpoint(metrics), null,
                        Variant.TEXT_HTML, false, null));
    }

    @AfterEach
    void releaseEverything() {
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
        store.close();
    }

    private EmbeddedChannel open(BackendInitializer initializer) {
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.pipeline().addLast(initializer);
        channels.add(channel);
        return channel;
    }

    /** A scrape through the service port's pipeline, as a scraper sees it. */
    private String scrape() {
        EmbeddedChannel channel = open(service);
        send(channel, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        String response = received(channel);
        assertThat(response).startsWith("HTTP/1.1 200 OK\r\n")
                .contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n");
        return response.substring(response.indexOf("\r\n\r\n") + 4);
    }

    private static double value(String scrape, String series) {
        Matcher matcher = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE)
                .matcher(scrape);
        assertThat(matcher.find()).as("series %s in%n%s", series, scrape).isTrue();
        return Double.parseDouble(matcher.group(1));
    }

    private static String traffic(String codeClass, String method) {
        return requests(codeClass, method, "traffic");
    }

    private static String requests(String codeClass, String method, String port) {
        return "defaultbackend_http_requests_total{code_class=\"" + codeClass + "\",method=\"" + method
                + "\",port=\"" + port + "\"}";
    }

    private static void repeat(EmbeddedChannel channel, int times, String request) {
        for (int i = 0; i < times; i++) {
            send(channel, request);
        }
        received(channel);
    }

    @Test
    void countsAreExactAfterKnownTraffic() {
        EmbeddedChannel channel = open(traffic);
        repeat(channel, 137, "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
        repeat(channel, 13, "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
        repeat(channel, 5, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        repeat(channel, 7, "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\nAccept: application/json\r\n\r\n");
        repeat(channel, 3, "HEAD / HTTP/1.1\r\nHost: x\r\nX-Code: 404\r\n\r\n");
        for (int i = 0; i < 11; i++) {
            send(open(traffic), "GET / HTTP/1.0\r\n\r\n");
        }
        channels.forEach(Wire::received);
        String scrape = scrape();

        // 1.5's names: catch-all 404s only, by protocol.
        assertThat(value(scrape, "default_http_backend_http_request_count_total{proto=\"1.1\"}")).isEqualTo(150);
        assertThat(value(scrape, "default_http_backend_http_request_count_total{proto=\"1.0\"}")).isEqualTo(11);
        assertThat(value(scrape, "default_http_backend_http_request_duration_milliseconds_count{proto=\"1.1\"}"))
                .isEqualTo(150);
        assertThat(value(scrape,
                "default_http_backend_http_request_duration_milliseconds_bucket{proto=\"1.1\",le=\"+Inf\"}"))
                .isEqualTo(150);
        // The new ones: every answer.
        assertThat(value(scrape, traffic("4xx", "GET")))
                .isEqualTo(137 + 11);
        assertThat(value(scrape, traffic("4xx", "POST")))
                .isEqualTo(13);
        assertThat(value(scrape, traffic("4xx", "HEAD")))
                .isEqualTo(3);
        assertThat(value(scrape, traffic("2xx", "GET")))
                .isEqualTo(5);
        assertThat(value(scrape, traffic("5xx", "GET")))
                .isEqualTo(7);
        assertThat(value(scrape, "defaultbackend_custom_error_responses_total{code=\"503\",format=\"json\"}"))
                .isEqualTo(7);
        assertThat(value(scrape, "defaultbackend_custom_error_responses_total{code=\"404\",format=\"html\"}"))
                .isEqualTo(3);
        // The scrape itself is counted on the service port once answered: not yet in its own body.
        assertThat(scrape).doesNotContain("method=\"GET\",port=\"service\"}");
        assertThat(value(scrape(), "defaultbackend_http_requests_total{code_class=\"2xx\",method=\"GET\","
                + "port=\"service\"}")).isEqualTo(1);
    }

    /**
     * Each event loop counts in a tally of its own, and a scrape sums them: connections on four threads at
     * once, each counting as it goes, add up exactly; and a connection answered on a thread other than the
     * one that built its pipeline (which an event loop never does) is still counted once.
     */
    @Test
    void requestsCountedOnSeveralThreadsAddUp() throws Exception {
        int threads = 4;
        int perThread = 250;
        // Netty's thread factory, as event loops have: a thread's cached responses are released as it ends.
        ExecutorService loops = Executors.newFixedThreadPool(threads, new DefaultThreadFactory("counting"));
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(loops.submit(() -> {
                    EmbeddedChannel channel = new EmbeddedChannel(traffic);
                    try {
                        for (int i = 0; i < perThread; i++) {
                            send(channel, "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
                            assertThat(received(channel)).startsWith("HTTP/1.1 404 Not Found\r\n");
                        }
                    } finally {
                        channel.finishAndReleaseAll();
                    }
                }));
            }
            for (Future<?> each : done) {
                each.get(30, TimeUnit.SECONDS);
            }
            EmbeddedChannel elsewhere = loops.submit(() -> new EmbeddedChannel(traffic)).get(30, TimeUnit.SECONDS);
            channels.add(elsewhere);
            send(elsewhere, "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(received(elsewhere)).startsWith("HTTP/1.1 404 Not Found\r\n");
        } finally {
            loops.shutdown();
            assertThat(loops.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
        String scrape = scrape();
        assertThat(value(scrape, traffic("4xx", "GET"))).isEqualTo(threads * perThread + 1);
        assertThat(value(scrape, "default_http_backend_http_request_count_total{proto=\"1.1\"}"))
                .isEqualTo(threads * perThread + 1);
        assertThat(value(scrape, "default_http_backend_http_request_duration_milliseconds_count{proto=\"1.1\"}"))
                .isEqualTo(threads * perThread + 1);
    }

    /**
     * 1.5's histogram: each request in the first bucket whose bound (in milliseconds, inclusive) it does not
     * exceed, the buckets cumulated as Prometheus reads them, and the sum in milliseconds. The time runs
     * from the head to the answer, so a body held back on a mock ticker sets it.
     */
    @Test
    void theDurationHistogramPutsEachRequestInItsBucket() {
        MockTicker ticker = Ticker.newMockTicker();
        EmbeddedChannel channel = EmbeddedChannel.builder().ticker(ticker).handlers(traffic).build();
        channels.add(channel);
        long[] nanos = {0, 1_000, 1_001, 3_000, 2_500_000, 3_000_000, 10_000_000, 20_000_000};
        for (long each : nanos) {
            answerTaking(channel, ticker, each);
        }
        String scrape = scrape();
        String bucket = "default_http_backend_http_request_duration_milliseconds_bucket{proto=\"1.1\",le=\"%s\"}";
        assertThat(value(scrape, String.format(bucket, "0.001"))).isEqualTo(2);
        assertThat(value(scrape, String.format(bucket, "0.003"))).isEqualTo(4);
        assertThat(value(scrape, String.format(bucket, "1"))).isEqualTo(4);
        assertThat(value(scrape, String.format(bucket, "2.5"))).isEqualTo(5);
        assertThat(value(scrape, String.format(bucket, "5"))).isEqualTo(6);
        assertThat(value(scrape, String.format(bucket, "10"))).isEqualTo(7);
        assertThat(value(scrape, String.format(bucket, "+Inf"))).isEqualTo(8);
        assertThat(value(scrape, "default_http_backend_http_request_duration_milliseconds_sum{proto=\"1.1\"}"))
                .isCloseTo(Arrays.stream(nanos).sum() / 1e6, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(value(scrape, "default_http_backend_http_request_count_total{proto=\"1.1\"}")).isEqualTo(8);
    }

    /**
     * 1.5's two families in the text format 0.0.4, exactly: the {@code le} values as 1.5's Go client wrote
     * them ({@code "1"}, {@code "10"}: Go's shortest {@code %g}), since Prometheus stores a label value as it
     * comes and a dashboard or alert that selects {@code le="10"} must still find its series; the rest as the
     * Java client writes it, and the families after them unchanged. In OpenMetrics, whose canonical form for
     * {@code le} is {@code "1.0"}, as the Java client (and Go's, in that format) writes it.
     */
    @Test
    void the15FamiliesAreWrittenAs15sGoClientWroteThem() {
        MockTicker ticker = Ticker.newMockTicker();
        EmbeddedChannel channel = EmbeddedChannel.builder().ticker(ticker).handlers(traffic).build();
        channels.add(channel);
        for (long nanos : new long[] {2_000_000, 7_000_000}) {
            answerTaking(channel, ticker, nanos);
        }
        String scrape = scrape();
        String histogram = "default_http_backend_http_request_duration_milliseconds";
        StringBuilder expected = new StringBuilder()
                .append("# HELP default_http_backend_http_request_count_total Counter of HTTP requests made.\n")
                .append("# TYPE default_http_backend_http_request_count_total counter\n")
                .append("default_http_backend_http_request_count_total{proto=\"1.0\"} 0.0\n")
                .append("default_http_backend_http_request_count_total{proto=\"1.1\"} 2.0\n")
                .append("# HELP " + histogram + " Histogram of the time (in milliseconds) each request took.\n")
                .append("# TYPE " + histogram + " histogram\n");
        String[] bounds = {"0.001", "0.003", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
            "10", "+Inf"};
        for (String proto : new String[] {"1.0", "1.1"}) {
            for (int i = 0; i < bounds.length; i++) {
                int count = proto.equals("1.0") ? 0 : i < 10 ? 0 : i < 12 ? 1 : 2;
                expected.append(histogram + "_bucket{proto=\"" + proto + "\",le=\"" + bounds[i] + "\"} " + count
                        + "\n");
            }
            expected.append(histogram + "_count{proto=\"" + proto + "\"} " + (proto.equals("1.0") ? 0 : 2) + "\n")
                    .append(histogram + "_sum{proto=\"" + proto + "\"} " + (proto.equals("1.0") ? "0.0" : "9.0")
                            + "\n");
        }
        assertThat(scrape).startsWith(expected + "# HELP defaultbackend_build_info ");

        EmbeddedChannel openMetrics = open(service);
        send(openMetrics, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text\r\n\r\n");
        String canonical = received(openMetrics);
        assertThat(Pattern.compile("^" + histogram + "_bucket\\{proto=\"1\\.1\",le=\"([^\"]+)\"}", Pattern.MULTILINE)
                .matcher(canonical).results().map(result -> result.group(1)))
                .containsExactly("0.001", "0.003", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0",
                        "2.5", "5.0", "10.0", "+Inf");
    }

    @Test
    void aRequestPipelinedBehindAConnectionCloseIsNeitherAnsweredNorCounted() {
        EmbeddedChannel channel = open(traffic);
        send(channel, "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(received(channel)).startsWith("HTTP/1.1 404 Not Found\r\n").doesNotContain("200 OK");
        String scrape = scrape();
        assertThat(value(scrape, traffic("4xx", "GET"))).isEqualTo(1);
        assertThat(scrape).doesNotContain(traffic("2xx", "GET"));
    }

    /** Each labelled series has a slot of its own in the recording arrays: one request each, one count each. */
    @Test
    void everyPortStatusClassMethodAndErrorPageIsCountedApart() {
        EmbeddedChannel channel = open(traffic);
        send(channel, "FOO /x HTTP/1.1\r\nHost: x\r\n\r\n");
        send(channel, "HEAD / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\n\r\n");
        send(channel, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        send(channel, "DELETE / HTTP/1.1\r\nHost: x\r\nX-Code: 599\r\nAccept: text/plain\r\n\r\n");
        send(channel, "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 400\r\nAccept: application/xml\r\n\r\n");
        received(channel);
        EmbeddedChannel onService = open(service);
        send(onService, "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(received(onService)).startsWith("HTTP/1.1 404 Not Found\r\n");
        String scrape = scrape();
        assertThat(value(scrape, traffic("4xx", "OTHER"))).isEqualTo(1);
        assertThat(value(scrape, traffic("5xx", "HEAD"))).isEqualTo(1);
        assertThat(value(scrape, traffic("2xx", "HEAD"))).isEqualTo(1);
        assertThat(value(scrape, traffic("5xx", "DELETE"))).isEqualTo(1);
        assertThat(value(scrape, traffic("4xx", "GET"))).isEqualTo(1);
        assertThat(value(scrape, "defaultbackend_http_requests_total{code_class=\"4xx\",method=\"GET\","
                + "port=\"service\"}")).isEqualTo(1);
        assertThat(value(scrape, "defaultbackend_custom_error_responses_total{code=\"503\",format=\"html\"}"))
                .isEqualTo(1);
        assertThat(value(scrape, "defaultbackend_custom_error_responses_total{code=\"599\",format=\"text\"}"))
                .isEqualTo(1);
        assertThat(value(scrape, "defaultbackend_custom_error_responses_total{code=\"400\",format=\"xml\"}"))
                .isEqualTo(1);
        assertThat(scrape.lines().filter(line -> line.startsWith("defaultbackend_custom_error_responses_total{")))
                .hasSize(3);
    }

    /**
     * Requests refused as malformed are answered, and counted as answered like any other: by their method
     * when their head was read (no Host, two, a version other than 1.x, a bad target, a broken chunk, an
     * unknown expectation), as {@code OTHER} when it could not be (an unparseable request line, a line or head
     * over the limits, a Host that is no host); and never under 1.5's names, which count its catch-all 404s
     * only.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            no Host             | 400 | GET    | GET / HTTP/1.1\\r\\n\\r\\n
            two Hosts           | 400 | DELETE | DELETE / HTTP/1.1\\r\\nHost: a\\r\\nHost: b\\r\\n\\r\\n
            HTTP/2.0            | 400 | HEAD   | HEAD / HTTP/2.0\\r\\nHost: a\\r\\n\\r\\n
            bad target          | 400 | PUT    | PUT /a<DEL>b HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n
            broken chunk        | 400 | POST   | POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nzz\\r\\n
            unparseable line    | 400 | OTHER  | GET\\r\\n\\r\\n
            unknown method      | 400 | OTHER  | BREW / HTTP/1.1\\r\\n\\r\\n
            too-long URI        | 414 | OTHER  | GET /<long> HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n
            too-large headers   | 431 | OTHER  | GET / HTTP/1.1\\r\\nHost: a\\r\\nX: <long>\\r\\n\\r\\n
            malformed Host      | 400 | OTHER  | GET / HTTP/1.1\\r\\nHost: a b\\r\\n\\r\\n
            unknown Expect      | 417 | PUT    | PUT / HTTP/1.1\\r\\nHost: a\\r\\nExpect: x\\r\\nContent-Length: 3\\r\\n\\r\\n
            """)
    void requestsRefusedAsMalformedAreCountedAsAnswered(String what, int status, String method, String request) {
        EmbeddedChannel channel = open(traffic);
        send(channel, request.replace("\\r\\n", "\r\n").replace("<DEL>", "\u007f")
                .replace("<long>", "a".repeat(Math.max(BackendConfig.DEFAULTS.maxRequestLineBytes(),
                        BackendConfig.DEFAULTS.maxHeaderBytes()))));
        assertThat(received(channel)).startsWith("HTTP/1.1 " + status + " ");
        String scrape = scrape();
        assertThat(value(scrape, traffic("4xx", method))).isEqualTo(1);
        assertThat(scrape.lines().filter(line -> line.startsWith("defaultbackend_http_requests_total{")
                && line.contains("port=\"traffic\"")))
                .as("one request, one count").hasSize(1);
        assertThat(value(scrape, "defaultbackend_connections_closed_total{reason=\"bad_request\"}")).isEqualTo(1);
        assertThat(value(scrape, "default_http_backend_http_request_count_total{proto=\"1.1\"}")).isZero();
        assertThat(value(scrape, "default_http_backend_http_request_count_total{proto=\"1.0\"}")).isZero();
    }

    @Test
    void connectionsClosedAtTheLimitOrAtATimeoutAreCounted() {
        BackendConfig d = BackendConfig.DEFAULTS;
        BackendConfig shortHead = new BackendConfig(d.port(), d.svcPort(), d.shutdownTimeout(), d.bindAddress(),
                Duration.ofSeconds(3), d.readTimeout(), d.writeTimeout(), d.idleTimeout(), d.maxRequestLineBytes(),
                d.maxHeaderBytes(), d.maxConnections(), d.transport(), d.ioThreads());
        BackendInitializer limited = new BackendInitializer(shortHead, new Responses(), state,
                new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE), 2,
                new Features(Metrics.Port.TRAFFIC, metrics, null, store, Variant.TEXT_HTML, false, null));
        EmbeddedChannel first = open(limited);
        EmbeddedChannel second = open(limited);
        EmbeddedChannel third = open(limited);
        assertThat(List.of(first.isOpen(), second.isOpen(), third.isOpen())).containsExactly(true, true, false);
        first.advanceTimeBy(3100, TimeUnit.MILLISECONDS);
        first.runScheduledPendingTasks();
        assertThat(first.isOpen()).isFalse();
        send(second, "GET / HTTP/1.1\r\n\r\n"); // no Host: a 400
        assertThat(received(second)).startsWith("HTTP/1.1 400 Bad Request\r\n");
        String scrape = scrape();
        assertThat(value(scrape, "defaultbackend_connections_closed_total{reason=\"limit\"}")).isEqualTo(1);
        assertThat(value(scrape, "defaultbackend_connections_closed_total{reason=\"timeout\"}")).isEqualTo(1);
        assertThat(value(scrape, "defaultbackend_connections_closed_total{reason=\"bad_request\"}")).isEqualTo(1);
    }

    /**
     * A keep-alive connection that ends idle after its answer has had the normal end, not a timeout: the two
     * are counted apart, so an alert on timeouts (clients too slow to send a request) is not set off by them.
     */
    @Test
    void aKeepAliveConnectionClosedIdleIsCountedAsIdleNotAsATimeout() {
        BackendConfig d = BackendConfig.DEFAULTS;
        BackendConfig shortIdle = new BackendConfig(d.port(), d.svcPort(), d.shutdownTimeout(), d.bindAddress(),
                d.readHeaderTimeout(), d.readTimeout(), d.writeTimeout(), Duration.ofSeconds(2),
                d.maxRequestLineBytes(), d.maxHeaderBytes(), d.maxConnections(), d.transport(), d.ioThreads());
        BackendInitializer initializer = new BackendInitializer(shortIdle, new Responses(), state,
                new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE), Integer.MAX_VALUE,
                new Features(Metrics.Port.TRAFFIC, metrics, null, store, Variant.TEXT_HTML, false, null));
        EmbeddedChannel idle = open(initializer);
        send(idle, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(idle)).startsWith("HTTP/1.1 200 OK\r\n");
        EmbeddedChannel slow = open(initializer);
        send(slow, "GET /healthz HTTP/1.1\r\nHost: a\r\n"); // the head never ends
        for (EmbeddedChannel channel : List.of(idle, slow)) {
            channel.advanceTimeBy(10_100, TimeUnit.MILLISECONDS);
            channel.runScheduledPendingTasks();
            assertThat(channel.isOpen()).isFalse();
        }
        String scrape = scrape();
        assertThat(value(scrape, "defaultbackend_connections_closed_total{reason=\"idle\"}")).isEqualTo(1);
        assertThat(value(scrape, "defaultbackend_connections_closed_total{reason=\"timeout\"}")).isEqualTo(1);
    }

    @Test
    void errorPageFilesAndTheirProblemsAreCounted(@TempDir Path pages) throws IOException {
        Files.writeString(pages.resolve("503.html"), "<p>down</p>");
        Files.writeString(pages.resolve("404.json"), "{\"code\": {{code}}}");
        Files.write(pages.resolve("500.txt"), new byte[] {(byte) 0xff, (byte) 0xfe, 'x'}); // not UTF-8
        Files.write(pages.resolve("502.xml"), new byte[] {(byte) 0xc3, '<'});
        try (ErrorPageStore own = new ErrorPageStore(pages, Duration.ofMinutes(10)).start()) {
            Metrics counted = new Metrics(new Metrics.Sources(() -> 0, () -> 0, state::badRequests, state::timeouts,
                    state::idleClosed, state::refusedConnections, null, own));
            String scrape = new String(new MetricsEndpoint(counted).scrape(null, null).body(), StandardCharsets.UTF_8);
            assertThat(value(scrape, "defaultbackend_error_pages_files")).isEqualTo(2);
            assertThat(value(scrape, "defaultbackend_error_pages_load_errors_total")).isEqualTo(2);
            assertThat(value(scrape, "defaultbackend_error_pages_reloads_total")).isEqualTo(1);
        }
    }

    /**
     * The error-page series follow the directory as the store rereads it. Each change is one rename into the
     * directory, so one change event and one reread: the counts are exact.
     */
    @Test
    void errorPageSeriesFollowTheDirectory(@TempDir Path pages, @TempDir Path staging) throws Exception {
        Files.writeString(pages.resolve("503.html"), "<p>down</p>");
        Files.writeString(pages.resolve("404.json"), "{\"code\": {{code}}}");
        Files.writeString(pages.resolve("4xx.txt"), "client error");
        try (ErrorPageStore own = new ErrorPageStore(pages, Duration.ofMinutes(10)).start()) {
            Metrics counted = new Metrics(new Metrics.Sources(() -> 0, () -> 0, state::badRequests, state::timeouts,
                    state::idleClosed, state::refusedConnections, null, own));
            MetricsEndpoint endpoint = new MetricsEndpoint(counted);
            Supplier<String> scrape =
                    () -> new String(endpoint.scrape(null, null).body(), StandardCharsets.UTF_8);
            String files = "defaultbackend_error_pages_files";
            String errors = "defaultbackend_error_pages_load_errors_total";
            String reloads = "defaultbackend_error_pages_reloads_total";

            String atStart = scrape.get();
            assertThat(value(atStart, files)).isEqualTo(3);
            assertThat(value(atStart, errors)).isZero();
            assertThat(value(atStart, reloads)).isEqualTo(1);

            // A file that cannot be loaded: counted as an error, not as a file in use.
            Files.write(staging.resolve("500.txt"), new byte[] {(byte) 0xc3, (byte) 0x28}); // not UTF-8
            Files.move(staging.resolve("500.txt"), pages.resolve("500.txt"), StandardCopyOption.ATOMIC_MOVE);
            Await.until("the broken file read", () -> value(scrape.get(), reloads) == 2);
            String broken = scrape.get();
            assertThat(value(broken, files)).isEqualTo(3);
            assertThat(value(broken, errors)).isEqualTo(1);

            // Fixed: one more file in use; the error count is a total and stays.
            Files.writeString(staging.resolve("500.txt"), "fixed");
            Files.move(staging.resolve("500.txt"), pages.resolve("500.txt"), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            Await.until("the fixed file read", () -> value(scrape.get(), reloads) == 3);
            String fixed = scrape.get();
            assertThat(value(fixed, files)).isEqualTo(4);
            assertThat(value(fixed, errors)).isEqualTo(1);

            // Files removed: the gauge goes down (one reread or two, as the events fall).
            Files.delete(pages.resolve("503.html"));
            Files.delete(pages.resolve("4xx.txt"));
            Await.until("the removals read", () -> value(scrape.get(), files) == 2);
            String removed = scrape.get();
            assertThat(value(removed, reloads)).isGreaterThanOrEqualTo(4).isEqualTo(own.reloads());
            assertThat(value(removed, errors)).isEqualTo(1);
        }
    }

    /**
     * A scrape that throws (here a source the registry reads at scrape time) answers 500 with a short body
     * and logs one line naming the exception; the connection stays usable and the next scrape works.
     */
    @Test
    void aScrapeThatThrowsAnswers500AndLogsOneLine() {
        AtomicBoolean failing = new AtomicBoolean(true);
        Metrics broken = new Metrics(new Metrics.Sources(() -> {
            if (failing.get()) {
                throw new IllegalStateException("no connection count");
            }
            return 0;
        }, () -> 0, state::badRequests, state::timeouts, state::idleClosed, state::refusedConnections, null, null));
        BackendInitializer brokenService = new BackendInitializer(BackendConfig.DEFAULTS, new Responses(), state,
                new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE), Integer.MAX_VALUE,
                new Features(Metrics.Port.SERVICE, broken, new MetricsEndpoint(broken), null, Variant.TEXT_HTML,
                        false, null));
        EmbeddedChannel channel = open(brokenService);

        List<String> printed = printedBy(() -> send(channel, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));

        assertThat(received(channel)).isEqualTo("HTTP/1.1 500 Internal Server Error\r\nDate: <date>\r\n"
                + "Content-Length: 21\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nmetrics scrape failed");
        assertThat(printed.stream().filter(line -> line.contains("metrics scrape failed")))
                .singleElement().asString()
                .contains("java.lang.IllegalStateException: no connection count");
        assertThat(channel.isOpen()).isTrue();

        failing.set(false);
        send(channel, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        String next = received(channel);
        assertThat(next).startsWith("HTTP/1.1 200 OK\r\n")
                .contains("\ndefaultbackend_open_connections{port=\"traffic\"} 0.0\n");
        // The failed scrape was counted as what it answered: a 5xx, not a 2xx.
        String body = next.substring(next.indexOf("\r\n\r\n") + 4);
        assertThat(value(body, requests("5xx", "GET", "service"))).isEqualTo(1);
        assertThat(body).doesNotContain(requests("2xx", "GET", "service"));
    }

    /** What the action printed on standard output, where the server logs (slf4j-simple reads System.out). */
    private static List<String> printedBy(Runnable action) {
        PrintStream original = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setOut(original);
        }
        return bytes.toString(StandardCharsets.UTF_8).lines().collect(Collectors.toList());
    }

    @Test
    void theLegacyHistogramHas15sBucketsInMilliseconds() {
        repeat(open(traffic), 3, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        String scrape = scrape();
        List<String> bounds = Pattern.compile(
                        "^default_http_backend_http_request_duration_milliseconds_bucket\\{proto=\"1\\.1\",le=\"([^\"]+)\"}",
                        Pattern.MULTILINE)
                .matcher(scrape).results().map(result -> result.group(1)).collect(Collectors.toList());
        assertThat(bounds).containsExactly("0.001", "0.003", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
                "1", "2.5", "5", "10", "+Inf");
        assertThat(scrape).contains("# TYPE default_http_backend_http_request_duration_milliseconds histogram\n",
                "# TYPE default_http_backend_http_request_count_total counter\n");
        // Milliseconds, not seconds: three EmbeddedChannel answers take well under a second in total, and
        // more than zero.
        double sum = value(scrape, "default_http_backend_http_request_duration_milliseconds_sum{proto=\"1.1\"}");
        assertThat(sum).isPositive().isLessThan(1000);
    }

    @Test
    void labelsStayBoundedWhateverMethodsClientsSend() {
        Random random = new Random(42);
        EmbeddedChannel channel = open(traffic);
        String[] known = Arrays.stream(Metrics.KNOWN_METHODS).map(m -> m.name()).toArray(String[]::new);
        int requests = 600;
        for (int i = 0; i < requests; i++) {
            String method = random.nextInt(3) == 0 ? known[random.nextInt(known.length)]
                    : "M" + Long.toString(random.nextLong() & Long.MAX_VALUE, 36).toUpperCase();
            String code = random.nextInt(4) == 0 ? "X-Code: " + (400 + random.nextInt(200)) + "\r\n" : "";
            send(channel, method + " /" + i + " HTTP/1.1\r\nHost: x\r\n" + code + "\r\n");
        }
        received(channel);
        String scrape = scrape();

        Set<String> methods = new HashSet<>();
        double total = 0;
        Matcher series = Pattern.compile("^defaultbackend_http_requests_total\\{code_class=\"(\\dxx)\",method=\"([^\"]*)\","
                + "port=\"traffic\"} (\\S+)$", Pattern.MULTILINE).matcher(scrape);
        while (series.find()) {
            methods.add(series.group(2));
            total += Double.parseDouble(series.group(3));
        }
        Set<String> allowed = new HashSet<>(Arrays.asList(known));
        allowed.add("OTHER");
        assertThat(methods).isSubsetOf(allowed).contains("OTHER");
        assertThat(total).isEqualTo(requests);
        // Custom-error labels: codes 400-599 and four formats at most, whatever was sent.
        assertThat(Pattern.compile("^defaultbackend_custom_error_responses_total\\{code=\"([45]\\d\\d)\","
                + "format=\"(html|json|xml|text)\"}", Pattern.MULTILINE).matcher(scrape).results().count())
                .isEqualTo(scrape.lines().filter(l -> l.startsWith("defaultbackend_custom_error_responses_total")).count());
    }

    @Test
    void connectionCountsComeFromTheServer() {
        EmbeddedChannel open = open(traffic);
        send(open(traffic), "GET / HTTP/1.1\r\n\r\n"); // no Host: 400 and closed
        String scrape = scrape();
        assertThat(value(scrape, "defaultbackend_connections_closed_total{reason=\"bad_request\"}")).isEqualTo(1);
        assertThat(value(scrape, "defaultbackend_connections_closed_total{reason=\"timeout\"}")).isZero();
        assertThat(value(scrape, "defaultbackend_open_connections{port=\"traffic\"}")).isEqualTo(1);
        assertThat(value(scrape, "defaultbackend_open_connections{port=\"service\"}")).isEqualTo(1);
        assertThat(open.isOpen()).isTrue();
    }

    @Test
    void processAndJvmMetricsAreThere() {
        assertThat(metrics.jvmMetricsSetUp()).as("set up at start-up, before anyone scraped").isFalse();
        String scrape = scrape();
        assertThat(metrics.jvmMetricsSetUp()).isTrue();
        assertThat(scrape).contains("\nprocess_cpu_seconds_total ", "\nprocess_start_time_seconds ",
                "\nprocess_open_fds ", "\njvm_memory_used_bytes{area=\"heap\"} ", "\njvm_threads_current ",
                "jvm_gc_collection_seconds_count{", "\ndefaultbackend_build_info{version=\"");
    }

    @Test
    void metricsAreOnlyOnTheServicePort() {
        EmbeddedChannel channel = open(traffic);
        send(channel, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(received(channel)).isEqualTo(Wire.NOT_FOUND_15);
    }

    /** On the service port too the path is RFC 3986's: in {@code http://a?/metrics} it is empty, not a scrape. */
    @ParameterizedTest
    @ValueSource(strings = {"http://a?/metrics", "http://a#/metrics", "http://a?x=/metrics"})
    void theQueryOfAnAbsoluteTargetIsNoScrape(String target) {
        EmbeddedChannel channel = open(service);
        send(channel, "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(received(channel)).isEqualTo(Wire.NOT_FOUND_15);
        send(channel, "GET http://a/metrics?x=/healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(received(channel)).startsWith("HTTP/1.1 200 OK\r\n");
    }

    @Test
    void openMetricsAndGzipByRequest() throws IOException {
        EmbeddedChannel channel = open(service);
        send(channel, "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text;version=1.0.0,"
                + "text/plain;q=0\r\nAccept-Encoding: gzip, deflate\r\n\r\n");
        byte[] response = Wire.receivedBytes(channel);
        String text = new String(response, StandardCharsets.ISO_8859_1);
        int bodyStart = text.indexOf("\r\n\r\n") + 4;
        String head = text.substring(0, bodyStart);
        assertThat(head).startsWith("HTTP/1.1 200 OK\r\n")
                .contains("\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n",
                        "\r\nContent-Encoding: gzip\r\n",
                        "\r\nContent-Length: " + (response.length - bodyStart) + "\r\n");
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(response, bodyStart,
                response.length - bodyStart))) {
            String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(body).contains("# TYPE default_http_backend_http_request_count counter\n").endsWith("# EOF\n");
        }

        send(channel, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(received(channel)).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\n");
    }

    /** A request whose body comes {@code nanos} after its head, on the channel's moved clock: answered 404. */
    private static void answerTaking(EmbeddedChannel channel, MockTicker ticker, long nanos) {
        send(channel, "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n");
        ticker.advance(nanos, TimeUnit.NANOSECONDS);
        send(channel, "abc");
        assertThat(received(channel)).startsWith("HTTP/1.1 404 Not Found\r\n");
    }
}
