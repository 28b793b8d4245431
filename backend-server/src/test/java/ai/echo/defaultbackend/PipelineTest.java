package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole pipeline, as {@link BackendInitializer} builds it, on an {@link EmbeddedChannel}: raw request
 * bytes in, raw response bytes out, compared byte for byte with what 1.5 sends.
 */
class PipelineTest {

    private static final StrictRequestDecoder.HeadScratch SCRATCH = new StrictRequestDecoder.HeadScratch();

    private static final Pattern DATE = Pattern.compile("\r\nDate: ([A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} "
            + "\\d{2}:\\d{2}:\\d{2} GMT)\r\n");

    private EmbeddedChannel channel;

    @AfterEach
    void releaseEverything() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private EmbeddedChannel open(BackendConfig config) {
        return open(config, new ServerState());
    }

    private EmbeddedChannel open(BackendConfig config, ServerState state) {
        BackendInitializer initializer = new BackendInitializer(config, new Responses(), state,
                new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE), Integer.MAX_VALUE);
        channel = new EmbeddedChannel();
        channel.freezeTime();
        channel.pipeline().addLast(initializer);
        return channel;
    }

    private EmbeddedChannel open() {
        return open(BackendConfig.DEFAULTS);
    }

    /** Moves the channel's clock on by {@code time} and runs the timers that are due by then. */
    private static void elapse(EmbeddedChannel channel, Duration time) {
        channel.advanceTimeBy(time.toNanos(), TimeUnit.NANOSECONDS);
        channel.runScheduledPendingTasks();
    }

    /** Sends bytes the way a socket read delivers them: in a buffer from the channel's (leak-tracked) allocator. */
    private static void send(EmbeddedChannel channel, String request) {
        byte[] bytes = request.getBytes(StandardCharsets.ISO_8859_1);
        channel.writeInbound(channel.alloc().buffer(bytes.length).writeBytes(bytes));
    }

    /** Everything written so far, with each Date value replaced by {@code <date>} after checking it. */
    private static String received(EmbeddedChannel channel) {
        StringBuilder out = new StringBuilder();
        ByteBuf buf;
        while ((buf = channel.readOutbound()) != null) {
            out.append(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        Matcher dates = DATE.matcher(out);
        StringBuilder normalised = new StringBuilder();
        while (dates.find()) {
            assertThat(dates.group(1)).isIn(Responses.httpDate(System.currentTimeMillis() / 1000),
                    Responses.httpDate(System.currentTimeMillis() / 1000 - 1));
            dates.appendReplacement(normalised, "\r\nDate: <date>\r\n");
        }
        dates.appendTail(normalised);
        return normalised.toString();
    }

    private static String response(String statusLine, String body, String connection, boolean head) {
        return statusLine + "\r\nDate: <date>\r\nContent-Length: " + body.length()
                + "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + (connection == null ? "" : "Connection: " + connection + "\r\n") + "\r\n" + (head ? "" : body);
    }

    private static final String NOT_FOUND = response("HTTP/1.1 404 Not Found", "default backend - 404", null, false);
    private static final String OK = response("HTTP/1.1 200 OK", "ok", null, false);
    /** The 404 that ends a connection: {@code Connection: close}. */
    private static final String NOT_FOUND_CLOSE = response("HTTP/1.1 404 Not Found", "default backend - 404", "close",
            false);
    private static final String BAD_REQUEST = response("HTTP/1.1 400 Bad Request", "400 Bad Request", "close", false);

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource({
            "GET, /healthz, 200",
            "GET, /healthz?verbose=1&x=2, 200",
            "POST, /healthz, 200",
            "DELETE, /healthz, 200",
            "GET, http://example.com/healthz, 200",
            "GET, http://example.com/healthz?q, 200",
            "GET, /, 404",
            "GET, /x?q=1, 404",
            "GET, /healthz/, 404",
            "GET, /healthzz, 404",
            "GET, /HEALTHZ, 404",
            "GET, /metrics, 404",
            "GET, /a/../b, 404",
            "GET, //x, 404",
            "GET, /a/../healthz, 404",
            "OPTIONS, *, 404",
            "PUT, /anything, 404",
            "PATCH, /x, 404",
            "BREW, /coffee, 404",
            "GET, http://example.com, 404",
            "GET, HTTP://example.com:80/healthz, 200",
            // RFC 3986: the authority ends at the first "/", "?" or "#", so the path of these is empty and
            // /healthz is their query or fragment, as Go reads them
            "GET, http://a?/healthz, 404",
            "GET, http://a#/healthz, 404",
            "GET, http://a?x=/healthz, 404",
            "GET, http://a:80?/healthz, 404",
            // no scheme before "://": no absolute form, whatever the query holds
            "GET, x?u=http://a/healthz, 404",
            "GET, 1http://a/healthz, 404",
            // Go reads a request's target without a fragment (url.ParseRequestURI): a "#" is part of the path,
            // so 1.5's mux matched none of these to /healthz
            "GET, /healthz#x, 404",
            "GET, /healthz#, 404",
            "GET, http://a/healthz#x, 404",
            "GET, /healthz?q#x, 200",
    })
    void answersEveryPathAndMethodAsTheContractSays(String method, String target, int status) {
        EmbeddedChannel channel = open();
        send(channel, method + " " + target + " HTTP/1.1\r\nHost: example.com\r\n\r\n");
        assertThat(received(channel)).isEqualTo(status == 200 ? OK : NOT_FOUND);
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void headGetsTheSameHeadersIncludingContentLengthAndNoBody() {
        EmbeddedChannel channel = open();
        send(channel, "HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\nHEAD /nope HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(response("HTTP/1.1 200 OK", "ok", null, true)
                + response("HTTP/1.1 404 Not Found", "default backend - 404", null, true));
    }

    @Test
    void http10IsAnsweredAs10AndClosed() {
        EmbeddedChannel channel = open();
        send(channel, "GET / HTTP/1.0\r\n\r\n");
        assertThat(received(channel)).isEqualTo(response("HTTP/1.0 404 Not Found", "default backend - 404", null,
                false));
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void http10KeepAliveIsKeptAndSaidSo() {
        EmbeddedChannel channel = open();
        send(channel, "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assertThat(received(channel)).isEqualTo(response("HTTP/1.0 200 OK", "ok", "keep-alive", false));
        assertThat(channel.isOpen()).isTrue();
    }

    /**
     * The decoder refills one request and one set of headers per connection: nothing of a request may carry
     * over to the next, neither its Host count nor its version nor its headers.
     */
    @Test
    void eachRequestOnAConnectionIsJudgedOnItsOwnHead() {
        EmbeddedChannel channel = open();
        send(channel, "GET /healthz HTTP/1.1\r\nHost: a\r\nUser-Agent: x\r\n\r\n");
        assertThat(received(channel)).isEqualTo(OK);
        send(channel, "GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assertThat(received(channel)).isEqualTo(
                response("HTTP/1.0 404 Not Found", "default backend - 404", "keep-alive", false));
        send(channel, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(response("HTTP/1.1 404 Not Found", "default backend - 404", null,
                true));
        send(channel, "GET / HTTP/1.2\r\nHost: a\r\n\r\n"); // another version: a request of Netty's own
        assertThat(received(channel)).isEqualTo(NOT_FOUND);
        send(channel, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(OK);
        assertThat(channel.isOpen()).isTrue();
        send(channel, "GET / HTTP/1.1\r\n\r\n"); // the previous requests' Host fields do not count
        assertThat(received(channel)).isEqualTo(BAD_REQUEST);
        assertThat(channel.isOpen()).isFalse();
    }

    /** The decoder keeps the previous target's string: a target that differs from it in one byte is new. */
    @Test
    void aTargetThatDiffersFromThePreviousOneInOneByteIsRoutedOnItsOwn() {
        EmbeddedChannel channel = open();
        for (String target : new String[] {"/healthz", "/healthy", "/healthz", "/healthz", "/", "/healthz/"}) {
            send(channel, "GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(received(channel)).as(target).isEqualTo(target.equals("/healthz") ? OK : NOT_FOUND);
        }
        assertThat(channel.isOpen()).isTrue();
    }

    /** A repeated target is the previous request's string, not a copy; any other target is read afresh. */
    @Test
    void theDecoderReusesTheTargetStringOnlyForTheSameBytes() {
        channel = new EmbeddedChannel(decoderOnItsOwn());
        String first = decodedTarget(channel, "/same?q=1");
        String again = decodedTarget(channel, "/same?q=1");
        String other = decodedTarget(channel, "/same?q=2");
        String latin1 = decodedTarget(channel, "/\u00e9");
        String latin1Again = decodedTarget(channel, "/\u00e9");
        assertThat(again).isEqualTo("/same?q=1").isSameAs(first);
        assertThat(other).isEqualTo("/same?q=2");
        assertThat(latin1).isEqualTo("/\u00e9");
        assertThat(latin1Again).isSameAs(latin1);
    }

    /**
     * A decoded request carries the shared {@link DecoderResult#SUCCESS}, not the record of the head's sizes
     * Netty makes for each request (so that C2 need not make it); a failure is kept as Netty reports it.
     */
    @Test
    void aDecodedRequestCarriesTheSharedSuccessAndKeepsAFailure() {
        channel = new EmbeddedChannel(decoderOnItsOwn());
        send(channel, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        HttpRequest good = channel.readInbound();
        assertThat(good.decoderResult()).isSameAs(DecoderResult.SUCCESS);
        ReferenceCountUtil.release(channel.readInbound()); // the request's (empty) last content
        send(channel, "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n");
        HttpRequest bad = channel.readInbound();
        assertThat(bad.decoderResult().isFailure()).isTrue();
        assertThat(bad.decoderResult().cause()).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * The entries of the decoder's known header names are kept from one request to the next rather than made
     * anew for every field, and hold the current request's fields only: its values, in its order, every value
     * of a repeated name, found by any spelling of the name.
     */
    @Test
    void knownHeaderEntriesAreKeptAcrossRequestsAndHoldOnlyTheCurrentRequestsFields() {
        channel = new EmbeddedChannel(decoderOnItsOwn());
        HttpHeaders headers = decodedHeaders(channel,
                "X-Code: 503\r\nAccept: application/json\r\nX-Format: text/html\r\n");
        List<Map.Entry<CharSequence, CharSequence>> first = entries(headers);
        assertThat(fields(first)).containsExactly("X-Code=503", "Accept=application/json", "X-Format=text/html");
        assertThat(headers.get("x-format")).isEqualTo("text/html");
        releaseLastContent(channel);

        headers = decodedHeaders(channel, "Accept: text/html\r\nX-Code: 404\r\nX-Forwarded-For: a\r\n"
                + "X-Forwarded-For: b\r\nx-code: 500\r\nX-Other: o\r\n");
        List<Map.Entry<CharSequence, CharSequence>> second = entries(headers);
        assertThat(fields(second)).containsExactly("Accept=text/html", "X-Code=404", "X-Forwarded-For=a",
                "X-Forwarded-For=b", "x-code=500", "X-Other=o");
        assertThat(second.get(0)).as("Accept's entry, kept").isSameAs(first.get(1));
        assertThat(second.get(1)).as("X-Code's entry, kept").isSameAs(first.get(0));
        assertThat(headers.getAll("X-CODE")).containsExactly("404", "500");
        assertThat(headers.getAll("x-forwarded-for")).containsExactly("a", "b");
        assertThat(headers.get("Accept")).isEqualTo("text/html");
        assertThat(headers.contains("X-Format")).isFalse();
        assertThat(headers.size()).isEqualTo(6);
        releaseLastContent(channel);

        headers = decodedHeaders(channel, "X-Forwarded-For: c\r\n");
        List<Map.Entry<CharSequence, CharSequence>> third = entries(headers);
        assertThat(fields(third)).containsExactly("X-Forwarded-For=c");
        assertThat(third.get(0)).as("the first X-Forwarded-For's entry, kept").isSameAs(second.get(2));
        assertThat(headers.getAll("X-Forwarded-For")).containsExactly("c");
        assertThat(headers.get("X-Code")).isNull();
        assertThat(headers.get("Accept")).isNull();
        assertThat(headers.size()).isEqualTo(1);
        releaseLastContent(channel);
    }

    /** The handler looks headers up by the decoder's own name constants, which find every spelling. */
    @Test
    void knownNamesAreTheObjectsStoredAndFindEverySpelling() {
        channel = new EmbeddedChannel(decoderOnItsOwn());
        AsciiString xCode = StrictRequestDecoder.knownName("X-Code");
        HttpHeaders headers = decodedHeaders(channel, "X-Code: 503\r\nx-code: 500\r\nX-CODE: 404\r\n");
        List<Map.Entry<CharSequence, CharSequence>> entries = entries(headers);
        assertThat((Object) entries.get(0).getKey()).isSameAs(xCode);
        assertThat((Object) entries.get(1).getKey()).isNotSameAs(xCode);
        assertThat(headers.getAll(xCode)).containsExactly("503", "500", "404");
        releaseLastContent(channel);
        assertThatThrownBy(() -> StrictRequestDecoder.knownName("X-Unknown"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("X-Unknown");
        assertThatThrownBy(() -> StrictRequestDecoder.knownName("x-code"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** The headers of the request decoded from a head with these header lines (and a Host); its body is left. */
    private static HttpHeaders decodedHeaders(EmbeddedChannel channel, String headerLines) {
        send(channel, "GET / HTTP/1.1\r\nHost: a\r\n" + headerLines + "\r\n");
        HttpRequest request = channel.readInbound();
        assertThat(request.decoderResult().isSuccess()).as("decoded: %s", request.decoderResult()).isTrue();
        return request.headers();
    }

    /** Releases the request's (empty) last content, and checks nothing else was decoded. */
    private static void releaseLastContent(EmbeddedChannel channel) {
        ReferenceCountUtil.release(channel.readInbound());
        assertThat(channel.<Object>readInbound()).isNull();
    }

    private static List<Map.Entry<CharSequence, CharSequence>> entries(HttpHeaders headers) {
        List<Map.Entry<CharSequence, CharSequence>> entries = new ArrayList<>();
        headers.iteratorCharSequence().forEachRemaining(entries::add);
        return entries;
    }

    private static List<String> fields(List<Map.Entry<CharSequence, CharSequence>> entries) {
        return entries.stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    private static String decodedTarget(EmbeddedChannel channel, String target) {
        send(channel, "GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n");
        HttpRequest request = channel.readInbound();
        String uri = request.uri();
        releaseLastContent(channel);
        return uri;
    }

    @Test
    void aRequestAfterTwoHostsInOnePipelineIsNotAnswered() {
        EmbeddedChannel channel = open();
        send(channel, "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"
                + "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(NOT_FOUND + BAD_REQUEST);
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void connectionCloseIsEchoedAndTheConnectionClosed() {
        EmbeddedChannel channel = open();
        send(channel, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(NOT_FOUND_CLOSE);
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() {
        EmbeddedChannel channel = open();
        StringBuilder requests = new StringBuilder();
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 150; i++) {
            boolean health = i % 3 == 0;
            requests.append("GET ").append(health ? "/healthz" : "/r" + i).append(" HTTP/1.1\r\nHost: a\r\n\r\n");
            expected.append(health ? OK : NOT_FOUND);
        }
        send(channel, requests.toString());
        assertThat(received(channel)).isEqualTo(expected.toString());
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void requestsSplitAcrossReadsAreReassembled() {
        EmbeddedChannel channel = open();
        String request = "GET /healthz HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n";
        for (char c : request.toCharArray()) {
            send(channel, String.valueOf(c));
        }
        assertThat(received(channel)).isEqualTo(OK);
    }

    @Test
    void bodiesAreDiscardedAndTheConnectionStaysUsable() {
        EmbeddedChannel channel = open();
        send(channel, "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 100; i++) {
            send(channel, "400\r\n" + "x".repeat(0x400) + "\r\n");
        }
        assertThat(received(channel)).as("answered only once the body has ended").isEmpty();
        send(channel, "0\r\n\r\nPUT /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
        assertThat(received(channel)).isEqualTo(NOT_FOUND + OK);
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void expectContinueGetsTheFinalAnswerAtOnceAndNoContinue() {
        EmbeddedChannel channel = open();
        send(channel, "PUT /big HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n");
        assertThat(received(channel)).isEqualTo(NOT_FOUND_CLOSE);
        assertThat(channel.isOpen()).isFalse();
    }

    /**
     * Go's server (1.5) reads at most 256 KiB of a body its handler left unread before it answers
     * (maxPostHandlerReadBytes): a Content-Length of 256 KiB or more is answered at once, a chunked body once
     * more than that has come, in both cases with {@code Connection: close} (HTTP/1.0 too) and the rest not
     * read. A shorter body is read to its end first, as before.
     */
    @Test
    void aBodyOf256KiBOrMoreIsNotWaitedForAsGoWaitsForNone() {
        EmbeddedChannel declared = open();
        send(declared, "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 262144\r\n\r\n");
        assertThat(received(declared)).as("answered on the head").isEqualTo(NOT_FOUND_CLOSE);
        assertThat(declared.isOpen()).isFalse();

        EmbeddedChannel http10 = open();
        send(http10, "PUT /healthz HTTP/1.0\r\nContent-Length: 1000000\r\n\r\nabc");
        assertThat(received(http10)).isEqualTo(response("HTTP/1.0 200 OK", "ok", "close", false));

        EmbeddedChannel shorter = open();
        send(shorter, "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 262143\r\n\r\n");
        send(shorter, "x".repeat(262_142));
        assertThat(received(shorter)).as("waiting for the body's last byte").isEmpty();
        send(shorter, "x");
        assertThat(received(shorter)).isEqualTo(NOT_FOUND);
        assertThat(shorter.isOpen()).isTrue();

        EmbeddedChannel chunked = open();
        send(chunked, "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 64; i++) {
            send(chunked, "1000\r\n" + "y".repeat(4096) + "\r\n");
        }
        assertThat(received(chunked)).as("256 KiB read: not more than Go reads").isEmpty();
        send(chunked, "1\r\nz\r\n");
        assertThat(received(chunked)).isEqualTo(NOT_FOUND_CLOSE);
        assertThat(chunked.isOpen()).isFalse();
    }

    /**
     * RFC 9112 6.3: a request with neither Content-Length nor Transfer-Encoding has no body, and Go reads none.
     * Netty gave a GET with both hixie-76 WebSocket keys (a 2010 draft) an 8-byte body: its answer waited for
     * 8 bytes that never came, and a request pipelined behind it lost its first 8. In CRLFs the head is the
     * decoder's own to read, in lone LFs Netty's.
     */
    @ParameterizedTest(name = "line end {index}")
    @ValueSource(strings = {"\r\n", "\n"})
    void aGetWithHixieWebSocketKeysHasNoBody(String eol) {
        String hixie = String.join(eol, "GET /x HTTP/1.1", "Host: a", "Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5",
                "Sec-WebSocket-Key2: 12998 5 Y3 1  .P00", "Upgrade: WebSocket", "", "");
        EmbeddedChannel channel = open();
        send(channel, hixie);
        assertThat(received(channel)).as("answered at once").isEqualTo(NOT_FOUND);
        send(channel, hixie + "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).as("the request behind it read from its first byte").isEqualTo(NOT_FOUND + OK);
        assertThat(channel.isOpen()).isTrue();
    }

    /**
     * A lone LF ends a line as CRLF does, as Go's server reads lines (and RFC 9112, 2.2, lets a recipient):
     * 1.5 answered these, and Netty's strict line parsing had refused them with a 400. The request behind
     * each, in lone LFs too, is read from where its LF left off.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "GET /healthz HTTP/1.1\nHost: a\n\n",
            "GET /healthz HTTP/1.1\r\nHost: a\n\r\n",
            "GET /healthz HTTP/1.1\nHost: a\r\n\n",
            "GET /healthz HTTP/1.1\nHost: a\nX-Empty:\nUser-Agent: sh\n\n",
            "\nGET /healthz HTTP/1.1\nHost: a\n\n",                  // a blank line first
            "POST /healthz HTTP/1.1\nHost: a\nContent-Length: 3\n\nabc",
            "POST /healthz HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n3\r\nabc\r\n0\r\n\r\n",
    })
    void aLoneLineFeedEndsALineAsGoReadsIt(String request) {
        EmbeddedChannel channel = open();
        send(channel, request + "GET /x HTTP/1.1\nHost: a\nConnection: close\n\n");
        assertThat(received(channel)).isEqualTo(OK + NOT_FOUND_CLOSE);
        assertThat(channel.isOpen()).isFalse();
    }

    /**
     * The blank line that ends a head is not a blank line before a request line: a control character after it
     * is the next request's, refused after this one is answered (LineEndingsTest found this one).
     */
    @Test
    void aControlCharacterAfterTheBlankLineThatEndsAHeadIsTheNextRequestsFault() {
        EmbeddedChannel channel = open();
        send(channel, "GET /healthz HTTP/1.1\r\nHost: a\n");
        send(channel, "\r\n\u007fGET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(OK + BAD_REQUEST);
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void anHttp10RequestInLoneLineFeedsIsAnsweredAs10() {
        EmbeddedChannel channel = open();
        send(channel, "GET / HTTP/1.0\n\n");
        assertThat(received(channel))
                .isEqualTo(response("HTTP/1.0 404 Not Found", "default backend - 404", null, false));
        assertThat(channel.isOpen()).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "GET / HTTP/1.1\r\n\r\n",                                                   // no Host in 1.1
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",                             // two Hosts
            "GET / HTTP/1.1\r\nHost: a\r\nX: y\r\nhOST: a\r\n\r\n",                   // two Hosts, any case
            "GET / HTTP/1.2\r\nHost: a\r\nHost: b\r\n\r\n",                             // two Hosts, Netty's headers
            "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",                             // cached name, then not
            "GARBAGE\r\n\r\n",                                                          // no request line
            "GET /\r\n\r\n",                                                            // HTTP/0.9
            "GET / HTTP/2.0\r\nHost: a\r\n\r\n",                                        // not HTTP/1.x
            "GET / FOO/1.1\r\nHost: a\r\n\r\n",                                         // not HTTP
            "GET / http/1.1\r\nHost: a\r\n\r\n",                                        // HTTP in lower case
            "GET / Http/1.1\r\nHost: a\r\n\r\n",                                        // or mixed
            "GET / http/1.0\r\n\r\n",
            "GET / hTTP/2.0\r\nHost: a\r\n\r\n",
            "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",                                        // bad method
            "GET /a\u0001b HTTP/1.1\r\nHost: a\r\n\r\n",                                // control char in target
            "GET /a\u007fb HTTP/1.1\r\nHost: a\r\n\r\n",                                // DEL in target
            "GET /caf\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n",                               // non-ASCII target
            "GET / HTTP/1.1\r\nHo st: a\r\n\r\n",                                       // space in header name
            "GET / HTTP/1.1\r\nHost: a\r\nX(: y\r\n\r\n",                               // bad header name
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\u0000b\r\n\r\n",                         // NUL in value
            "GET / HTTP/1.1\r\nHost: a\u0000b\r\n\r\n",                                // NUL in Host's value
            "GET / HTTP/1.1\r\nhost: a\u007fb\r\n\r\n",                                // DEL in host's value
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n",                     // obs-fold
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tfolded\r\n\r\n",                    // obs-fold, tab
            "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n",            // obs-fold after blank lines
            "GET / HTTP/1.1\r\n Host: a\r\n\r\n",                                       // whitespace before first
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",   // bad chunk size
            "\u0000GET / HTTP/1.1\r\nHost: a\r\n\r\n",                                   // NUL before the line
            "\r\n\u0001GET / HTTP/1.1\r\nHost: a\r\n\r\n",                             // control after a blank
            "\tGET / HTTP/1.1\r\nHost: a\r\n\r\n",                                       // tab before the line
            "\n\u007fGET / HTTP/1.1\nHost: a\n\n",                                        // DEL after a lone LF
            "GET / HTTP/1.1\rHost: a\r\n\r\n",                                            // a bare CR ends no line
            "GET /healthz\rHTTP/1.1\r\nHost: a\r\n\r\n",                                   // nor separates words
            "GET\r/healthz HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /healthz\r HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /healthz\u000b HTTP/1.1\r\nHost: a\r\n\r\n",                              // VT, FF, HTAB neither,
            "GET\u000c/healthz HTTP/1.1\r\nHost: a\r\n\r\n",                               // as in Go
            "GET\t/healthz HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET  /healthz HTTP/1.1\r\nHost: a\r\n\r\n",                                 // and one space only:
            "GET /healthz  HTTP/1.1\r\nHost: a\r\n\r\n",                                 // Go cuts at each
            "GET /healthz\tHTTP/1.1\nHost: a\n\n",
            "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n",                                       // CR before CRLF
            "GET / HTTP/1.1\nHost: a\nX: a\rb\n\n",                                       // CR in a value
            "GET / HTTP/1.1\nHost: a\nX: a\n folded\n\n",                                 // obs-fold, lone LFs
    })
    void malformedRequestsGet400AndTheConnectionIsClosed(String request) {
        EmbeddedChannel channel = open();
        send(channel, request + "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(BAD_REQUEST);
        assertThat(channel.isOpen()).isFalse();
    }

    /**
     * RFC 9112 3.2: a server MUST answer 400 to a request with more than one Host field line or a Host whose
     * value is invalid, whatever its version. Go's server (1.5's) does: "too many Host headers", and "malformed
     * Host header" for a value with a byte that is not a URI host's or port's ({@code httpguts.ValidHostHeader}:
     * no space, {@code /}, {@code @}, {@code <} or non-ASCII). The head in the decoder's own form or not
     * (lone LFs, HTTP/1.2 with Netty's headers) makes no difference.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "GET /healthz HTTP/1.1\r\nHost: a b\r\n\r\n",
            "GET /healthz HTTP/1.1\r\nHost: a/b\r\n\r\n",
            "GET /healthz HTTP/1.1\r\nHost: user@a\r\n\r\n",
            "GET /healthz HTTP/1.1\r\nHost: <script>\r\n\r\n",
            "GET /healthz HTTP/1.1\r\nHost: a\tb\r\n\r\n",
            "GET /healthz HTTP/1.1\r\nHost: \u00e9\r\n\r\n",
            "GET /healthz HTTP/1.1\nHost: a b\n\n",
            "GET /healthz HTTP/1.2\r\nHost: a b\r\n\r\n",
            "GET /healthz HTTP/1.0\r\nHost: a b\r\n\r\n",
            "GET /healthz HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET /healthz HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n",
            "GET /healthz HTTP/1.0\nHost: a\nHost: b\n\n",
    })
    void aRepeatedOrMalformedHostGets400InAnyVersion(String request) {
        EmbeddedChannel channel = open();
        send(channel, request);
        assertThat(received(channel)).isEqualTo(BAD_REQUEST);
        assertThat(channel.isOpen()).isFalse();
    }

    /** What Go's server takes for a host: a name, an address, IPv6 in brackets, a port, an empty value. */
    @ParameterizedTest(name = "Host: {0}")
    @ValueSource(strings = {"", "example.com", "10.0.0.7:8080", "[::1]:8080", "[fe80::1%25eth0]",
            "a-b_c~d!$&'()*+,;=", " \t example.com \t "})
    void aValidHostIsAccepted(String host) {
        EmbeddedChannel channel = open();
        send(channel, "GET /healthz HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        send(channel, "GET /healthz HTTP/1.1\nHost: " + host + "\n\n");
        assertThat(received(channel)).isEqualTo(OK + OK);
        assertThat(channel.isOpen()).isTrue();
    }

    /**
     * The checks that keep state across a connection (obsolete folding, Host counting) hold for every request
     * on it, not just the first: a smuggled request rides behind a good one, alone in a later read or in
     * the same one.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tfolded\r\n\r\n",
            "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
            "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
            "GET / HTTP/1.1\r\n\r\n",
    })
    void aBadRequestBehindAGoodOneGets400(String request) {
        String good = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";
        EmbeddedChannel channel = open();
        send(channel, good);
        assertThat(received(channel)).isEqualTo(OK);
        send(channel, request);
        assertThat(received(channel)).as("in a read of its own").isEqualTo(BAD_REQUEST);
        assertThat(channel.isOpen()).isFalse();
        channel.finishAndReleaseAll();

        channel = open();
        send(channel, good + request + good);
        assertThat(received(channel)).as("pipelined").isEqualTo(OK + BAD_REQUEST);
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void aBodyThatStartsWithASpaceInTheHeadsReadIsNotMistakenForFolding() {
        EmbeddedChannel channel = open();
        send(channel, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n x");
        assertThat(received(channel)).isEqualTo(NOT_FOUND);
        send(channel, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n\tx");
        assertThat(received(channel)).isEqualTo(NOT_FOUND);
        assertThat(channel.isOpen()).isTrue();
    }

    /** Header names of every length up to 64, on one connection: the decoder looks known names up by length. */
    @Test
    void headerNamesOfAnyLengthAreDecoded() {
        EmbeddedChannel channel = open();
        for (int length = 1; length <= 64; length++) {
            send(channel, "GET / HTTP/1.1\r\nHost: a\r\n" + "X".repeat(length) + ": x\r\n\r\n");
            assertThat(received(channel)).as("a header name of %d characters", length).isEqualTo(NOT_FOUND);
        }
        send(channel, "GET / HTTP/1.1\r\nHost: a\r\nContent-Disposition: x\r\nX-Forwarded-Scheme: y\r\n\r\n");
        assertThat(received(channel)).isEqualTo(NOT_FOUND);
        assertThat(channel.isOpen()).isTrue();
    }

    /**
     * Only a body that would wait for 100 Continue is answered early; without a body there is nothing to wait for.
     * 100-continue in any case, among other tokens, in HTTP/1.0 or an empty Expect is no unknown expectation.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
            "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nExpect: x, 100-continue\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nExpect:\r\n\r\n",
            "GET / HTTP/1.1\nHost: a\nExpect: 100-continue\n\n",
    })
    void expectContinueWithoutABodyIsAnsweredAsUsual(String request) {
        EmbeddedChannel channel = open();
        send(channel, request);
        assertThat(received(channel)).isEqualTo(NOT_FOUND);
        assertThat(channel.isOpen()).isTrue();
    }

    /**
     * An expectation other than 100-continue gets 417 and a close, at once, as Go's server (1.5) answers it
     * (sendExpectationFailed, which RFC 9110 10.1.1 allows): laid out as Go writes it, the Connection its
     * handler set first, then Date, Content-Length and the Content-Type it sniffs from no body; no
     * Content-Length for a HEAD; in the request's version. A body on its way is not waited for.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            GET / HTTP/1.1\\r\\nHost: a\\r\\nExpect: something-else\\r\\n\\r\\n                           | HTTP/1.1 | 0
            PUT / HTTP/1.1\\r\\nHost: a\\r\\nExpect: 100-continued\\r\\nContent-Length: 1000000\\r\\n\\r\\n | HTTP/1.1 | 0
            GET / HTTP/1.0\\r\\nExpect: x\\r\\n\\r\\n                                                      | HTTP/1.0 | 0
            GET /healthz HTTP/1.1\\nHost: a\\nExpect: x\\n\\n                                                  | HTTP/1.1 | 0
            HEAD / HTTP/1.1\\r\\nHost: a\\r\\nExpect: x\\r\\n\\r\\n                                       | HTTP/1.1 |
            """)
    void anUnknownExpectationGets417AndAClose(String request, String version, String contentLength) {
        EmbeddedChannel channel = open();
        send(channel, request.replace("\\r", "\r").replace("\\n", "\n") + "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(version + " 417 Expectation Failed\r\nConnection: close\r\n"
                + "Date: <date>\r\n" + (contentLength == null ? "" : "Content-Length: " + contentLength + "\r\n")
                + "Content-Type: text/plain; charset=utf-8\r\n\r\n");
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void foldingIsFoundWhenTheHeadArrivesInPieces() {
        EmbeddedChannel channel = open();
        send(channel, "GET / HTTP/1.1\r\n");
        send(channel, "Host: a\r\nX: a\r\n");
        send(channel, " continued\r\n\r\n");
        assertThat(received(channel)).isEqualTo(BAD_REQUEST);
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void blankLinesBeforeARequestAreTolerated() {
        EmbeddedChannel channel = open();
        send(channel, "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(OK);
    }

    @Test
    void aBodyThatLooksLikeFoldingIsNotMistakenForIt() {
        EmbeddedChannel channel = open();
        send(channel, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n\n x\n \nGET /healthz HTTP/1.1\r\n"
                + "Host: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(NOT_FOUND + OK);
    }

    @Test
    void anOverlongRequestLineGets414() {
        EmbeddedChannel channel = open();
        send(channel, "GET /" + "a".repeat(BackendConfig.DEFAULTS.maxRequestLineBytes()) + " HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(response("HTTP/1.1 414 URI Too Long", "414 URI Too Long", "close",
                false));
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void overlongHeadersGet431() {
        EmbeddedChannel channel = open();
        send(channel, "GET / HTTP/1.1\r\nHost: a\r\nX: " + "a".repeat(BackendConfig.DEFAULTS.maxHeaderBytes())
                + "\r\n\r\n");
        assertThat(received(channel)).isEqualTo(response("HTTP/1.1 431 Request Header Fields Too Large",
                "431 Request Header Fields Too Large", "close", false));
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void nothingTheClientSendsIsReflected() {
        EmbeddedChannel channel = open();
        String marker = "zq<script>alert(1)</script>";
        send(channel, "GET /" + marker.replace('<', '_').replace('>', '_') + "?" + "x HTTP/1.1\r\nHost: a"
                + "\r\nX-Code: 503\r\nX-Evil: " + marker + "\r\n\r\n");
        String answer = received(channel);
        assertThat(answer).isEqualTo(NOT_FOUND).doesNotContain("zq");
    }

    private static BackendConfig timeouts(Duration header, Duration read, Duration idle) {
        return timeouts(header, read, BackendConfig.DEFAULTS.writeTimeout(), idle);
    }

    private static BackendConfig timeouts(Duration header, Duration read, Duration write, Duration idle) {
        BackendConfig d = BackendConfig.DEFAULTS;
        return new BackendConfig(d.port(), d.svcPort(), d.shutdownTimeout(), d.bindAddress(), header, read,
                write, idle, d.maxRequestLineBytes(), d.maxHeaderBytes(), d.maxConnections(),
                d.transport(), d.ioThreads());
    }

    /**
     * The server reads the clock once for a request answered within the read that brought its first byte
     * (the answer's Date and the idle timeout's start); the timeouts read it again only for a request that
     * is still unfinished when that read has been handled, and its deadlines run from there.
     */
    @Test
    void aRequestAnsweredWithinItsFirstReadReadsTheClockOnce() {
        ServerClockReads ticker = new ServerClockReads();
        BackendInitializer initializer = new BackendInitializer(BackendConfig.DEFAULTS, new Responses(),
                new ServerState(), new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE), Integer.MAX_VALUE);
        channel = EmbeddedChannel.builder().ticker(ticker).handlers(initializer).build();
        send(channel, "GET /first HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).startsWith("HTTP/1.1 404 Not Found\r\n");

        int before = ticker.reads;
        send(channel, "GET /kept-alive HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).startsWith("HTTP/1.1 404 Not Found\r\n");
        assertThat(ticker.reads - before).isEqualTo(1);

        before = ticker.reads;
        send(channel, "GET /unfinished HTTP/1.1\r\n");
        assertThat(received(channel)).isEmpty();
        assertThat(ticker.reads - before).as("the unfinished head's deadlines start").isEqualTo(1);
    }

    /** A mock ticker that counts the reads made by the server's own classes (not EmbeddedChannel's). */
    private static final class ServerClockReads implements Ticker {
        private final MockTicker time = Ticker.newMockTicker();
        int reads;

        @Override
        public long initialNanoTime() {
            return time.initialNanoTime();
        }

        @Override
        public long nanoTime() {
            if (StackWalker.getInstance().walk(frames -> frames.skip(1).findFirst())
                    .map(caller -> caller.getClassName().startsWith("ai.echo.defaultbackend.")).orElse(false)) {
                reads++;
            }
            return time.nanoTime();
        }

        @Override
        public void sleep(long delay, TimeUnit unit) throws InterruptedException {
            time.sleep(delay, unit);
        }
    }

    @Test
    void aRequestStartedOnAKeptAliveConnectionMustCompleteItsHeadWithinTheHeaderTimeout() {
        EmbeddedChannel channel = open(timeouts(Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofSeconds(30)));
        send(channel, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(OK);
        elapse(channel, Duration.ofSeconds(20));
        send(channel, "GET / HTTP/1.1\r\n");
        elapse(channel, Duration.ofMillis(2900));
        assertThat(channel.isOpen()).isTrue();
        elapse(channel, Duration.ofMillis(200));
        assertThat(channel.isOpen()).as("the head's deadline runs from its first byte, not from the last answer")
                .isFalse();
        assertThat(received(channel)).isEmpty();
    }

    /**
     * What a read leaves of a pipelined request after answering the one before it is a request under way,
     * as Go's server takes it: its head is due within the header timeout from that answer, not the idle
     * timeout. What the read leaves: a partial line, which Netty keeps unread; a whole line, which Netty takes
     * in (nothing is left unread, yet the head has begun); a blank line, then a request line and a header.
     */
    @ParameterizedTest
    @ValueSource(strings = {"GET /next HT", "GET /next HTTP/1.1\r\n", "\r\nGET /next HTTP/1.1\r\nHost: a\r\n"})
    void aPipelinedHeadLeftUnfinishedIsDueWithinTheHeaderTimeoutOfTheAnswerBeforeIt(String unfinished) {
        EmbeddedChannel channel = open(timeouts(Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofSeconds(30)));
        send(channel, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n" + unfinished);
        assertThat(received(channel)).isEqualTo(OK);
        elapse(channel, Duration.ofMillis(2900));
        assertThat(channel.isOpen()).isTrue();
        elapse(channel, Duration.ofMillis(200));
        assertThat(channel.isOpen()).as("the idle timeout (30 s) does not apply to a request under way").isFalse();
        assertThat(received(channel)).isEmpty();
    }

    @Test
    void blankLinesAfterARequestLeaveTheConnectionIdle() {
        EmbeddedChannel channel = open(timeouts(Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofSeconds(30)));
        // Some clients end a request with an extra CRLF; a server ignores blank lines before a request line.
        send(channel, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n\r\n");
        assertThat(received(channel)).isEqualTo(OK);
        elapse(channel, Duration.ofSeconds(29));
        assertThat(channel.isOpen()).as("still idle, within the idle timeout").isTrue();
        elapse(channel, Duration.ofSeconds(2));
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void drainingSparesAConnectionWhosePipelinedRequestIsUnderWay() {
        ServerState state = new ServerState();
        channel = new EmbeddedChannel(new BackendInitializer(BackendConfig.DEFAULTS, new Responses(), state,
                new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE), Integer.MAX_VALUE));
        send(channel, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\n");
        assertThat(received(channel)).isEqualTo(OK);
        state.startDraining();
        channel.pipeline().fireUserEventTriggered(ConnectionGuard.DRAIN);
        assertThat(channel.isOpen()).as("the second request has begun: closing now would lose it").isTrue();
        send(channel, "Host: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(NOT_FOUND_CLOSE);
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void withoutAnIdleTimeoutTheReadTimeoutBoundsTheWaitBetweenRequests() {
        EmbeddedChannel channel = open(timeouts(Duration.ofSeconds(3), Duration.ofSeconds(5), Duration.ZERO));
        send(channel, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(OK);
        elapse(channel, Duration.ofMillis(4900));
        assertThat(channel.isOpen()).isTrue();
        elapse(channel, Duration.ofMillis(200));
        assertThat(channel.isOpen()).as("as Go's server: no idle timeout means the read timeout").isFalse();
    }

    @Test
    void aNewConnectionsHeadDeadlineRunsFromItsAcceptNotFromItsFirstByte() {
        EmbeddedChannel channel = open(timeouts(Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofSeconds(30)));
        elapse(channel, Duration.ofMillis(2900));
        send(channel, "GET / HTTP/1.1\r\n");
        elapse(channel, Duration.ofMillis(200));
        assertThat(channel.isOpen()).as("a slow client gains nothing by waiting before its first byte").isFalse();
    }

    @Test
    void aClosedConnectionLeavesNoTimerBehind() {
        EmbeddedChannel channel = open();
        send(channel, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(OK);
        assertThat(channel.runScheduledPendingTasks()).as("the idle timer of an open connection").isPositive();
        channel.close();
        assertThat(channel.runScheduledPendingTasks()).as("nothing scheduled once closed").isEqualTo(-1);
    }

    @Test
    void aClientThatStopsReadingIsClosedAtTheWriteTimeout() {
        EmbeddedChannel channel = open(timeouts(Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(3),
                Duration.ofSeconds(60)));
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
        send(channel, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(OK);
        // What a socket whose peer does not read does: output stays queued, over the high-water mark.
        channel.write(channel.alloc().buffer(32).writeZero(32));
        assertThat(channel.isWritable()).isFalse();
        elapse(channel, Duration.ofMillis(2900));
        assertThat(channel.isOpen()).isTrue();
        elapse(channel, Duration.ofMillis(200));
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void aClientThatReadsAgainBeforeTheWriteTimeoutIsKept() {
        EmbeddedChannel channel = open(timeouts(Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(3),
                Duration.ofSeconds(60)));
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
        channel.write(channel.alloc().buffer(32).writeZero(32));
        elapse(channel, Duration.ofMillis(2900));
        channel.flush(); // the client reads: the queue empties and the channel is writable again
        assertThat(channel.isWritable()).isTrue();
        ReferenceCountUtil.release(channel.readOutbound());
        elapse(channel, Duration.ofSeconds(10));
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void aSilentNewConnectionIsClosedAtTheHeaderTimeoutAndNotBefore() {
        EmbeddedChannel channel = open(timeouts(Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofSeconds(30)));
        elapse(channel, Duration.ofMillis(2900));
        assertThat(channel.isOpen()).isTrue();
        elapse(channel, Duration.ofMillis(200));
        assertThat(channel.isOpen()).isFalse();
        assertThat(received(channel)).as("closed silently, no 408").isEmpty();
    }

    @Test
    void aSlowHeadIsClosedAtTheHeaderTimeoutEvenWhileBytesTrickleIn() {
        EmbeddedChannel channel = open(timeouts(Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofSeconds(30)));
        send(channel, "GET / HTTP/1.1\r\n");
        for (int i = 0; i < 5; i++) {
            elapse(channel, Duration.ofMillis(500));
            send(channel, "X-" + i + ": y\r\n");
        }
        assertThat(channel.isOpen()).isTrue();
        elapse(channel, Duration.ofMillis(600));
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void aSlowBodyIsClosedAtTheReadTimeout() {
        EmbeddedChannel channel = open(timeouts(Duration.ofSeconds(3), Duration.ofSeconds(5), Duration.ofSeconds(30)));
        send(channel, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n");
        channel.advanceTimeBy(4900, TimeUnit.MILLISECONDS);
        send(channel, "x");
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isTrue();
        elapse(channel, Duration.ofMillis(200));
        assertThat(channel.isOpen()).isFalse();
        assertThat(received(channel)).isEmpty();
    }

    @Test
    void anIdleKeepAliveConnectionIsClosedAtTheIdleTimeout() {
        EmbeddedChannel channel = open(timeouts(Duration.ofSeconds(3), Duration.ofSeconds(5), Duration.ofSeconds(20)));
        send(channel, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(OK);
        elapse(channel, Duration.ofSeconds(19));
        assertThat(channel.isOpen()).as("idle timeout, not the shorter read timeouts, applies between requests")
                .isTrue();
        send(channel, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        elapse(channel, Duration.ofSeconds(19));
        assertThat(channel.isOpen()).as("each request restarts the idle clock").isTrue();
        elapse(channel, Duration.ofSeconds(2));
        assertThat(channel.isOpen()).isFalse();
        assertThat(received(channel)).isEqualTo(OK);
    }

    @Test
    void zeroDisablesATimeout() {
        EmbeddedChannel channel = open(timeouts(Duration.ZERO, Duration.ZERO, Duration.ZERO));
        send(channel, "GET / HTTP/1.1\r\n");
        elapse(channel, Duration.ofHours(1));
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void drainingClosesAnIdleConnection() {
        EmbeddedChannel channel = open();
        send(channel, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(OK);
        channel.pipeline().fireUserEventTriggered(ConnectionGuard.DRAIN);
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void drainingSparesANewConnectionWhoseRequestMayBeOnItsWay() {
        ServerState state = new ServerState();
        channel = new EmbeddedChannel(new BackendInitializer(BackendConfig.DEFAULTS, new Responses(), state,
                new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE), Integer.MAX_VALUE));
        state.startDraining();
        channel.pipeline().fireUserEventTriggered(ConnectionGuard.DRAIN);
        assertThat(channel.isOpen()).isTrue();
        send(channel, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(response("HTTP/1.1 200 OK", "ok", "close", false));
        assertThat(channel.isOpen()).isFalse();
    }

    /**
     * As Go's Shutdown (closeIdleConns, golang/go#22682): a connection that has sent nothing counts as idle
     * once it is 5 s old, so the drain does not wait out its header timeout (10 s) for it. Younger, its
     * request may be on its way, and it is spared until then.
     */
    @Test
    void drainingClosesASilentConnectionOnceItIsFiveSecondsOld() {
        ServerState state = new ServerState();
        EmbeddedChannel channel = open(BackendConfig.DEFAULTS, state);
        elapse(channel, Duration.ofSeconds(2));
        state.startDraining();
        channel.pipeline().fireUserEventTriggered(ConnectionGuard.DRAIN);
        assertThat(channel.isOpen()).as("2 s old").isTrue();
        elapse(channel, Duration.ofMillis(2900));
        assertThat(channel.isOpen()).as("4.9 s old").isTrue();
        elapse(channel, Duration.ofMillis(100));
        assertThat(channel.isOpen()).as("5 s old").isFalse();
        assertThat(received(channel)).as("closed silently").isEmpty();
        assertThat(state.timeouts()).as("closed as idle, not for a timeout").isZero();
    }

    @Test
    void drainingClosesAtOnceASilentConnectionOlderThanFiveSeconds() {
        ServerState state = new ServerState();
        EmbeddedChannel channel = open(BackendConfig.DEFAULTS, state);
        elapse(channel, Duration.ofSeconds(6));
        assertThat(channel.isOpen()).as("within its header timeout").isTrue();
        state.startDraining();
        channel.pipeline().fireUserEventTriggered(ConnectionGuard.DRAIN);
        assertThat(channel.isOpen()).isFalse();
        assertThat(received(channel)).isEmpty();
        assertThat(state.timeouts()).isZero();
    }

    @Test
    void aFirstByteBeforeFiveSecondsMakesTheSilentConnectionARequestTheDrainAnswers() {
        ServerState state = new ServerState();
        EmbeddedChannel channel = open(BackendConfig.DEFAULTS, state);
        elapse(channel, Duration.ofSeconds(1));
        state.startDraining();
        channel.pipeline().fireUserEventTriggered(ConnectionGuard.DRAIN);
        elapse(channel, Duration.ofMillis(3900));
        send(channel, "GET /healthz HTTP/1.1\r\n");
        elapse(channel, Duration.ofSeconds(3));
        assertThat(channel.isOpen()).as("a request under way, 7.9 s old, within its header timeout").isTrue();
        send(channel, "Host: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(response("HTTP/1.1 200 OK", "ok", "close", false));
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void aSilentConnectionsShorterHeaderTimeoutStillEndsItFirstDuringTheDrain() {
        ServerState state = new ServerState();
        EmbeddedChannel channel = open(timeouts(Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofSeconds(30)),
                state);
        state.startDraining();
        channel.pipeline().fireUserEventTriggered(ConnectionGuard.DRAIN);
        elapse(channel, Duration.ofMillis(2900));
        assertThat(channel.isOpen()).isTrue();
        elapse(channel, Duration.ofMillis(200));
        assertThat(channel.isOpen()).isFalse();
        assertThat(state.timeouts()).as("its header timeout, counted as one").isEqualTo(1);
    }

    @Test
    void drainingAnswersARequestInFlightWithConnectionClose() {
        ServerState state = new ServerState();
        BackendInitializer initializer = new BackendInitializer(BackendConfig.DEFAULTS, new Responses(), state,
                new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE), Integer.MAX_VALUE);
        channel = new EmbeddedChannel(initializer);
        send(channel, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab");
        state.startDraining();
        channel.pipeline().fireUserEventTriggered(ConnectionGuard.DRAIN);
        assertThat(channel.isOpen()).as("a request is being read").isTrue();
        send(channel, "cd");
        assertThat(received(channel)).isEqualTo(NOT_FOUND_CLOSE);
        assertThat(channel.isOpen()).isFalse();
    }

    /**
     * A keep-alive connection whose last answer is still queued when the drain starts (the client reads
     * slowly) is spared by DRAIN; once the client has read it, the connection is idle, and closed then, as Go's
     * Shutdown closes it at its next poll: not left to its idle timeout, holding the drain, nor counted as an
     * idle-timeout close.
     */
    @Test
    void anIdleConnectionWhoseWriteWasBlockedAtTheDrainIsClosedOnceItsWriteIsThrough() {
        ServerState state = new ServerState();
        EmbeddedChannel channel = answeredKeepAlive(state, new WriteBufferWaterMark(8, 16));
        channel.write(channel.alloc().buffer(32).writeZero(32)); // the client has not read yet
        assertThat(channel.isWritable()).isFalse();
        state.startDraining();
        channel.pipeline().fireUserEventTriggered(ConnectionGuard.DRAIN);
        assertThat(channel.isOpen()).as("its answer is not through").isTrue();
        channel.flush(); // the client reads: the connection is idle now
        ReferenceCountUtil.release(channel.readOutbound());
        elapse(channel, Duration.ofSeconds(1));
        assertThat(channel.isOpen()).as("idle during the drain: closed, not kept to its idle timeout").isFalse();
        assertThat(state.idleClosed()).as("not counted as an idle-timeout close").isZero();
    }

    /**
     * Writable is under the low-water mark, not with nothing queued: a connection that the drain closes once
     * its answers are through is closed after the last of them is written, not with it still queued.
     */
    @Test
    void theDrainClosesAConnectionWhoseWriteWasBlockedOnlyAfterItsLastAnswerIsWritten() {
        ServerState state = new ServerState();
        EmbeddedChannel channel = answeredKeepAlive(state, new WriteBufferWaterMark(200, 400));
        // five queued answers of 8 bytes the client has not read: over the high-water mark
        ChannelFuture last = null;
        for (int i = 0; i < 5; i++) {
            last = channel.write(channel.alloc().buffer(8).writeZero(8));
        }
        assertThat(channel.isWritable()).isFalse();
        state.startDraining();
        channel.pipeline().fireUserEventTriggered(ConnectionGuard.DRAIN);
        assertThat(channel.isOpen()).isTrue();
        // the socket takes four of them (as a partial writev would): under the low-water mark, one still queued
        ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
        out.addFlush();
        out.removeBytes(32);
        assertThat(channel.isWritable()).isTrue();
        assertThat(out.size()).as("answers still queued").isEqualTo(1);
        elapse(channel, Duration.ofMillis(1));
        assertThat(channel.isOpen()).as("closed by the drain").isFalse();
        assertThat(last.isDone()).isTrue();
        assertThat(last.isSuccess()).as("the last queued answer was written before the close").isTrue();
    }

    /** Idle is under the high-water mark, not with nothing queued: the DRAIN's close waits for the answer. */
    @Test
    void theDrainClosesAnIdleConnectionAfterTheAnswerStillQueued() {
        ServerState state = new ServerState();
        EmbeddedChannel channel = answeredKeepAlive(state, new WriteBufferWaterMark(200, 400));
        ChannelFuture last = channel.write(channel.alloc().buffer(8).writeZero(8));
        channel.unsafe().outboundBuffer().addFlush(); // flushed, but the socket has not taken it
        assertThat(channel.isWritable()).isTrue();
        state.startDraining();
        channel.pipeline().fireUserEventTriggered(ConnectionGuard.DRAIN);
        assertThat(last.isDone() && !last.isSuccess()).as("queued answer dropped by DRAIN's close").isFalse();
        assertThat(channel.isOpen()).as("closed once it is written").isFalse();
        assertThat(last.isSuccess()).isTrue();
    }

    /**
     * As in Go's server, a connection's idle time starts once its answer is written: a client that took 8 s
     * to read its answer still has the whole idle timeout after it, not what is left of it.
     */
    @Test
    void theIdleTimeStartsOnceASlowReaderHasTakenTheAnswer() {
        ServerState state = new ServerState();
        EmbeddedChannel channel = answeredKeepAlive(state, new WriteBufferWaterMark(8, 16));
        channel.write(channel.alloc().buffer(32).writeZero(32)); // the client has not read yet
        assertThat(channel.isWritable()).isFalse();
        elapse(channel, Duration.ofSeconds(8)); // within the write timeout (10 s)
        channel.flush(); // the client reads
        ReferenceCountUtil.release(channel.readOutbound());
        assertThat(channel.isWritable()).isTrue();
        elapse(channel, Duration.ofSeconds(25)); // 33 s after the answer, 25 s after it was read
        assertThat(channel.isOpen()).as("idle for 25 s of its 30").isTrue();
        elapse(channel, Duration.ofSeconds(6));
        assertThat(channel.isOpen()).as("idle for 31 s").isFalse();
        assertThat(state.idleClosed()).isEqualTo(1);
        assertThat(state.timeouts()).isZero();
    }

    /** A keep-alive connection (idle timeout 30 s) with these write marks, its first request answered. */
    private EmbeddedChannel answeredKeepAlive(ServerState state, WriteBufferWaterMark marks) {
        EmbeddedChannel channel = open(timeouts(Duration.ofSeconds(10), Duration.ofSeconds(10),
                Duration.ofSeconds(10), Duration.ofSeconds(30)), state);
        channel.config().setWriteBufferWaterMark(marks);
        send(channel, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(received(channel)).isEqualTo(OK);
        return channel;
    }

    /** The decoder without timeouts, reading simple heads into a scratch shared as a listener shares it. */
    private static StrictRequestDecoder decoderOnItsOwn() {
        return new StrictRequestDecoder(new HttpDecoderConfig(), null, SCRATCH);
    }
}
