package ai.echo.defaultbackend.it;

import static ai.echo.defaultbackend.it.Expected.NOT_FOUND;
import static ai.echo.defaultbackend.it.Expected.OK;
import static ai.echo.defaultbackend.it.Expected.response;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every row of the 1.5 contract table, byte for byte over real sockets, against the packaged jar on the
 * default JDK. {@link Jdk25ContractIT} runs the same against the image's runtime.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ContractIT {

    ServerProcess server;

    /** The JDK to run the jar on; null for the JDK running the tests. */
    Path javaHome() {
        return null;
    }

    @BeforeAll
    void start() {
        server = ServerProcess.launch(javaHome(), List.of(), List.of("--port=0", "--svc-port=0"), Map.of())
                .awaitStarted();
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource({
            "GET, /healthz, 200",
            "GET, /healthz?verbose=1, 200",
            "POST, /healthz, 200",
            "PUT, /healthz, 200",
            "GET, /, 404",
            "GET, /x?q=1, 404",
            "GET, /healthz/, 404",
            "GET, /metrics, 404",
            "GET, /a/../b, 404",
            "GET, //x, 404",
            "OPTIONS, *, 404",
            "DELETE, /resource, 404",
            "PROPFIND, /dav, 404",
    })
    void answersAsTheContractSays(String method, String target, int status) {
        String answer = RawConnection.exchange(server.port(),
                method + " " + target + " HTTP/1.1\r\nHost: example.com\r\nUser-Agent: it\r\n\r\n");
        assertThat(answer).isEqualTo(status == 200 ? OK : NOT_FOUND);
    }

    @Test
    void headGetsTheHeadersWithContentLengthAndNoBody() {
        try (RawConnection connection = RawConnection.open(server.port())) {
            connection.send("HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\nHEAD /x HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            assertThat(connection.readResponse(true)).isEqualTo(response("HTTP/1.1 200 OK", "ok", null, true));
            assertThat(connection.readResponse(true))
                    .isEqualTo(response("HTTP/1.1 404 Not Found", "default backend - 404", null, true));
            assertThat(connection.readToEnd()).as("nothing between the HEAD answers and the next response")
                    .isEqualTo(response("HTTP/1.1 200 OK", "ok", "close", false));
        }
    }

    @Test
    void http10IsAnsweredAs10AndClosed() {
        try (RawConnection connection = RawConnection.open(server.port())) {
            connection.send("GET /nope HTTP/1.0\r\n\r\n");
            assertThat(connection.readToEnd())
                    .isEqualTo(response("HTTP/1.0 404 Not Found", "default backend - 404", null, false));
        }
    }

    /** HTTP/1.0 closes by default, so Go says nothing of it in the answer, asked or not; the close is the same. */
    @Test
    void http10WithConnectionCloseIsClosedWithoutSayingSo() {
        try (RawConnection connection = RawConnection.open(server.port())) {
            connection.send("GET /healthz HTTP/1.0\r\nConnection: close\r\n\r\nGET / HTTP/1.0\r\n\r\n");
            assertThat(connection.readToEnd()).isEqualTo(response("HTTP/1.0 200 OK", "ok", null, false));
        }
    }

    @Test
    void http10KeepAliveIsHonoured() {
        try (RawConnection connection = RawConnection.open(server.port())) {
            for (int i = 0; i < 3; i++) {
                connection.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
                assertThat(connection.readResponse(false))
                        .isEqualTo(response("HTTP/1.0 200 OK", "ok", "keep-alive", false));
            }
        }
    }

    @Test
    void connectionCloseIsEchoedAndHonoured() {
        try (RawConnection connection = RawConnection.open(server.port())) {
            connection.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            assertThat(connection.readToEnd())
                    .isEqualTo(response("HTTP/1.1 404 Not Found", "default backend - 404", "close", false));
        }
    }

    /**
     * A lone LF ends a line, as in Go's server: a request written by hand (printf into a socket) is answered
     * as 1.5 answered it, and the one pipelined behind it too.
     */
    @Test
    void requestsWhoseLinesEndInALoneLineFeedAreAnswered() {
        try (RawConnection connection = RawConnection.open(server.port())) {
            connection.send("GET /healthz HTTP/1.1\nHost: a\n\nGET /x HTTP/1.0\n\n");
            assertThat(connection.readToEnd()).isEqualTo(response("HTTP/1.1 200 OK", "ok", null, false)
                    + response("HTTP/1.0 404 Not Found", "default backend - 404", null, false));
        }
    }

    @Test
    void keepAliveServesManyRequestsOnOneConnection() {
        try (RawConnection connection = RawConnection.open(server.port())) {
            for (int i = 0; i < 50; i++) {
                connection.send("GET /" + i + " HTTP/1.1\r\nHost: a\r\n\r\n");
                assertThat(connection.readResponse(false)).isEqualTo(NOT_FOUND);
            }
        }
    }

    /**
     * The Date of each answer on a kept-alive connection follows the clock across seconds: never a second
     * before the one its request was sent in, never after the one its answer arrived in. The server reads
     * the wall clock only when a second may have ended, so a stale cache is what this would catch.
     */
    @Test
    void theDateFollowsTheClockOnAKeptAliveConnection() {
        Set<String> seen = new HashSet<>();
        try (RawConnection connection = RawConnection.open(server.port())) {
            long end = System.currentTimeMillis() + 2_300;
            while (System.currentTimeMillis() < end) {
                long sent = System.currentTimeMillis() / 1000;
                String response = connection.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readRawResponse(false);
                long received = System.currentTimeMillis() / 1000;
                String date = RawConnection.date(response);
                List<String> now = LongStream.rangeClosed(sent, received).mapToObj(Expected::httpDate).toList();
                assertThat(date).as("sent in second %d, answered by %d", sent, received).isIn(now);
                seen.add(date);
            }
        }
        assertThat(seen).as("Dates over 2.3 s").hasSizeGreaterThanOrEqualTo(2);
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() {
        int count = 500;
        StringBuilder requests = new StringBuilder();
        for (int i = 0; i < count; i++) {
            requests.append(i % 5 == 0 ? "HEAD" : "GET").append(i % 2 == 0 ? " /healthz" : " /p" + i)
                    .append(" HTTP/1.1\r\nHost: a\r\n\r\n");
        }
        try (RawConnection connection = RawConnection.open(server.port())) {
            connection.send(requests.toString());
            for (int i = 0; i < count; i++) {
                boolean head = i % 5 == 0;
                String expected = i % 2 == 0 ? response("HTTP/1.1 200 OK", "ok", null, head)
                        : response("HTTP/1.1 404 Not Found", "default backend - 404", null, head);
                assertThat(connection.readResponse(head)).as("response %d", i).isEqualTo(expected);
            }
        }
    }

    @Test
    void ipv6LoopbackIsServedOnBothPorts() {
        for (int port : new int[] {server.port(), server.svcPort()}) {
            try (RawConnection connection = RawConnection.open("::1", port)) {
                connection.send("GET /healthz HTTP/1.1\r\nHost: [::1]\r\n\r\n");
                assertThat(connection.readResponse(false)).as("port %d", port).isEqualTo(OK);
            }
        }
    }

    @Test
    void servicePortAnswersHealthzAndNothingElseOfTheTrafficPort() {
        assertThat(RawConnection.exchange(server.svcPort(), "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(OK);
        assertThat(RawConnection.exchange(server.svcPort(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(NOT_FOUND);
        assertThat(RawConnection.exchange(server.svcPort(), "GET /healthz/x HTTP/1.1\r\nHost: a\r\n\r\n"))
                .isEqualTo(NOT_FOUND);
    }

    @Test
    void aStandardClientSeesTheSameAnswers() throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> ok = client.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.port() + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).isEqualTo("ok");
        assertThat(ok.headers().firstValue("content-type")).hasValue("text/plain; charset=utf-8");
        assertThat(ok.headers().firstValue("server")).isEmpty();
        HttpResponse<String> missing = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.port() + "/some/path?x=1"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"a\":1}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).isEqualTo("default backend - 404");
    }

    @Test
    void startsWithOneLineAndLogsNothingPerRequest() {
        for (int i = 0; i < 20; i++) {
            RawConnection.exchange(server.port(), "GET /log-" + i + " HTTP/1.1\r\nHost: a\r\n\r\n");
        }
        assertThat(server.stdout().lines().filter(line -> !line.isBlank()))
                .singleElement().asString()
                .contains("kubernetes-ingress-defaultbackend", "started: transport ", "traffic port", "service port",
                        "JVM " + (javaHome() == null ? Runtime.version().feature() : "25"));
        assertThat(server.stdout() + server.stderr()).doesNotContain("log-");
        assertThat(server.stderr()).as("nothing on stderr, not even JDK warnings").isEmpty();
    }

    @Test
    void epollIsTheTransportOnLinux() {
        assertThat(System.getProperty("os.name")).isEqualTo("Linux");
        assertThat(server.transport()).isEqualTo(ServerProcess.transportUnderTest().orElse("epoll"));
    }
}
