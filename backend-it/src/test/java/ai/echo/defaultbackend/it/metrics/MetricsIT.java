package ai.echo.defaultbackend.it.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import ai.echo.defaultbackend.it.RawConnection;
import ai.echo.defaultbackend.it.ServerProcess;
import ai.echo.defaultbackend.it.errorpages.Raw;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** /metrics of the packaged jar over real sockets: only on the service port, exact counts, bounded labels. */
class MetricsIT {

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private ServerProcess server;

    @BeforeEach
    void start() throws Exception {
        server = ServerProcess.start();
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.close();
    }

    private String scrape() throws IOException, InterruptedException {
        HttpResponse<String> response = CLIENT.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.svcPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type"))
                .hasValue("text/plain; version=0.0.4; charset=utf-8");
        return response.body();
    }

    private static double value(String scrape, String series) {
        Matcher matcher = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(scrape);
        assertThat(matcher.find()).as("series %s in%n%s", series, scrape).isTrue();
        return Double.parseDouble(matcher.group(1));
    }

    @Test
    void metricsAreNeverOnTheTrafficPort() throws Exception {
        for (String path : List.of("/metrics", "/metrics?format=prometheus", "http://x/metrics")) {
            assertThat(Raw.exchange(server.port(), "GET " + path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
                    .isEqualTo(Raw.NOT_FOUND_15.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
        }
        assertThat(Raw.exchange(server.svcPort(), "GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
                .startsWith("HTTP/1.1 200 OK\r\n").contains("\ndefault_http_backend_http_request_count_total{");
        assertThat(Raw.exchange(server.svcPort(), "GET /other HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
                .isEqualTo(Raw.NOT_FOUND_15.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
    }

    @Test
    void metricsCanBeTurnedOff() throws Exception {
        try (ServerProcess off = ServerProcess.start("--metrics=false")) {
            assertThat(Raw.exchange(off.svcPort(), "GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
                    .isEqualTo(Raw.NOT_FOUND_15.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
            assertThat(Raw.exchange(off.svcPort(), "GET /healthz HTTP/1.0\r\n\r\n")).endsWith("\r\n\r\nok");
        }
    }

    @Test
    void countsAreExactAfterConcurrentLoad() throws Exception {
        int threads = 4;
        int perThread = 250;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                // One keep-alive connection per thread, each request written once: a client library may send
                // a GET again after a failure it sees on a pooled connection, and the JDK's did so once in a
                // CI run (1001 counted for 1000 answered), which made the count wrong on the client's side.
                results.add(pool.submit(() -> {
                    int notFound = 0;
                    try (RawConnection connection = RawConnection.open(server.port())) {
                        for (int i = 0; i < perThread; i++) {
                            connection.send("GET /load/" + i + " HTTP/1.1\r\nHost: a\r\n\r\n");
                            notFound += connection.readResponse(false).startsWith("HTTP/1.1 404 ") ? 1 : 0;
                        }
                    }
                    return notFound;
                }));
            }
            int answered = 0;
            for (Future<Integer> result : results) {
                answered += result.get();
            }
            assertThat(answered).isEqualTo(threads * perThread);
        } finally {
            pool.shutdownNow();
        }
        try (RawConnection connection = RawConnection.open(server.port())) {
            for (int i = 0; i < 9; i++) {
                assertThat(connection.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(false))
                        .startsWith("HTTP/1.1 200 OK\r\n");
            }
        }
        String scrape = scrape();
        assertThat(value(scrape, "default_http_backend_http_request_count_total{proto=\"1.1\"}"))
                .as("scrape:%n%s%nserver stderr:%n%s", scrape, server.stderr())
                .isEqualTo(threads * perThread);
        assertThat(value(scrape, "default_http_backend_http_request_duration_milliseconds_count{proto=\"1.1\"}"))
                .isEqualTo(threads * perThread);
        assertThat(value(scrape,
                "defaultbackend_http_requests_total{code_class=\"4xx\",method=\"GET\",port=\"traffic\"}"))
                .isEqualTo(threads * perThread);
        assertThat(value(scrape,
                "defaultbackend_http_requests_total{code_class=\"2xx\",method=\"GET\",port=\"traffic\"}"))
                .isEqualTo(9);
    }

    @Test
    void labelsStayBoundedUnderRandomMethodsAndCodes() throws Exception {
        Random random = new Random(7);
        int requests = 300;
        for (int i = 0; i < requests; i++) {
            String method = "X" + Integer.toString(random.nextInt(1 << 30), 36).toUpperCase();
            String code = "X-Code: " + (100 + random.nextInt(900)) + "\r\n";
            assertThat(Raw.exchange(server.port(), method + " /" + i + " HTTP/1.1\r\nHost: a\r\n" + code
                    + "Connection: close\r\n\r\n")).startsWith("HTTP/1.1 ");
        }
        String scrape = scrape();
        Set<String> methods = new HashSet<>();
        Set<String> codes = new HashSet<>();
        double total = 0;
        Matcher series = Pattern.compile("^defaultbackend_http_requests_total\\{code_class=\"\\dxx\",method=\"([^\"]*)\","
                + "port=\"traffic\"} (\\S+)$", Pattern.MULTILINE).matcher(scrape);
        while (series.find()) {
            methods.add(series.group(1));
            total += Double.parseDouble(series.group(2));
        }
        Matcher custom = Pattern.compile("^defaultbackend_custom_error_responses_total\\{code=\"([^\"]*)\"",
                Pattern.MULTILINE).matcher(scrape);
        while (custom.find()) {
            codes.add(custom.group(1));
        }
        assertThat(methods).containsExactly("OTHER");
        assertThat(total).isEqualTo(requests);
        assertThat(codes).isNotEmpty().allMatch(code -> code.matches("[45]\\d\\d"));
        assertThat(scrape).doesNotContain("method=\"X");
    }

    /** Answers 400, 414 and 431 are answers too: counted, by method when the head could be read. */
    @Test
    void requestsRefusedAsMalformedAreCounted() throws Exception {
        List<String> refused = List.of(
                "GET / HTTP/1.1\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                "GET /" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: a\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: a\r\nX: " + "a".repeat(70_000) + "\r\n\r\n");
        List<String> statuses = new ArrayList<>();
        for (String request : refused) {
            statuses.add(Raw.exchange(server.port(), request).substring(0, 12));
        }
        assertThat(statuses).containsExactly("HTTP/1.1 400", "HTTP/1.1 400", "HTTP/1.1 414", "HTTP/1.1 431");
        String scrape = scrape();
        assertThat(value(scrape,
                "defaultbackend_http_requests_total{code_class=\"4xx\",method=\"GET\",port=\"traffic\"}"))
                .isEqualTo(2);
        assertThat(value(scrape,
                "defaultbackend_http_requests_total{code_class=\"4xx\",method=\"OTHER\",port=\"traffic\"}"))
                .isEqualTo(2);
        assertThat(value(scrape, "defaultbackend_connections_closed_total{reason=\"bad_request\"}")).isEqualTo(4);
        assertThat(value(scrape, "default_http_backend_http_request_count_total{proto=\"1.1\"}")).isZero();
    }

    /** A keep-alive connection's end after the idle timeout is counted apart from a request that timed out. */
    @Test
    void idleKeepAliveClosesAreCountedApartFromTimeouts() throws Exception {
        try (ServerProcess timed = ServerProcess.start("--idle-timeout=1s", "--read-header-timeout=1s");
             RawConnection idle = RawConnection.open(timed.port());
             RawConnection slow = RawConnection.open(timed.port())) {
            idle.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(idle.readResponse(false)).startsWith("HTTP/1.1 200 OK\r\n");
            slow.send("GET /healthz HTTP/1.1\r\nHost: a\r\n"); // the head never ends
            assertThat(idle.closedWithin(Duration.ofSeconds(5))).isTrue();
            assertThat(slow.closedWithin(Duration.ofSeconds(5))).isTrue();
            String scrape = Raw.exchange(timed.svcPort(), "GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            assertThat(value(scrape, "defaultbackend_connections_closed_total{reason=\"idle\"}")).isEqualTo(1);
            assertThat(value(scrape, "defaultbackend_connections_closed_total{reason=\"timeout\"}")).isEqualTo(1);
        }
    }

    /**
     * 1.5's histogram in the text format 0.0.4 as 1.5's Go client wrote it: {@code le="1"}, {@code le="10"}
     * (Prometheus stores label values as they come, and a dashboard selects {@code le="10"}), also to a
     * Prometheus 2 that ranks OpenMetrics first, as it does by default, since it got the text format from 1.5;
     * in OpenMetrics, asked for alone, its canonical {@code "1.0"}, {@code "10.0"}.
     */
    @Test
    void the15HistogramsBoundsAreWrittenAs15WroteThem() throws Exception {
        Raw.exchange(server.port(), "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        assertThat(bounds(scrape())).containsExactly("0.001", "0.003", "0.005", "0.01", "0.025", "0.05", "0.1",
                "0.25", "0.5", "1", "2.5", "5", "10", "+Inf");
        HttpResponse<String> prometheus2 = CLIENT.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.svcPort() + "/metrics"))
                .header("Accept", "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                        + "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(prometheus2.headers().firstValue("Content-Type"))
                .hasValue("text/plain; version=0.0.4; charset=utf-8");
        assertThat(bounds(prometheus2.body())).containsExactly("0.001", "0.003", "0.005", "0.01", "0.025", "0.05",
                "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf");
        String openMetrics = CLIENT.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.svcPort() + "/metrics"))
                .header("Accept", "application/openmetrics-text; version=1.0.0").build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(bounds(openMetrics)).containsExactly("0.001", "0.003", "0.005", "0.01", "0.025", "0.05", "0.1",
                "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf");
    }

    private static List<String> bounds(String scrape) {
        return Pattern.compile("^default_http_backend_http_request_duration_milliseconds_bucket"
                        + "\\{proto=\"1\\.1\",le=\"([^\"]+)\"} [01]$", Pattern.MULTILINE)
                .matcher(scrape).results().map(result -> result.group(1)).toList();
    }

    /**
     * The text scrape parses with Prometheus's own parser ({@code promtool check metrics}, whose only remark
     * is on 1.5's name in milliseconds) and with Python's prometheus_client, as far as they are installed
     * ({@code -Dpromtool.binary}, {@code -Dpython3.binary}).
     */
    @Test
    void theTextScrapeParsesWithPromtoolAndPythonsClient() throws Exception {
        Raw.exchange(server.port(), "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        Raw.exchange(server.port(), "GET /healthz HTTP/1.0\r\n\r\n");
        String scrape = scrape();
        String promtool = System.getProperty("promtool.binary", "promtool");
        String python = System.getProperty("python3.binary", "/usr/bin/python3");
        boolean hasPromtool = Tool.run(List.of(promtool, "--version"), "").code() == 0;
        boolean hasPython = Tool.run(List.of(python, "-c", "import prometheus_client"), "").code() == 0;
        if (!hasPromtool && !hasPython) {
            String why = "skipped: neither promtool (" + promtool + ") nor Python's prometheus_client (" + python
                    + ") is installed";
            System.out.println(why);
            Assumptions.abort(why);
        }
        if (hasPromtool) {
            Tool.Result lint = Tool.run(List.of(promtool, "check", "metrics"), scrape);
            assertThat(lint.stderr().lines()).as("promtool: %s", lint).containsExactly(
                    "default_http_backend_http_request_duration_milliseconds use base unit \"seconds\" instead of "
                            + "\"milliseconds\"");
            assertThat(lint.code()).as("3: lint remarks, no error").isEqualTo(3);
        } else {
            System.out.println("promtool not installed (" + promtool + "): not checked with it");
        }
        if (hasPython) {
            Tool.Result parsed = Tool.run(List.of(python, "-c", """
                    import sys
                    from prometheus_client.parser import text_string_to_metric_families
                    for family in text_string_to_metric_families(sys.stdin.read()):
                        for sample in family.samples:
                            if sample.name.endswith('_bucket') and sample.labels.get('proto') == '1.1':
                                print(family.type, sample.labels['le'])
                            if sample.name.endswith('_count') and sample.labels.get('proto') == '1.1':
                                print(family.type, 'count', int(sample.value))
                    """), scrape);
            assertThat(parsed.code()).as("python: %s", parsed).isZero();
            assertThat(parsed.stdout().lines()).containsExactly("histogram 0.001", "histogram 0.003",
                    "histogram 0.005", "histogram 0.01", "histogram 0.025", "histogram 0.05", "histogram 0.1",
                    "histogram 0.25", "histogram 0.5", "histogram 1", "histogram 2.5", "histogram 5", "histogram 10",
                    "histogram +Inf", "histogram count 1");
        } else {
            System.out.println("Python's prometheus_client not installed (" + python + "): not checked with it");
        }
    }

    @Test
    void gzipAndOpenMetricsWhenAsked() throws Exception {
        HttpResponse<byte[]> response = CLIENT.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.svcPort() + "/metrics"))
                        .header("Accept", "application/openmetrics-text;version=1.0.0")
                        .header("Accept-Encoding", "gzip").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Encoding")).hasValue("gzip");
        assertThat(response.headers().firstValue("Content-Type"))
                .hasValue("application/openmetrics-text; version=1.0.0; charset=utf-8");
        String body;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(response.body()))) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(body).contains("\nprocess_cpu_seconds_total ", "\njvm_memory_used_bytes{area=\"heap\"} ")
                .endsWith("# EOF\n");
    }

    /**
     * What a 1.5 scraper gets: the text format 0.0.4, gzipped when asked, with 1.5's metric, its HELP line,
     * and the process metrics Go's client served beside it.
     */
    @Test
    void theTextFormatIsGzippedWhenAskedWith15sMetricAndTheProcessOnes() throws Exception {
        HttpResponse<byte[]> response = CLIENT.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.svcPort() + "/metrics"))
                        .header("Accept-Encoding", "gzip").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Encoding")).hasValue("gzip");
        assertThat(response.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        String body;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(response.body()))) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(body).contains(
                "# HELP default_http_backend_http_request_count_total Counter of HTTP requests made.\n"
                        + "# TYPE default_http_backend_http_request_count_total counter\n",
                "# TYPE default_http_backend_http_request_duration_milliseconds histogram\n",
                "\nprocess_resident_memory_bytes ", "\nprocess_max_fds ", "\nprocess_open_fds ",
                "\nprocess_start_time_seconds ", "\nprocess_cpu_seconds_total ")
                .doesNotContain("# EOF");
    }

    /** A command-line tool run to its end with some input, bounded in time; code -1 when it cannot start. */
    private static final class Tool {
        record Result(int code, String stdout, String stderr) {
        }

        static Result run(List<String> command, String stdin) throws InterruptedException {
            Process process;
            try {
                process = new ProcessBuilder(command).start();
            } catch (IOException e) {
                return new Result(-1, "", e.getMessage());
            }
            try {
                CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
                CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
                try (var in = process.getOutputStream()) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    // It exited without reading its input: its exit code says why.
                }
                assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
                return new Result(process.exitValue(), out.join(), err.join());
            } finally {
                process.destroyForcibly();
            }
        }

        private static String readAll(java.io.InputStream in) {
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
