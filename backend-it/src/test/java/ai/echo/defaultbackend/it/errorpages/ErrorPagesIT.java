package ai.echo.defaultbackend.it.errorpages;

import static org.assertj.core.api.Assertions.assertThat;

import ai.echo.defaultbackend.it.ServerProcess;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Custom error pages from the packaged jar over real sockets, configured as custom-error-pages users do:
 * {@code ERROR_FILES_PATH} pointing at a ConfigMap-style volume and {@code DEFAULT_RESPONSE_FORMAT}.
 */
class ErrorPagesIT {

    private static final Duration RELOAD_DEADLINE = Duration.ofSeconds(15);

    @TempDir
    static Path volume;

    private static ServerProcess server;
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** A ConfigMap volume as the kubelet lays it out: a timestamped directory, {@code ..data}, one link per key. */
    private static void configMapVersion(Path volume, String version, Map<String, String> files) throws IOException {
        Path dir = Files.createDirectory(volume.resolve(version));
        for (Map.Entry<String, String> file : files.entrySet()) {
            Files.writeString(dir.resolve(file.getKey()), file.getValue());
            Path link = volume.resolve(file.getKey());
            if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(link, Path.of("..data", file.getKey()));
            }
        }
        Path tmp = volume.resolve("..data_tmp");
        Files.createSymbolicLink(tmp, dir.getFileName());
        Files.move(tmp, volume.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
    }

    @BeforeAll
    static void start() throws Exception {
        configMapVersion(volume, "..2026_11_26_10_00_00.1", Map.of(
                "503.html", "<h1>{{code}}: {{reason}}</h1><p>{{original_uri}} in {{namespace}}/{{ingress}}</p>",
                "5xx.json", "{\"error\":{{code}},\"id\":\"{{request_id}}\"}",
                "4xx.txt", "client error {{code}}\n"));
        server = ServerProcess.start(List.of(), Map.of(
                "ERROR_FILES_PATH", volume.toString(),
                "DEFAULT_RESPONSE_FORMAT", "application/json"));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (server != null) {
            server.close();
        }
    }

    private static HttpResponse<String> get(String path, String... headers) throws IOException, InterruptedException {
        return get(server, path, headers);
    }

    private static HttpResponse<String> get(ServerProcess target, String path, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + target.port() + path))
                .timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void startUpIsStillOneLineAndSaysWhereThePagesComeFrom() throws Exception {
        get("/", "X-Code", "503");
        assertThat(server.output()).singleElement().asString().contains("started: transport ",
                "; error pages from \"" + volume + "\" (3 files, others built-in), metrics on the service port");
    }

    @Test
    void theIngressHeadersSelectStatusTypeAndPage() throws Exception {
        HttpResponse<String> response = get("/", "X-Code", "503", "X-Format", "text/html,application/xhtml+xml,"
                + "application/xml;q=0.9,*/*;q=0.8", "X-Original-URI", "/shop/<cart>", "X-Namespace", "prod",
                "X-Ingress-Name", "shop");
        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(response.body()).isEqualTo(
                "<h1>503: Service Unavailable</h1><p>/shop/&lt;cart&gt; in prod/shop</p>");
    }

    @ParameterizedTest(name = "[{index}] X-Code {0}, X-Format {1} -> {2} {3}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            502 | application/json              | application/json; charset=utf-8 | '{"error":502,"id":"req-1"}'
            504 | '*/*'                         | application/json; charset=utf-8 | '{"error":504,"id":"req-1"}'
            404 | 'text/plain, */*;q=0.1'       | text/plain; charset=utf-8       | 'client error 404\n'
            410 | NULL                          | application/json; charset=utf-8 | '{"code":410,"reason":"Gone","request_id":"req-1"}\n'
            503 | 'application/xml;q=0.5, text/xml' | text/xml; charset=utf-8     | '<?xml version="1.0" encoding="UTF-8"?>\n<error><code>503</code><reason>Service Unavailable</reason><requestId>req-1</requestId></error>\n'
            """)
    void negotiatesAndFallsBack(int code, String format, String contentType, String body) throws Exception {
        HttpResponse<String> response = format == null
                ? get("/", "X-Code", Integer.toString(code), "X-Request-ID", "req-1")
                : get("/", "X-Code", Integer.toString(code), "X-Format", format, "X-Request-ID", "req-1");
        assertThat(response.statusCode()).isEqualTo(code);
        assertThat(response.headers().firstValue("Content-Type")).hasValue(contentType);
        assertThat(response.body()).isEqualTo(body.replace("\\n", "\n"));
    }

    @Test
    void withoutXCodeTheBytesAreThoseOf15() throws Exception {
        assertThat(Raw.exchange(server.port(), "GET /whatever?x=1 HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\n"
                + "Connection: close\r\n\r\n")).isEqualTo(Raw.NOT_FOUND_15.replace("\r\n\r\n",
                "\r\nConnection: close\r\n\r\n"));
        assertThat(Raw.exchange(server.port(), "GET / HTTP/1.1\r\nHost: a\r\nX-Code: 200\r\nConnection: close\r\n\r\n"))
                .isEqualTo(Raw.NOT_FOUND_15.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
    }

    @Test
    void headGetsHeadersOnly() throws Exception {
        String response = Raw.exchange(server.port(), "HEAD / HTTP/1.1\r\nHost: a\r\nX-Code: 502\r\n"
                + "X-Format: application/json\r\nX-Request-ID: r\r\nConnection: close\r\n\r\n");
        assertThat(response).isEqualTo("HTTP/1.1 502 Bad Gateway\r\nDate: <date>\r\nContent-Length: 22\r\n"
                + "Content-Type: application/json; charset=utf-8\r\nVary: Accept\r\nConnection: close\r\n\r\n");
    }

    @Test
    void aConfigMapUpdateIsServedWithoutRestartAndABrokenFileKeepsItsPreviousVersion() throws Exception {
        Path own = Files.createDirectory(volume.resolve("reloaded"));
        configMapVersion(own, "..1", Map.of("503.html", "<h1>first {{code}}</h1>", "5xx.json", "{\"v\":1}"));
        try (ServerProcess reloaded = ServerProcess.start("--error-files-path=" + own)) {
            assertThat(get(reloaded, "/", "X-Code", "503", "X-Format", "text/html").body())
                    .isEqualTo("<h1>first 503</h1>");

            configMapVersion(own, "..2", Map.of("503.html", "<h1>maintenance {{code}}</h1>", "5xx.json", "{\"v\":2}"));
            awaitBody(reloaded, "<h1>maintenance 503</h1>", "X-Code", "503", "X-Format", "text/html");

            configMapVersion(own, "..3", Map.of(
                    "503.html", "x".repeat(2 * 1024 * 1024), // over the 1 MiB limit: refused
                    "5xx.json", "{\"v\":3}"));
            awaitBody(reloaded, "{\"v\":3}", "X-Code", "500", "X-Format", "application/json");
            assertThat(get(reloaded, "/", "X-Code", "503", "X-Format", "text/html").body())
                    .isEqualTo("<h1>maintenance 503</h1>");
            reloaded.awaitLine(line -> line.contains("error page") && line.contains("503.html")
                    && line.contains("keeping its previous version"), RELOAD_DEADLINE);
        }
    }

    private static void awaitBody(ServerProcess target, String body, String... headers) throws Exception {
        long deadline = System.nanoTime() + RELOAD_DEADLINE.toNanos();
        String last = null;
        while (System.nanoTime() - deadline < 0) {
            last = get(target, "/", headers).body();
            if (last.equals(body)) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("not served within " + RELOAD_DEADLINE + ": " + body + "; last: " + last);
    }

    @Test
    void honourXCodeCanBeTurnedOffAndAMissingDirectoryMeansBuiltInPages() throws Exception {
        try (ServerProcess off = ServerProcess.start("--honor-x-code=false")) {
            assertThat(Raw.exchange(off.port(), "GET / HTTP/1.1\r\nHost: a\r\nX-Code: 503\r\nConnection: close\r\n\r\n"))
                    .isEqualTo(Raw.NOT_FOUND_15.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
        }
        // The default directory, /www, exists only where the chart mounts it.
        try (ServerProcess builtIn = ServerProcess.start()) {
            assertThat(Raw.exchange(builtIn.port(), "GET / HTTP/1.0\r\nX-Code: 503\r\nAccept: text/plain\r\n\r\n"))
                    .isEqualTo("HTTP/1.0 503 Service Unavailable\r\nDate: <date>\r\nContent-Length: 24\r\n"
                            + "Content-Type: text/plain; charset=utf-8\r\nVary: Accept\r\n\r\n503 Service Unavailable\n");
        }
    }

    @Test
    void helpListsTheNewFlagsWithTheirVariables() throws Exception {
        Process help = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                System.getProperty("backend.jar"), "--help").redirectErrorStream(true).start();
        String text = new String(help.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(help.waitFor()).isZero();
        assertThat(text).contains("--error-files-path dir  (env ERROR_FILES_PATH, default /www)",
                "--default-response-format type  (env DEFAULT_RESPONSE_FORMAT, default text/html)",
                "--honor-x-code   (env HONOR_X_CODE, default true)", "--debug   (env DEBUG, default false)",
                "--access-log   (env ACCESS_LOG, default false)", "(env ACCESS_LOG_SAMPLE_RATE, default 1)",
                "(env ACCESS_LOG_MAX_LINES_PER_SECOND, default 100)");
    }
}
