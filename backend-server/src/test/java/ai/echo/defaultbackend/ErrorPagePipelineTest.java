package ai.echo.defaultbackend;

import static ai.echo.defaultbackend.Wire.NOT_FOUND_15;
import static ai.echo.defaultbackend.Wire.received;
import static ai.echo.defaultbackend.Wire.send;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** X-Code requests through the whole traffic-port pipeline, as raw bytes. */
class ErrorPagePipelineTest {

    @TempDir
    Path dir;

    private ErrorPageStore store;
    private EmbeddedChannel channel;

    @BeforeEach
    void pages() throws IOException {
        Files.writeString(dir.resolve("503.html"), "<p>{{code}} {{reason}} {{original_uri}} {{namespace}}/{{ingress}}"
                + "/{{service}} {{request_id}}</p>");
        Files.writeString(dir.resolve("5xx.json"), "{\"code\":{{code}},\"uri\":\"{{original_uri}}\"}");
        store = new ErrorPageStore(dir, Duration.ofMinutes(10)).start();
    }

    @AfterEach
    void releaseEverything() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
        store.close();
    }

    private EmbeddedChannel open(ErrorPageStore pages, Variant defaultVariant, boolean debug) {
        Features features = new Features(Metrics.Port.TRAFFIC, null, null, pages, defaultVariant, debug, null);
        BackendInitializer initializer = new BackendInitializer(BackendConfig.DEFAULTS, new Responses(),
                new ServerState(), new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE), Integer.MAX_VALUE,
                features);
        channel = new EmbeddedChannel();
        channel.pipeline().addLast(initializer);
        return channel;
    }

    private EmbeddedChannel open() {
        return open(store, Variant.TEXT_HTML, false);
    }

    private static String errorResponse(String statusLine, String contentType, String body) {
        return errorResponse(statusLine, contentType, null, body);
    }

    /** An error page's bytes: negotiated, so it says it varies on Accept; then Connection when there is one. */
    private static String errorResponse(String statusLine, String contentType, String connection, String body) {
        return statusLine + "\r\nDate: <date>\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length
                + "\r\nContent-Type: " + contentType + "\r\nVary: Accept\r\n"
                + (connection == null ? "" : "Connection: " + connection + "\r\n") + "\r\n" + body;
    }

    @Test
    void withoutXCodeTheAnswerIsThe15Bytes() {
        send(open(), "GET /anything?q=1 HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n");
        assertThat(received(channel)).isEqualTo(NOT_FOUND_15);
    }

    @Test
    void healthzIgnoresXCode() {
        send(open(), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\n\r\n");
        assertThat(received(channel)).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok");
    }

    @Test
    void servesThePageForTheCodeWithEveryPlaceholder() {
        send(open(), "GET / HTTP/1.1\r\nHost: shop.example\r\nX-Code: 503\r\nX-Format: text/html\r\n"
                + "X-Original-URI: /cart?id=<1>\r\nX-Namespace: prod\r\nX-Ingress-Name: shop\r\n"
                + "X-Service-Name: cart\r\nX-Service-Port: 80\r\nX-Request-ID: 5f1e&\r\n\r\n");
        assertThat(received(channel)).isEqualTo(errorResponse("HTTP/1.1 503 Service Unavailable",
                "text/html; charset=utf-8",
                "<p>503 Service Unavailable /cart?id=&lt;1&gt; prod/shop/cart 5f1e&amp;</p>"));
    }

    /** One array of page values is refilled per connection: nothing of a request's page shows in the next. */
    @Test
    void eachRequestsPageShowsOnlyItsOwnValues() {
        EmbeddedChannel connection = open();
        send(connection, "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\nX-Format: text/html\r\n"
                + "X-Original-URI: /a\r\nX-Namespace: prod\r\nX-Ingress-Name: shop\r\nX-Service-Name: cart\r\n"
                + "X-Request-ID: r1\r\n\r\n");
        assertThat(received(connection)).endsWith("<p>503 Service Unavailable /a prod/shop/cart r1</p>");
        send(connection, "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 504\r\nX-Format: application/json\r\n\r\n");
        assertThat(received(connection)).endsWith("\r\n\r\n{\"code\":504,\"uri\":\"\"}");
        send(connection, "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\nX-Format: text/html\r\n\r\n");
        assertThat(received(connection)).isEqualTo(errorResponse("HTTP/1.1 503 Service Unavailable",
                "text/html; charset=utf-8", "<p>503 Service Unavailable  // </p>"));
    }

    /**
     * A request's headers are gone before the next request's are read, whatever arrives between them: blank
     * lines in a read of their own (which Netty consumes before any request line), or a head in pieces.
     */
    @Test
    void aRequestsHeadersDoNotOutliveItAcrossBlankLinesOrAHeadInPieces() {
        EmbeddedChannel connection = open();
        send(connection, "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\nX-Format: application/json\r\n\r\n");
        assertThat(received(connection)).endsWith("\r\n\r\n{\"code\":503,\"uri\":\"\"}");
        send(connection, "\r\n");
        send(connection, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(received(connection)).isEqualTo(NOT_FOUND_15);
        send(connection, "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 504\r\nX-Format: application/json\r\n\r\n");
        assertThat(received(connection)).endsWith("\r\n\r\n{\"code\":504,\"uri\":\"\"}");
        send(connection, "GET / HTTP/1.1\r\nHo");
        send(connection, "st: x\r\n\r\n");
        assertThat(received(connection)).isEqualTo(NOT_FOUND_15);
        assertThat(connection.isOpen()).isTrue();
    }

    @ParameterizedTest(name = "[{index}] X-Format {0}, Accept {1} -> {2}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            application/json                 | NULL             | application/json; charset=utf-8
            'text/html;q=0.1, application/json' | NULL          | application/json; charset=utf-8
            NULL                             | application/json | application/json; charset=utf-8
            'text/plain'                     | application/json | text/plain; charset=utf-8
            ''                               | text/xml         | text/xml; charset=utf-8
            '*/*'                            | NULL             | text/html; charset=utf-8
            'text/html;q=0.9'                | NULL             | text/html; charset=utf-8
            image/webp                       | NULL             | text/html; charset=utf-8
            NULL                             | NULL             | text/html; charset=utf-8
            """)
    void negotiatesTheTypeAndNamesItExactly(String format, String accept, String contentType) {
        send(open(), "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 502\r\n" + (format == null ? "" : "X-Format: " + format
                + "\r\n") + (accept == null ? "" : "Accept: " + accept + "\r\n") + "\r\n");
        String response = received(channel);
        assertThat(response).startsWith("HTTP/1.1 502 Bad Gateway\r\n")
                .contains("\r\nContent-Type: " + contentType + "\r\n");
        if (contentType.startsWith("application/json")) {
            assertThat(response).endsWith("\r\n\r\n{\"code\":502,\"uri\":\"\"}");
        }
    }

    @Test
    void eachRequestOnAConnectionIsNegotiatedForItself() {
        // One negotiation is kept per connection for a repeated Accept; a different one must not reuse it.
        String[][] asked = {
            {"Accept: application/json", "application/json"}, {"Accept: application/json", "application/json"},
            {"Accept: text/plain", "text/plain"}, {"X-Format: text/xml\r\nAccept: text/plain", "text/xml"},
            {"Accept: application/json", "application/json"}, {"X-Format: \r\nAccept: text/plain", "text/plain"},
        };
        EmbeddedChannel connection = open();
        for (String[] request : asked) {
            send(connection, "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\n" + request[0] + "\r\n\r\n");
            assertThat(received(connection)).as(request[0])
                    .contains("\r\nContent-Type: " + request[1] + "; charset=utf-8\r\n");
        }
        send(connection, "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\n\r\n");
        assertThat(received(connection)).as("no Accept: the default").contains("\r\nContent-Type: text/html");
    }

    /**
     * An {@code Accept} sent on several lines is one list (RFC 9110, 5.3), whether the decoder reads the head
     * itself (CRLF) or leaves it to Netty (a lone LF), and the next request's single line is its own again.
     */
    @ParameterizedTest(name = "line end {0}")
    @ValueSource(strings = {"\r\n", "\n"})
    void anAcceptOnSeveralLinesIsOneList(String eol) {
        EmbeddedChannel connection = open();
        send(connection, String.join(eol, "GET / HTTP/1.1", "Host: x", "X-Code: 502",
                "Accept: application/json;q=0.1", "Accept: text/plain", "", ""));
        assertThat(received(connection)).contains("\r\nContent-Type: text/plain; charset=utf-8\r\n");
        send(connection, String.join(eol, "GET / HTTP/1.1", "Host: x", "X-Code: 502",
                "Accept: application/json;q=0.1", "", ""));
        assertThat(received(connection)).contains("\r\nContent-Type: application/json; charset=utf-8\r\n");
        send(connection, String.join(eol, "GET / HTTP/1.1", "Host: x", "X-Code: 502",
                "Accept: text/xml;q=0.2", "Accept: application/json;q=0.1", "Accept: image/png", "", ""));
        assertThat(received(connection)).contains("\r\nContent-Type: text/xml; charset=utf-8\r\n");
    }

    @Test
    void theDefaultFormatAppliesWhenNothingIsAcceptable() {
        send(open(store, Variant.APPLICATION_JSON, false),
                "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 404\r\nX-Format: image/png\r\n\r\n");
        assertThat(received(channel)).isEqualTo(errorResponse("HTTP/1.1 404 Not Found",
                "application/json; charset=utf-8",
                "{\"code\":404,\"reason\":\"Not Found\",\"request_id\":\"\"}\n"));
    }

    @Test
    void headGetsTheSameHeadersAndNoBody() {
        send(open(), "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\nX-Format: application/json\r\n\r\n");
        String get = received(channel);
        send(channel, "HEAD / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\nX-Format: application/json\r\n\r\n");
        String head = received(channel);
        assertThat(head).isEqualTo(get.substring(0, get.indexOf("\r\n\r\n") + 4));
        assertThat(head).contains("Content-Length: 21\r\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"200", "302", "399", "600", "999", "4044", "40", "abc", "", "5o3", "-503", "503, 404"})
    void anInvalidXCodeGetsThe15Answer(String code) {
        send(open(), "GET / HTTP/1.1\r\nHost: x\r\nX-Code: " + code + "\r\n\r\n");
        assertThat(received(channel)).isEqualTo(NOT_FOUND_15);
    }

    @Test
    void whenXCodeIsNotHonouredEveryAnswerIsThe15One() {
        send(open(null, Variant.TEXT_HTML, false), "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\n\r\n");
        assertThat(received(channel)).isEqualTo(NOT_FOUND_15);
    }

    @Test
    void http10AndConnectionHandlingFollowTheRequest() {
        send(open(), "GET / HTTP/1.0\r\nX-Code: 504\r\nX-Format: text/plain\r\n\r\n");
        assertThat(received(channel)).isEqualTo(errorResponse("HTTP/1.0 504 Gateway Timeout",
                "text/plain; charset=utf-8", "504 Gateway Timeout\n"));
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void anHttp10KeepAliveRequestIsAnsweredWithItsValuesAndKeptOpen() {
        send(open(), "GET / HTTP/1.0\r\nConnection: keep-alive\r\nX-Code: 502\r\nX-Format: application/json\r\n"
                + "X-Original-URI: /a\"<b\r\n\r\n");
        assertThat(received(channel)).isEqualTo(errorResponse("HTTP/1.0 502 Bad Gateway",
                "application/json; charset=utf-8", "keep-alive",
                "{\"code\":502,\"uri\":\"/a\\\"\\u003cb\"}"));
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() {
        send(open(), "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\nX-Format: text/plain\r\n\r\n"
                + "GET /x HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 429\r\nAccept: text/plain\r\nConnection: close\r\n\r\n");
        assertThat(received(channel)).isEqualTo(
                errorResponse("HTTP/1.1 503 Service Unavailable", "text/plain; charset=utf-8",
                        "503 Service Unavailable\n")
                        + NOT_FOUND_15
                        + errorResponse("HTTP/1.1 429 Too Many Requests", "text/plain; charset=utf-8", "close",
                        "429 Too Many Requests\n"));
    }

    /** All eight of custom-error-pages' headers, as ingress-nginx sends them, come back under DEBUG. */
    @Test
    void debugEchoesEveryOneOfTheEightHeaders() {
        send(open(store, Variant.TEXT_PLAIN, true), "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\n"
                + "X-Format: text/plain\r\nX-Original-URI: /shop?q=1\r\nX-Namespace: shop\r\n"
                + "X-Ingress-Name: web\r\nX-Service-Name: web-svc\r\nX-Service-Port: 8080\r\n"
                + "X-Request-ID: 5f1c\r\n\r\n");
        String response = received(channel);
        String head = response.substring(0, response.indexOf("\r\n\r\n") + 2);
        assertThat(head).contains("\r\nX-Code: 503\r\n", "\r\nX-Format: text/plain\r\n",
                "\r\nX-Original-URI: /shop?q=1\r\n", "\r\nX-Namespace: shop\r\n", "\r\nX-Ingress-Name: web\r\n",
                "\r\nX-Service-Name: web-svc\r\n", "\r\nX-Service-Port: 8080\r\n", "\r\nX-Request-ID: 5f1c\r\n");
    }

    @Test
    void debugEchoesTheIngressHeadersSanitisedAndNothingElse() {
        send(open(store, Variant.TEXT_PLAIN, true), "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\n"
                + "X-Request-ID: id-\u00ff\u0080-end\r\nX-Namespace: " + "n".repeat(300) + "\r\n"
                + "X-Secret: s3cr3t\r\nX-Format: text/plain\r\n\r\n");
        String response = received(channel);
        String head = response.substring(0, response.indexOf("\r\n\r\n") + 2);
        assertThat(head).contains("\r\nX-Code: 503\r\n", "\r\nX-Format: text/plain\r\n",
                "\r\nX-Request-ID: id-??-end\r\n", "\r\nX-Namespace: " + "n".repeat(256) + "...\r\n");
        assertThat(head).doesNotContain("X-Secret", "s3cr3t", "\u00ff");
    }

    @Test
    void withoutDebugNoRequestHeaderIsEchoed() {
        send(open(), "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\nX-Request-ID: abc\r\nX-Format: text/plain\r\n\r\n");
        String response = received(channel);
        assertThat(response.substring(0, response.indexOf("\r\n\r\n"))).doesNotContain("X-", "abc");
    }

    @Test
    void hostileValuesNeverLeaveThePageUnescaped() {
        send(open(), "GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\nX-Original-URI: /\"><script>alert(1)</script>"
                + "\u00e9\r\nX-Namespace: a'b\r\n\r\n");
        String response = received(channel); // one char per byte
        String body = response.substring(response.indexOf("\r\n\r\n") + 4);
        // The page is encoded straight into the response: its length must count U+FFFD as three bytes.
        assertThat(response).contains("\r\nContent-Length: " + body.length() + "\r\n");
        assertThat(body).isEqualTo("<p>503 Service Unavailable /&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
                + "\uFFFD a&#39;b// </p>".replace("\uFFFD", new String("\uFFFD".getBytes(StandardCharsets.UTF_8),
                StandardCharsets.ISO_8859_1)));
    }
}
