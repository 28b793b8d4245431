package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The decoder's own reading of simple heads ({@code StrictRequestDecoder.decodeSimpleHead}) against Netty's:
 * the same bytes through a decoder with it and one without must come out the same, message for message,
 * whatever the bytes and however they are split across reads. And it must take the heads it was written
 * for, and leave everything else to Netty.
 */
class SimpleHeadTest {

    /** One scratch for every decoder here, as a listener shares one among its connections. */
    private static final StrictRequestDecoder.HeadScratch SCRATCH = new StrictRequestDecoder.HeadScratch();
    private static final HttpDecoderConfig DEFAULTS = new HttpDecoderConfig().setValidateHeaders(true);
    /** Small limits, so that generated heads reach them from both sides. */
    private static final HttpDecoderConfig SMALL = new HttpDecoderConfig()
            .setMaxInitialLineLength(40).setMaxHeaderSize(60).setValidateHeaders(true);

    @ParameterizedTest
    @ValueSource(strings = {
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: 10.0.0.7:8080\r\nUser-Agent: kube-probe/1.31\r\nAccept: */*\r\n"
            + "Connection: close\r\n\r\n",
        "GET /missing HTTP/1.1\r\nHost: default-http-backend\r\nX-Code: 503\r\nX-Format: application/json\r\n"
            + "X-Original-URI: /api?q=1\r\nX-Namespace: shop\r\nX-Ingress-Name: web\r\nX-Service-Name: web\r\n"
            + "X-Service-Port: 80\r\nX-Request-ID: 5f1c\r\nAccept: application/json\r\n\r\n",
        "HEAD /x HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: \t[::1]:8080 \r\n\r\n",
        "GET / HTTP/1.1\r\nHost:\r\n\r\n",
        "DELETE /a%20b?c=d#e HTTP/1.1\r\nhost: a\r\nX-Empty:\r\nX-Spaces: \t a \t b \t\r\nHOST: b\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 5.6.7.8\r\n\r\n",
        // the hixie-76 WebSocket keys frame no body (RFC 9112 6.3: no length field, no body), whatever Netty's
        // HttpUtil.getWebSocketContentLength says: what follows is the next request, both ways
        "GET / HTTP/1.1\r\nSec-WebSocket-Key1: x\r\nsec-websocket-key2: y\r\nUpgrade: WebSocket\r\n\r\n"
            + "GET /b HTTP/1.1\r\n\r\n",
    })
    void takesTheHeadsItWasWrittenFor(String head) {
        assertThat(takenWithoutNetty(DEFAULTS, head)).isTrue();
        assertSameBothWays(DEFAULTS, List.of(head));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", // a blank line first, which Netty skips
        "GET / HTTP/1.1\nHost: a\r\n\r\n", // a bare LF
        "GET / HTTP/1.1\r\nHost: a\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n continued\r\n\r\n", // obsolete line folding
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n", // space before the colon
        "GET / HTTP/1.1\r\n: a\r\n\r\n", // no name
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 3\r\n\r\nabc",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "GET /\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n", // a byte over 0x7F in the target
        "GET / HTTP/1.1\r\nX-Latin: caf\u00e9\r\n\r\n", // and in a value
        "GET / HTTP/1.1\r\nX-Del: a\u007fb\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", // not a host: Netty's decoder refuses it
        "GET / HTTP/1.1\r\nhost: user@a\r\n\r\n",
        "GET / HTTP/1.1\r\nHOST: a/b\r\n\r\n",
        "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", // two spaces
        "get / HTTP/1.1\r\nHost: a\r\n\r\n", // a method Netty takes as a new token
        "BREW / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
        "GET / http/1.1\r\nHost: a\r\n\r\n", // the version is case-sensitive: Netty's decoder refuses it
        "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n", // not whole yet
        "GET / HTTP/1.1\r\nHost: a\r\n\r", // nor this
    })
    void leavesEverythingElseToNetty(String bytes) {
        assertThat(takenWithoutNetty(DEFAULTS, bytes)).isFalse();
        assertSameBothWays(DEFAULTS, List.of(bytes));
    }

    /**
     * Values and targets are checked eight bytes at a time while all eight are plain: a byte out of their
     * range anywhere in a long one, in any of the eight places of a word, leaves the head to Netty; a tab in
     * a value, which sends its word to the byte-at-a-time check, is still taken, as are the bounds of the
     * range (a space in a value, {@code !} and {@code ~} anywhere); both ways the same.
     */
    @Test
    void aByteOutOfRangeAnywhereInALongValueOrTargetIsFound() {
        int[] outOfRange = {0x00, 0x01, 0x08, 0x0a, 0x0b, 0x0d, 0x1f, 0x7f, 0x80, 0xa0, 0xe9, 0xff};
        for (int at = 0; at < 24; at++) {
            for (int bad : outOfRange) {
                String value = "v".repeat(at) + (char) bad + "v".repeat(23 - at);
                String head = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + value + "\r\n\r\n";
                assertThat(takenWithoutNetty(DEFAULTS, head)).as("value byte %02x at %d", bad, at).isFalse();
                assertSameBothWays(DEFAULTS, List.of(head));
            }
            for (int bad : new int[] {0x00, 0x01, 0x09, 0x1f, 0x20, 0x7f, 0x80, 0xff}) {
                String target = "/" + "t".repeat(at) + (char) bad + "t".repeat(23 - at);
                String head = "GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n";
                assertThat(takenWithoutNetty(DEFAULTS, head)).as("target byte %02x at %d", bad, at).isFalse();
                assertSameBothWays(DEFAULTS, List.of(head));
            }
            for (char plain : new char[] {'\t', ' ', '!', '~'}) {
                String value = "v".repeat(at) + plain + "v".repeat(23 - at);
                String head = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + value + "\r\n\r\n";
                assertThat(takenWithoutNetty(DEFAULTS, head)).as("value byte %02x at %d", (int) plain, at).isTrue();
                assertSameBothWays(DEFAULTS, List.of(head));
            }
            for (char plain : new char[] {'!', '~'}) {
                String target = "/" + "t".repeat(at) + plain + "t".repeat(23 - at);
                String head = "GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n";
                assertThat(takenWithoutNetty(DEFAULTS, head)).as("target byte %02x at %d", (int) plain, at).isTrue();
                assertSameBothWays(DEFAULTS, List.of(head));
            }
        }
    }

    @Test
    void leavesHeadsOverNettysLimitsToNettyAndTakesThoseJustUnder() {
        String line40 = "GET /" + "a".repeat(26) + " HTTP/1.1"; // 40 bytes, the limit
        assertThat(takenWithoutNetty(SMALL, line40 + "\r\n\r\n")).isTrue();
        assertThat(takenWithoutNetty(SMALL, line40.replace("/a", "/aa") + "\r\n\r\n")).isFalse();
        String headers60 = "X-A: " + "b".repeat(25) + "\r\nX-C: " + "d".repeat(25) + "\r\n"; // 30 + 30 bytes
        assertThat(takenWithoutNetty(SMALL, "GET / HTTP/1.1\r\n" + headers60 + "\r\n")).isTrue();
        assertThat(takenWithoutNetty(SMALL, "GET / HTTP/1.1\r\n" + headers60 + "E: f\r\n\r\n")).isFalse();
        for (String bytes : List.of(line40 + "\r\n\r\n", line40.replace("/a", "/aa") + "\r\n\r\n",
                "GET / HTTP/1.1\r\n" + headers60 + "\r\n", "GET / HTTP/1.1\r\n" + headers60 + "E: f\r\n\r\n")) {
            assertSameBothWays(SMALL, List.of(bytes));
        }
    }

    /** A head longer than the scratch it is read into is Netty's, within Netty's limits or not. */
    @Test
    void leavesHeadsLongerThanTheScratchToNetty() {
        String longHead = "GET / HTTP/1.1\r\nHost: a\r\nCookie: " + "c".repeat(StrictRequestDecoder.HeadScratch.SIZE)
                + "\r\n\r\n";
        assertThat(takenWithoutNetty(DEFAULTS, longHead)).isFalse();
        assertSameBothWays(DEFAULTS, List.of(longHead));
        assertSameBothWays(DEFAULTS, List.of(longHead.substring(0, 100), longHead.substring(100)));
    }

    /** After a bad request Netty discards everything: a simple head that follows must not be decoded. */
    @Test
    void takesNothingAfterABadRequest() {
        assertSameBothWays(DEFAULTS, List.of("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"));
        assertSameBothWays(DEFAULTS, List.of("GET / HTTP/1.1\r\nBad Name: x\r\n\r\nGET / HTTP/1.1\r\n\r\n"));
    }

    /** A head Netty began to read (its first part in an earlier read) is finished by Netty. */
    @Test
    void leavesAHeadNettyBeganToNetty() {
        assertSameBothWays(DEFAULTS, List.of("GET / HTTP/1.1\r\nHo", "st: a\r\n\r\nGET /b HTTP/1.1\r\n\r\n"));
        assertSameBothWays(DEFAULTS, List.of("GE", "T / HTTP/1.1\r\n\r\n\r\nGET /c HTTP/1.1\r\n\r\n"));
        assertSameBothWays(DEFAULTS, List.of("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\na", "bGET / HTTP/1.1\r\n\r\n"));
    }

    /**
     * A read that starts with a whole simple head has that head handed on from the decoder's own
     * {@code channelRead}, without {@code ByteToMessageDecoder}'s (its cumulation, output list and decode
     * loop). What follows a head in the same read, a head in pieces, and every read while the connection
     * does not read by itself (that method counts what it hands on, to ask for a read when it handed on
     * nothing) go through that method.
     * Either way the messages are those Netty's decoder makes (the comparisons here).
     */
    @Test
    void aReadThatStartsWithAWholeSimpleHeadHandsItOnDirectly() {
        String a = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
        String b = "GET /b HTTP/1.1\r\nHost: a\r\n\r\n";
        assertThat(handedOn(true, a, b)).containsExactly(
                "/a directly", "end directly", "/b directly", "end directly");
        assertThat(handedOn(true, a + b)).containsExactly(
                "/a directly", "end directly", "/b in Netty's", "end in Netty's");
        assertThat(handedOn(true, a.substring(0, 10), a.substring(10), b)).containsExactly(
                "/a in Netty's", "end in Netty's", "/b directly", "end directly");
        assertThat(handedOn(true, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx", b)).containsExactly(
                "/p in Netty's", "end in Netty's", "/b directly", "end directly");
        assertThat(handedOn(false, a)).containsExactly("/a in Netty's", "end in Netty's");
    }

    /**
     * While a read's first head is handed on directly, the rest of the read is not yet in Netty's buffer,
     * but it is buffered input all the same: the router asks, to linger rather than reset a connection it
     * closes with a pipelined request unread (BadInputIT).
     */
    @Test
    void theRestOfAReadIsBufferedInputWhileItsFirstHeadIsHandled() {
        String a = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
        assertThat(bufferedInputAtEachHead(a + a.replace("/a", "/b") + "GET /c HTTP/1.1\r\nHo"))
                .containsExactly("/a true", "/b true");
        assertThat(bufferedInputAtEachHead(a + a.replace("/a", "/b"))).containsExactly("/a true", "/b false");
        assertThat(bufferedInputAtEachHead(a)).containsExactly("/a false");
    }

    /**
     * A handler that removes the decoder when a request comes gets the rest of the read as bytes, whichever
     * way the request was read, as Netty's decoder hands on what it holds when it is removed: nothing is
     * lost, and the paranoid leak check finds nothing left unreleased.
     */
    @Test
    void theRestOfAReadIsHandedOnAsBytesWhenTheDecoderIsRemoved() {
        String rest = "GET /b HTTP/1.1\r\nHost: a\r\n\r\n";
        String read = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n" + rest;
        assertThat(removingTheDecoder(SCRATCH, read)).containsExactly("/a", "end", "bytes " + rest);
        // Netty's own decoder hands on what it holds while it is still handing on the request's messages.
        assertThat(removingTheDecoder(null, read)).containsExactly("/a", "bytes " + rest, "end");
    }

    /** What a handler that removes the decoder at the first request is handed for this read. */
    private static List<String> removingTheDecoder(StrictRequestDecoder.HeadScratch scratch, String read) {
        return handedOn(new StrictRequestDecoder(DEFAULTS, null, scratch), true, (ctx, msg, seen) -> {
            if (msg instanceof HttpRequest) {
                seen.add(((HttpRequest) msg).uri());
                ctx.pipeline().remove(StrictRequestDecoder.class);
            }
            if (msg instanceof LastHttpContent) {
                seen.add("end");
            }
            if (msg instanceof ByteBuf) {
                seen.add("bytes " + ((ByteBuf) msg).toString(StandardCharsets.ISO_8859_1));
            }
        }, read);
    }

    /**
     * Each whole request's target, and whether the decoder said it held input when the request was handed
     * on (a head cut short by the end of the input is handed on as a failure when the channel closes).
     */
    private static List<String> bufferedInputAtEachHead(String read) {
        StrictRequestDecoder decoder = new StrictRequestDecoder(DEFAULTS, null, SCRATCH);
        return handedOn(decoder, true, (ctx, msg, seen) -> {
            if (msg instanceof HttpRequest && ((HttpRequest) msg).decoderResult().isSuccess()) {
                seen.add(((HttpRequest) msg).uri() + " " + decoder.hasBufferedInput());
            }
        }, read);
    }

    /**
     * Each request and each end of one handed on for these reads (a simple head's request is both, in one
     * message): the request's target or "end", and how it was handed on.
     */
    private static List<String> handedOn(boolean autoRead, String... reads) {
        return handedOn(new StrictRequestDecoder(DEFAULTS, null, SCRATCH), autoRead, (ctx, msg, seen) -> {
            boolean inNettys = StackWalker.getInstance().walk(frames -> frames.anyMatch(frame ->
                    frame.getClassName().equals(ByteToMessageDecoder.class.getName())
                            && frame.getMethodName().equals("channelRead")));
            String how = inNettys ? " in Netty's" : " directly";
            if (msg instanceof HttpRequest) {
                seen.add(((HttpRequest) msg).uri() + how);
            }
            if (msg instanceof LastHttpContent) {
                seen.add("end" + how);
            }
        }, reads);
    }

    /** What {@code recorder} writes down of the messages {@code decoder} hands on for these reads. */
    private static List<String> handedOn(StrictRequestDecoder decoder, boolean autoRead, Recorder recorder,
                                         String... reads) {
        List<String> seen = new ArrayList<>();
        EmbeddedChannel channel = recording(decoder, seen, recorder);
        channel.config().setAutoRead(autoRead);
        try {
            for (String read : reads) {
                channel.writeInbound(Unpooled.copiedBuffer(read, StandardCharsets.ISO_8859_1));
            }
        } finally {
            channel.finishAndReleaseAll();
        }
        return seen;
    }

    /**
     * Generated requests, valid and not, one to three in a row, split at random across up to four reads:
     * both decoders give the same messages. Seeded, so that a failure can be replayed.
     */
    @Test
    void generatedRequestsDecodeTheSameBothWays() {
        Random random = new Random(20261127);
        int taken = 0;
        for (int i = 0; i < 4000; i++) {
            HttpDecoderConfig config = random.nextInt(4) == 0 ? SMALL : DEFAULTS;
            StringBuilder stream = new StringBuilder();
            int requests = 1 + random.nextInt(3);
            for (int r = 0; r < requests; r++) {
                stream.append(generatedRequest(random));
            }
            String bytes = stream.toString();
            if (takenWithoutNetty(config, bytes)) {
                taken++;
            }
            assertSameBothWays(config, split(bytes, random));
        }
        // The generator makes simple heads often enough that the comparison covers the new path.
        assertThat(taken).isGreaterThan(400);
    }

    /**
     * Connections of one event loop share its scratch, and with it the request and headers simple heads
     * are decoded into: three connections' reads, interleaved at random, must each come out as that
     * connection's reads alone through Netty's decoder, whatever another connection decoded in between
     * (a simple head, or a head Netty is still reading).
     */
    @Test
    void connectionsSharingTheScratchDecodeAsEachAlone() {
        Random random = new Random(20261128);
        for (int i = 0; i < 500; i++) {
            List<List<String>> reads = new ArrayList<>();
            List<List<String>> seen = new ArrayList<>();
            List<EmbeddedChannel> channels = new ArrayList<>();
            for (int c = 0; c < 3; c++) {
                StringBuilder stream = new StringBuilder();
                for (int r = 1 + random.nextInt(3); r > 0; r--) {
                    stream.append(generatedRequest(random));
                }
                reads.add(split(stream.toString(), random));
                List<String> messages = new ArrayList<>();
                seen.add(messages);
                channels.add(recording(DEFAULTS, SCRATCH, messages));
            }
            try {
                int[] next = new int[channels.size()];
                int left = reads.stream().mapToInt(List::size).sum();
                for (; left > 0; left--) {
                    int c;
                    do {
                        c = random.nextInt(channels.size());
                    } while (next[c] == reads.get(c).size());
                    channels.get(c).writeInbound(
                            Unpooled.copiedBuffer(reads.get(c).get(next[c]++), StandardCharsets.ISO_8859_1));
                }
                channels.forEach(EmbeddedChannel::finish);
            } finally {
                channels.forEach(EmbeddedChannel::finishAndReleaseAll);
            }
            for (int c = 0; c < channels.size(); c++) {
                assertThat(seen.get(c)).as("%s", reads.get(c)).isEqualTo(decoded(DEFAULTS, reads.get(c), false));
            }
        }
    }

    /**
     * A value sent again under one of the names whose entries are kept is the string the last one made,
     * on any connection of the loop: ingress-nginx's {@code X-Code} and a client's {@code Accept} cost no
     * string after the first. Any other value is a new string with its own characters.
     */
    @Test
    void aValueSentAgainIsTheStringMadeBefore() {
        List<String> codes = new ArrayList<>();
        List<String> accepts = new ArrayList<>();
        List<EmbeddedChannel> channels = List.of(valuesOf(codes, accepts), valuesOf(codes, accepts));
        try {
            for (String read : List.of(
                    "GET / HTTP/1.1\r\nHost: a\r\nX-Code: 503\r\nAccept: application/json\r\n\r\n",
                    "GET / HTTP/1.1\r\nHost: a\r\nX-Code: 503\r\nAccept:  application/json \r\n\r\n",
                    "GET / HTTP/1.1\r\nHost: a\r\nX-Code: 404\r\nAccept: application/jsonx\r\n\r\n")) {
                for (EmbeddedChannel channel : channels) {
                    channel.writeInbound(Unpooled.copiedBuffer(read, StandardCharsets.ISO_8859_1));
                }
            }
        } finally {
            channels.forEach(EmbeddedChannel::finishAndReleaseAll);
        }
        assertThat(codes).containsExactly("503", "503", "503", "503", "404", "404");
        assertThat(accepts).containsExactly("application/json", "application/json", "application/json",
                "application/json", "application/jsonx", "application/jsonx");
        for (List<String> values : List.of(codes, accepts)) {
            assertThat(values.subList(1, 4)).allSatisfy(value -> assertThat(value).isSameAs(values.get(0)));
            assertThat(values.get(4)).isNotSameAs(values.get(0));
            assertThat(values.get(5)).isSameAs(values.get(4));
        }
    }

    /**
     * The last target and the last value of a kept name are kept whatever their length (a cookie or a
     * target of a few KiB, sent again, is the string made before), one of each: a different one in between
     * makes the next a new string.
     */
    @Test
    void longValuesAndTargetsSentAgainAreTheStringsMadeBefore() {
        String longTarget = "/" + "t".repeat(1500);
        String longCookie = "c=" + "v".repeat(1500);
        List<String> targets = new ArrayList<>();
        List<String> cookies = new ArrayList<>();
        // A scratch of its own, which the check of each head below (on the shared one) leaves alone.
        StrictRequestDecoder.HeadScratch own = new StrictRequestDecoder.HeadScratch();
        EmbeddedChannel channel = recording(new StrictRequestDecoder(DEFAULTS, null, own), new ArrayList<>(),
                (ctx, msg, seen) -> {
                    if (msg instanceof HttpRequest) {
                        targets.add(((HttpRequest) msg).uri());
                        cookies.add(((HttpRequest) msg).headers().get("Cookie"));
                    }
                });
        try {
            for (String[] request : new String[][] {
                {longTarget, longCookie}, {longTarget, longCookie}, {"/short", "c=1"}, {longTarget, longCookie}}) {
                String head = "GET " + request[0] + " HTTP/1.1\r\nHost: a\r\nCookie: " + request[1] + "\r\n\r\n";
                assertThat(takenWithoutNetty(DEFAULTS, head)).isTrue();
                channel.writeInbound(Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1));
            }
        } finally {
            channel.finishAndReleaseAll();
        }
        assertThat(targets).containsExactly(longTarget, longTarget, "/short", longTarget);
        assertThat(cookies).containsExactly(longCookie, longCookie, "c=1", longCookie);
        for (List<String> strings : List.of(targets, cookies)) {
            assertThat(strings.get(1)).isSameAs(strings.get(0));
            assertThat(strings.get(3)).isNotSameAs(strings.get(0));
        }
    }

    /**
     * A simple head's fields are added without the validators' second pass, which its check of form makes
     * needless; any other field is still validated, also after such an add.
     */
    @Test
    void onlyCheckedFieldsSkipTheValidators() {
        StrictRequestDecoder.RequestHeaders headers =
                new StrictRequestDecoder.RequestHeaders(DefaultHttpHeadersFactory.headersFactory());
        headers.addChecked(AsciiString.of("X-Checked"), -1, "a\u0000b");
        assertThat(headers.get("X-Checked")).isEqualTo("a\u0000b");
        assertThatThrownBy(() -> headers.add("X-Other", "a\u0000b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> headers.add("Bad Name", "b")).isInstanceOf(IllegalArgumentException.class);
        assertThat(headers.names()).containsExactly("X-Checked");
    }

    /**
     * Each name the decoder keeps as a constant, sent in its spelling, is stored as that constant whichever
     * reading takes the head (both find it by a hash of its bytes, one as it checks them), and any
     * other spelling of it as a copy of its own; the values are the values sent.
     */
    @Test
    void keptNamesAreTheirConstantsEitherWay() {
        List<AsciiString> kept = StrictRequestDecoder.keptNames();
        assertThat(kept).hasSizeGreaterThan(20).contains(AsciiString.of("X-Code"), AsciiString.of("User-Agent"));
        for (AsciiString name : kept) {
            if (name.contentEqualsIgnoreCase("Content-Length") || name.contentEqualsIgnoreCase("Transfer-Encoding")) {
                continue; // they frame a body: their heads are never simple
            }
            String other = name.toLowerCase().toString();
            String head = "GET / HTTP/1.1\r\nHost: a\r\n" + name + ": v1\r\n" + other + ": v2\r\n\r\n";
            assertThat(takenWithoutNetty(DEFAULTS, head)).as(head).isTrue();
            for (StrictRequestDecoder.HeadScratch scratch : new StrictRequestDecoder.HeadScratch[] {SCRATCH, null}) {
                List<Map.Entry<CharSequence, CharSequence>> fields = new ArrayList<>();
                EmbeddedChannel channel = recording(new StrictRequestDecoder(DEFAULTS, null, scratch),
                        new ArrayList<>(), (ctx, msg, seen) -> {
                            if (msg instanceof HttpRequest) {
                                ((HttpRequest) msg).headers().iteratorCharSequence()
                                        .forEachRemaining(field -> fields.add(Map.entry(field.getKey(),
                                                field.getValue())));
                            }
                        });
                try {
                    channel.writeInbound(Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1));
                } finally {
                    channel.finishAndReleaseAll();
                }
                String reading = scratch == null ? "Netty's reading of " + name : "the simple reading of " + name;
                assertThat(fields).as(reading).hasSize(2);
                assertThat((Object) fields.get(0).getKey()).as(reading).isSameAs(StrictRequestDecoder.knownName(
                        name.toString()));
                assertThat((Object) fields.get(1).getKey()).as(reading).isNotSameAs(fields.get(0).getKey());
                assertThat(fields.get(1).getKey().toString()).as(reading).isEqualTo(other);
                assertThat(fields.get(0).getValue().toString() + fields.get(1).getValue()).as(reading)
                        .isEqualTo("v1v2");
            }
        }
    }

    /** A connection that writes down each request's X-Code and Accept values, the strings themselves. */
    private static EmbeddedChannel valuesOf(List<String> codes, List<String> accepts) {
        return recording(new StrictRequestDecoder(DEFAULTS, null, SCRATCH), new ArrayList<>(), (ctx, msg, seen) -> {
            if (msg instanceof HttpRequest) {
                codes.add(((HttpRequest) msg).headers().get("X-Code"));
                accepts.add(((HttpRequest) msg).headers().get("Accept"));
            }
        });
    }

    /** A request; in half of them every part is one a simple head may have, the others mix in the rest. */
    private static String generatedRequest(Random random) {
        boolean clean = random.nextBoolean();
        StringBuilder head = new StringBuilder();
        if (!clean && random.nextInt(10) == 0) {
            head.append("\r\n");
        }
        head.append(pick(random, clean, 10, "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH",
                "TRACE", "CONNECT", "get", "BREW", "GE T"));
        head.append(pick(random, clean, 1, " ", "  ", "\t"));
        head.append(pick(random, clean, 6, "/", "/healthz", "/a/b?c=d&e=f", "*", "/%7e",
                "/" + "x".repeat(random.nextInt(60)), "", "/\u00e9", "/a b"));
        head.append(pick(random, clean, 1, " ", "  "));
        head.append(pick(random, clean, 3, "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "http/1.1",
                "HTTP/1.1 ", "HTTP/1."));
        String eol = pick(random, clean, 1, "\r\n", "\r\n", "\n");
        head.append(eol);
        int headers = random.nextInt(6);
        boolean body = false;
        for (int h = 0; h < headers; h++) {
            String name = pick(random, clean, 10, "Host", "host", "HOST", "Accept", "X-Code", "x-code",
                    "User-Agent", "X-Forwarded-For", "X-Unknown-" + random.nextInt(3),
                    "X-" + "n".repeat(random.nextInt(40)), "Content-Length", "content-length", "Transfer-Encoding",
                    "Sec-WebSocket-Key1", "Sec-WebSocket-Key2", "Bad Name", "", "Host ", "X\u00e9");
            String value = pick(random, clean, 9, "", " ", "a", "127.0.0.1:8080", " spaced value ", "tab\there\t",
                    "v".repeat(random.nextInt(50)), "0", "3", "caf\u00e9", "a\u007fb", "a\u0001b", "chunked");
            if (name.equalsIgnoreCase("content-length") || name.equals("Transfer-Encoding")) {
                body = true;
            }
            head.append(name).append(pick(random, clean, 2, ":", ": ", " :", "")).append(value);
            head.append(!clean && random.nextInt(20) == 0 ? "\r\n folded" : "");
            head.append(pick(random, clean, 1, "\r\n", "\r\n", "\r\n", "\n"));
        }
        head.append(eol);
        if (body) {
            head.append(pick(random, false, 0, "abc", "0\r\n\r\n", "3\r\nabc\r\n0\r\n\r\n", ""));
        }
        return head.toString();
    }

    /** One of the choices; only of the first {@code valid} when {@code clean}. */
    private static String pick(Random random, boolean clean, int valid, String... choices) {
        return choices[random.nextInt(clean ? valid : choices.length)];
    }

    private static List<String> split(String bytes, Random random) {
        List<String> reads = new ArrayList<>();
        int from = 0;
        int cuts = random.nextInt(4);
        for (int c = 0; c < cuts && from < bytes.length(); c++) {
            int at = from + random.nextInt(bytes.length() - from + 1);
            reads.add(bytes.substring(from, at));
            from = at;
        }
        reads.add(bytes.substring(from));
        reads.removeIf(String::isEmpty);
        return reads;
    }

    /** Whether the decoder's own reading takes these bytes as the first request, Netty untouched. */
    private static boolean takenWithoutNetty(HttpDecoderConfig config, String bytes) {
        StrictRequestDecoder decoder = new StrictRequestDecoder(config, null, SCRATCH);
        ByteBuf in = Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1);
        try {
            List<Object> out = new ArrayList<>();
            int before = in.readerIndex();
            boolean taken = decoder.decodeSimpleHead(in, out);
            if (!taken) {
                assertThat(out).as("nothing made of declined bytes").isEmpty();
                assertThat(in.readerIndex()).as("nothing read of declined bytes").isEqualTo(before);
            }
            return taken;
        } finally {
            in.release();
        }
    }

    private static void assertSameBothWays(HttpDecoderConfig config, List<String> reads) {
        assertThat(decoded(config, reads, true)).as("%s", reads).isEqualTo(decoded(config, reads, false));
    }

    /** Every message the decoder hands on, written down as it is handed on (the request is reused). */
    private static List<String> decoded(HttpDecoderConfig config, List<String> reads, boolean simpleHeads) {
        List<String> seen = new ArrayList<>();
        EmbeddedChannel channel = recording(config, simpleHeads ? SCRATCH : null, seen);
        try {
            for (String read : reads) {
                channel.writeInbound(Unpooled.copiedBuffer(read, StandardCharsets.ISO_8859_1));
            }
            channel.finish();
        } finally {
            channel.finishAndReleaseAll();
        }
        return seen;
    }

    /** A connection whose decoder's messages are written down in {@code seen} as they are handed on. */
    private static EmbeddedChannel recording(HttpDecoderConfig config, StrictRequestDecoder.HeadScratch scratch,
                                             List<String> seen) {
        return recording(new StrictRequestDecoder(config, null, scratch), seen, (ctx, msg, s) -> describe(msg, s));
    }

    /** A connection whose decoder's messages {@code recorder} writes down in {@code seen}, then released. */
    private static EmbeddedChannel recording(StrictRequestDecoder decoder, List<String> seen, Recorder recorder) {
        return new EmbeddedChannel(decoder, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                try {
                    recorder.record(ctx, msg, seen);
                } finally {
                    ReferenceCountUtil.release(msg);
                }
            }
        });
    }

    /** Writes down what a handler after the decoder is handed. */
    private interface Recorder {
        void record(ChannelHandlerContext ctx, Object msg, List<String> seen);
    }

    /**
     * Writes down a message as what the router reads of it: a request's head, and a content or a request's
     * end, each on its own (a simple head's request is both, in one message; Netty hands on two). Class
     * names are left out: the router reads the messages through these interfaces only.
     */
    private static void describe(Object msg, List<String> seen) {
        if (msg instanceof HttpRequest) {
            HttpRequest request = (HttpRequest) msg;
            StringBuilder text = new StringBuilder("head").append(result(request));
            text.append(' ').append(request.method()).append(' ').append(request.uri()).append(' ')
                    .append(request.protocolVersion()).append(" validHost=")
                    .append(StrictRequestDecoder.RequestHeaders.hasValidHost(request.headers(), true)).append('/')
                    .append(StrictRequestDecoder.RequestHeaders.hasValidHost(request.headers(), false));
            for (Map.Entry<String, String> field : request.headers()) {
                text.append(" [").append(field.getKey()).append('=').append(field.getValue()).append(']');
            }
            seen.add(text.toString());
        }
        if (msg instanceof HttpContent) {
            HttpContent content = (HttpContent) msg;
            StringBuilder text = new StringBuilder(msg instanceof LastHttpContent ? "end" : "content")
                    .append(result(content)).append(" content=")
                    .append(content.content().toString(StandardCharsets.ISO_8859_1));
            if (msg instanceof LastHttpContent) {
                text.append(" trailers=").append(((LastHttpContent) msg).trailingHeaders().entries());
            }
            seen.add(text.toString());
        }
        if (!(msg instanceof HttpObject)) {
            seen.add(msg.getClass().getSimpleName());
        }
    }

    private static String result(HttpObject object) {
        return " result=" + (object.decoderResult().isSuccess() ? "success"
                : object.decoderResult().isFailure() ? "failure " + object.decoderResult().cause() : "none");
    }
}
