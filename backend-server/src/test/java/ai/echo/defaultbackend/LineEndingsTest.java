package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The same requests in every spelling of their line ends the server accepts, and in reads cut anywhere: the
 * answers must be the same bytes. A lone LF ends a line as CRLF does (Go's server reads lines so); the
 * decoder reads CRLF heads itself and leaves the others to Netty's lenient parser, so the two paths are
 * compared here request by request, on one connection, pipelined. Then the same with a control character
 * put where a line begins: the answers before it stand, and it gets the 400 and the close.
 *
 * <p>Seeded, so a failure names its case and runs again the same.
 */
class LineEndingsTest {

    /** Requests that each end their head and leave the connection open, as a client pipelines them. */
    private static final List<String> REQUESTS = List.of(
            "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /x?q=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n",
            "HEAD /healthz HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n",
            "POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
            "PUT /y HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            "GET /z HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            "DELETE http://example.com/healthz HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 1.2.3.4\r\n"
                    + "X-Forwarded-For: 5.6.7.8\r\n\r\n",
            "\r\nGET /after-a-blank-line HTTP/1.1\r\nHost: a\r\n\r\n");

    private static final long SEED = 20261128L;
    private static final int CASES = 300;

    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @AfterEach
    void releaseEverything() {
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    private EmbeddedChannel open() {
        BackendInitializer initializer = new BackendInitializer(BackendConfig.DEFAULTS, new Responses(),
                new ServerState(), new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE), Integer.MAX_VALUE);
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.pipeline().addLast(initializer);
        channels.add(channel);
        return channel;
    }

    /** The answers to {@code bytes} sent in the given pieces, Dates aside, and whether the connection closed. */
    private String answers(String bytes, List<Integer> cuts) {
        EmbeddedChannel channel = open();
        int from = 0;
        List<Integer> ends = new ArrayList<>(cuts);
        ends.add(bytes.length());
        for (int end : ends) {
            if (channel.isOpen()) { // what a client sends after the close is never read
                Wire.send(channel, bytes.substring(from, end));
            }
            from = end;
        }
        return Wire.received(channel) + (channel.isOpen() ? "" : "<closed>");
    }

    /**
     * {@code pipelined} with each line end of each head (a blank line before it included; a body's chunk
     * framing not) left as CRLF or made a lone LF, at random.
     */
    private static String respell(String pipelined, Random random) {
        StringBuilder out = new StringBuilder();
        for (String request : splitRequests(pipelined)) {
            int headEnd = request.indexOf("\r\n\r\n", request.startsWith("\r\n") ? 2 : 0) + 4;
            int at = 0;
            for (int crlf = request.indexOf("\r\n"); crlf >= 0 && crlf < headEnd; crlf = request.indexOf("\r\n", at)) {
                out.append(request, at, crlf).append(random.nextBoolean() ? "\r\n" : "\n");
                at = crlf + 2;
            }
            out.append(request.substring(at));
        }
        return out.toString();
    }

    private static List<Integer> randomCuts(int length, Random random) {
        List<Integer> cuts = new ArrayList<>();
        int at = 0;
        while (at < length && cuts.size() < 6) {
            at += 1 + random.nextInt(Math.max(1, length / 3));
            if (at < length) {
                cuts.add(at);
            }
        }
        return cuts;
    }

    private static String pipelined(Random random, int count) {
        StringBuilder requests = new StringBuilder();
        for (int i = 0; i < count; i++) {
            requests.append(REQUESTS.get(random.nextInt(REQUESTS.size())));
        }
        return requests.toString();
    }

    @Test
    void everySpellingOfTheLineEndsAndEveryCutGetsTheSameAnswers() {
        Random random = new Random(SEED);
        for (int i = 0; i < CASES; i++) {
            String crlf = pipelined(random, 1 + random.nextInt(4));
            String expected = answers(crlf, List.of());
            assertThat(expected).as("case %d answers something", i).startsWith("HTTP/1.");

            String bytes = respell(crlf, random);
            assertThat(answers(bytes, randomCuts(bytes.length(), random)))
                    .as("case %d: %s", i, Wire.printable(bytes)).isEqualTo(expected);
        }
    }

    @Test
    void aControlCharacterWhereALineBeginsIsRefusedAfterTheAnswersBeforeIt() {
        Random random = new Random(SEED + 1);
        for (int i = 0; i < CASES; i++) {
            String before = pipelined(random, random.nextInt(3));
            String expectedBefore = before.isEmpty() ? "" : answers(before, List.of()).replace("<closed>", "");
            char control = (char) (random.nextBoolean() ? random.nextInt(0x20) : 0x7f);
            if (control == '\r' || control == '\n') {
                control = '\0';
            }
            String bad = control + "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
            String bytes = respell(before, random) + (random.nextBoolean() ? "\n" : "") + bad;
            String got = answers(bytes, randomCuts(bytes.length(), random));
            assertThat(got).as("case %d: %s", i, Wire.printable(bytes))
                    .startsWith(expectedBefore)
                    .endsWith("HTTP/1.1 400 Bad Request\r\nDate: <date>\r\nContent-Length: 15\r\n"
                            + "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
                            + "400 Bad Request<closed>");
        }
    }

    /** The requests of a pipelined string of {@link #REQUESTS}, in order. */
    private static List<String> splitRequests(String pipelined) {
        List<String> requests = new ArrayList<>();
        int at = 0;
        while (at < pipelined.length()) {
            String next = null;
            for (String request : REQUESTS) {
                if (pipelined.startsWith(request, at)) {
                    next = request;
                    break;
                }
            }
            assertThat(next).as("a known request at %d", at).isNotNull();
            requests.add(next);
            at += next.length();
        }
        return requests;
    }
}
