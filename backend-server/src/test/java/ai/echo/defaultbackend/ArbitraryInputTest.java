package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Whatever a client sends, made of the pieces requests are made of and of the bytes that break them, cut
 * into reads anywhere: the server answers only with its own statuses, a refusal only last and followed by
 * the close, never throws, and leaks no buffer (the suite runs Netty's leak detector at paranoid and fails
 * on a leak). Seeded, so a failure names its input and runs again the same.
 */
class ArbitraryInputTest {

    private static final String[] PIECES = {
        "GET", "POST", "HEAD", "get", " ", "  ", "/", "/healthz", "?q=1", "*", "http://a/healthz", "HTTP/1.1",
        "HTTP/1.0", "HTTP/2.0", "\r\n", "\n", "\r", "\r\n\r\n", "\n\n", "Host: a", "Host:", ":", "X-Code: 503",
        "Accept: text/plain", "Content-Length: 3", "Content-Length: 0", "Content-Length: -1",
        "Transfer-Encoding: chunked", "3\r\nabc\r\n0\r\n\r\n", "abc", "\0", "\t", "\u007f", "\u00e9",
        "Connection: close", "Connection: keep-alive", "Expect: 100-continue", "0", "x",
    };
    private static final Pattern STATUS = Pattern.compile("HTTP/1\\.[01] (\\d{3}) ");
    private static final long SEED = 20261128L;
    private static final int CASES = 5_000;

    @Test
    void everyInputGetsTheServersOwnAnswersAndARefusalOnlyLastThenTheClose() {
        Random random = new Random(SEED);
        int refused = 0;
        for (int i = 0; i < CASES; i++) {
            StringBuilder input = new StringBuilder();
            for (int pieces = 1 + random.nextInt(30); pieces > 0; pieces--) {
                input.append(PIECES[random.nextInt(PIECES.length)]);
            }
            String bytes = input.toString();
            EmbeddedChannel channel = new EmbeddedChannel(new BackendInitializer(BackendConfig.DEFAULTS,
                    new Responses(), new ServerState(), new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE),
                    Integer.MAX_VALUE));
            try {
                for (int from = 0, to; from < bytes.length() && channel.isOpen(); from = to) {
                    to = Math.min(bytes.length(), from + 1 + random.nextInt(bytes.length()));
                    Wire.send(channel, bytes.substring(from, to));
                }
                String answers = Wire.received(channel);
                List<String> statuses = new ArrayList<>();
                for (Matcher status = STATUS.matcher(answers); status.find(); ) {
                    statuses.add(status.group(1));
                }
                String described = "case " + i + ": " + Wire.printable(bytes) + " -> " + Wire.printable(answers);
                for (int s = 0; s < statuses.size() - 1; s++) {
                    assertThat(statuses.get(s)).as(described).isIn("200", "404");
                }
                if (!statuses.isEmpty() && !List.of("200", "404").contains(statuses.get(statuses.size() - 1))) {
                    assertThat(statuses.get(statuses.size() - 1)).as(described).isIn("400", "414", "431");
                    assertThat(channel.isOpen()).as(described).isFalse();
                    refused++;
                }
            } finally {
                channel.finishAndReleaseAll();
            }
        }
        assertThat(refused).as("inputs refused: the pieces make bad requests often enough").isGreaterThan(CASES / 4);
    }
}
