package ai.echo.defaultbackend.it.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import ai.echo.defaultbackend.it.RawConnection;
import ai.echo.defaultbackend.it.ServerProcess;
import ai.echo.defaultbackend.it.errorpages.Raw;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The access log of the packaged jar: off by default, one JSON line per request, capped, drops counted. */
class AccessLogIT {

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Pattern LINE = Pattern.compile("^\\{\"time\":\"[^\"]+\",\"remote\":\"127\\.0\\.0\\.1\","
            + "\"method\":\"[A-Z]+\",\"path\":\"(?:[^\"\\\\]|\\\\.)*\",\"status\":\\d{3},\"bytes\":\\d+,"
            + "\"duration_ms\":\\d+\\.\\d{3},\"user_agent\":\"(?:[^\"\\\\]|\\\\.)*\",\"request_id\":\"(?:[^\"\\\\]|\\\\.)*\","
            + "\"x_code\":\"(?:[^\"\\\\]|\\\\.)*\"}$");

    private static double metric(ServerProcess server, String series) throws Exception {
        String scrape = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.svcPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher matcher = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(scrape);
        assertThat(matcher.find()).as("series %s", series).isTrue();
        return Double.parseDouble(matcher.group(1));
    }

    private static List<String> logLines(ServerProcess server) {
        return server.output().stream().filter(line -> line.startsWith("{\"time\":")).toList();
    }

    @Test
    void offByDefault() throws Exception {
        try (ServerProcess server = ServerProcess.start()) {
            for (int i = 0; i < 5; i++) {
                Raw.exchange(server.port(), "GET /x HTTP/1.0\r\n\r\n");
            }
            // The scrape is answered after the five requests: had they been logged, the lines would be queued.
            assertThat(metric(server, "default_http_backend_http_request_count_total{proto=\"1.0\"}")).isEqualTo(5);
            assertThat(logLines(server)).isEmpty();
        }
    }

    /** The user agent ends in a UTF-8 {@code é} and a byte that is no UTF-8: logged as {@code é} and U+FFFD. */
    @Test
    void oneEscapedJsonLinePerRequestWithHostileInput() throws Exception {
        try (ServerProcess server = ServerProcess.start("--access-log")) {
            Raw.exchange(server.port(), "GET /a?\"x\"=%0a HTTP/1.1\r\nHost: h\r\n"
                    + "User-Agent: evil\"}\u00c3\u00a9\u00ff\r\nX-Request-ID: id-1\r\nX-Code: 503\r\n"
                    + "Connection: close\r\n\r\n");
            String line = server.awaitLine(l -> l.startsWith("{\"time\":"), Duration.ofSeconds(10));
            assertThat(line).matches(LINE);
            assertThat(line).contains("\"path\":\"/a?\\\"x\\\"=%0a\"", "\"status\":503,",
                    "\"user_agent\":\"evil\\\"}\\u00e9\\ufffd\"", "\"request_id\":\"id-1\"", "\"x_code\":\"503\"");
        }
    }

    /** A client over IPv6 is logged with its address as people write it: {@code ::1}. */
    @Test
    void anIpv6ClientsAddressIsWrittenCompressed() {
        try (ServerProcess server = ServerProcess.start("--access-log")) {
            try (RawConnection v6 = RawConnection.open("::1", server.port())) {
                v6.send("GET /over-ipv6 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                assertThat(v6.readToEnd()).startsWith("HTTP/1.1 404 ");
            }
            String line = server.awaitLine(l -> l.startsWith("{\"time\":"), Duration.ofSeconds(10));
            assertThat(line).contains("\"remote\":\"::1\",\"method\":\"GET\",\"path\":\"/over-ipv6\"");
        }
    }

    @Test
    void theCeilingHoldsUnderAFloodAndDropsAreCounted() throws Exception {
        int requests = 400;
        try (ServerProcess server = ServerProcess.start("--access-log", "--access-log-max-lines-per-second=20")) {
            long start = System.nanoTime();
            for (int i = 0; i < requests; i++) {
                Raw.exchange(server.port(), "GET /flood/" + i + " HTTP/1.0\r\n\r\n");
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double dropped = metric(server, "defaultbackend_access_log_dropped_total{reason=\"rate_limit\"}");
            double written = requests - dropped
                    - metric(server, "defaultbackend_access_log_dropped_total{reason=\"queue_full\"}");
            // A burst of one second's worth, then the rate: never more.
            assertThat(written).isLessThanOrEqualTo(20 + 20 * Math.ceil(seconds));
            assertThat(dropped).isPositive();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (logLines(server).size() < written && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(logLines(server)).hasSize((int) written).allMatch(l -> LINE.matcher(l).matches());
            assertThat(metric(server, "defaultbackend_access_log_lines_total")).isEqualTo(written);
        }
    }

    /**
     * A line counts as written once stdout took it: with stdout gone (its reader closed it, and every write
     * fails with EPIPE), the lines are counted as dropped for a write error, not as written, and the server
     * goes on serving and still stops cleanly.
     */
    @Test
    void linesStdoutRefusesAreCountedAsWriteErrorsNotWritten() throws Exception {
        int requests = 20;
        try (ServerProcess server = ServerProcess.start("--access-log")) {
            Raw.exchange(server.port(), "GET /before HTTP/1.0\r\n\r\n");
            server.awaitLine(l -> l.startsWith("{\"time\":"), Duration.ofSeconds(10));
            assertThat(metric(server, "defaultbackend_access_log_lines_total")).isEqualTo(1);

            server.closeStdout();
            // The read that was waiting takes one more line, then nothing reads stdout any more.
            Raw.exchange(server.port(), "GET /last-read HTTP/1.0\r\n\r\n");
            ServerProcess.await("the last read", Duration.ofSeconds(10), server::stdoutClosed);
            assertThat(metric(server, "defaultbackend_access_log_lines_total")).isEqualTo(2);
            for (int i = 0; i < requests; i++) {
                assertThat(Raw.exchange(server.port(), "GET /after/" + i + " HTTP/1.0\r\n\r\n"))
                        .startsWith("HTTP/1.0 404 ");
            }
            ServerProcess.await("the lines' writes to fail", Duration.ofSeconds(10), () -> {
                try {
                    return metric(server, "defaultbackend_access_log_dropped_total{reason=\"write_error\"}")
                            == requests;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(metric(server, "defaultbackend_access_log_lines_total")).isEqualTo(2);
        }
    }
}
