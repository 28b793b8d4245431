package ai.echo.defaultbackend.it;

import static ai.echo.defaultbackend.it.Expected.BAD_REQUEST;
import static ai.echo.defaultbackend.it.Expected.HEADERS_TOO_LARGE;
import static ai.echo.defaultbackend.it.Expected.NOT_FOUND;
import static ai.echo.defaultbackend.it.Expected.OK;
import static ai.echo.defaultbackend.it.Expected.URI_TOO_LONG;
import static ai.echo.defaultbackend.it.Expected.response;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a publicly reachable endpoint receives: malformed requests, oversized heads, huge bodies, slow and
 * idle clients. Timeouts are shortened through the flags so that the tests run in seconds.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputIT {

    private static final Duration READ_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(2);

    private ServerProcess server;

    @BeforeAll
    void start() {
        server = ServerProcess.start("--read-header-timeout=2s", "--read-timeout=3s", "--idle-timeout=2s",
                "--write-timeout=3s");
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GARBAGE\r\n\r\n",
            "GET / HTTP/9.9\r\nHost: a\r\n\r\n",
            "GET / HTTPS/1.1\r\nHost: a\r\n\r\n",
            "G\"T / HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /\u0007 HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /\u00ff HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n:x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nabcdef",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nnot-hex\r\n\r\n",
            "\u0000GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            "\n\u0001GET / HTTP/1.1\nHost: a\n\n",
            "GET / HTTP/1.1\rHost: a\r\n\r\n",
    })
    void malformedRequestsGet400AndAClose(String request) {
        try (RawConnection connection = RawConnection.open(server.port())) {
            connection.send(request + "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(connection.readToEnd()).isEqualTo(BAD_REQUEST);
        }
    }

    @Test
    void afterA400TheServerLingersThenClosesEvenIfTheClientStaysOpen() {
        try (RawConnection connection = RawConnection.open(server.port())) {
            connection.send("GARBAGE\r\n\r\n");
            assertThat(connection.readToEnd()).as("answer, then the server's half-close").isEqualTo(BAD_REQUEST);
            // The client keeps its end open and goes on sending; the server drops it and, after its
            // linger, closes its side for good: the connection is gone from its open-connection gauge.
            connection.send("more bytes nobody will read\r\n");
            ServerProcess.await("the lingering connection to be closed", Duration.ofMillis(2000),
                    () -> server.openTrafficConnections() == 0);
        }
    }

    @Test
    void aLastRequestReadToItsEndIsClosedAtOnceWithoutLingering() {
        try (RawConnection connection = RawConnection.open(server.port())) {
            connection.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            assertThat(connection.readToEnd())
                    .isEqualTo(response("HTTP/1.1 404 Not Found", "default backend - 404", "close", false));
            // Nothing was left unread, so the socket is closed outright (as Go does): the next bytes get a
            // reset at once, where a lingering close would drop them for half a second.
            assertThat(connection.writeRefusedWithin(Duration.ofMillis(300))).isTrue();
        }
    }

    @Test
    void aRequestPipelinedBehindAConnectionCloseIsDrainedNotReset() {
        try (RawConnection connection = RawConnection.open(server.port())) {
            connection.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                    + "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(connection.readToEnd()).as("one answer, then the half-close")
                    .isEqualTo(response("HTTP/1.1 404 Not Found", "default backend - 404", "close", false));
            assertThat(connection.writeRefusedWithin(Duration.ofMillis(300)))
                    .as("unread input was known: the server lingers, reading and dropping").isFalse();
        }
    }

    @Test
    void anOverlongRequestLineGets414AndAClose() {
        try (RawConnection connection = RawConnection.open(server.port())) {
            connection.send("GET /" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(connection.readToEnd()).isEqualTo(URI_TOO_LONG);
        }
    }

    @Test
    void overlongHeadersGet431AndAClose() {
        try (RawConnection connection = RawConnection.open(server.port())) {
            StringBuilder request = new StringBuilder("GET / HTTP/1.1\r\nHost: a\r\n");
            for (int i = 0; i < 200; i++) {
                request.append("X-Filler-").append(i).append(": ").append("v".repeat(300)).append("\r\n");
            }
            connection.send(request.append("\r\n").toString());
            assertThat(connection.readToEnd()).isEqualTo(HEADERS_TOO_LARGE);
        }
    }

    /**
     * An upload to the catch-all is not waited for once it is 256 KiB or more, as Go's server (1.5) waits for
     * none (maxPostHandlerReadBytes): a declared one is answered on its head, a chunked one once more than
     * that has come, with {@code Connection: close}, and the rest is not read. A slow upload gets its 404
     * instead of being cut off at the read timeout with nothing.
     */
    @Test
    void anUploadOf256KiBOrMoreIsAnsweredWithoutWaitingForItsEnd() throws IOException {
        String notFoundClose = response("HTTP/1.1 404 Not Found", "default backend - 404", "close", false);
        try (RawConnection connection = RawConnection.open(server.port())) {
            connection.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1073741824\r\n\r\nfirst bytes");
            assertThat(connection.readToEnd()).as("a declared GiB, answered on its head").isEqualTo(notFoundClose);
        }
        try (RawConnection connection = RawConnection.open(server.port())) {
            OutputStream out = connection.output();
            out.write("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            byte[] chunk = chunk(64 << 10);
            for (int i = 0; i < 5; i++) {
                out.write(chunk); // 320 KiB, and no last chunk
            }
            out.flush();
            assertThat(connection.readToEnd()).as("a chunked upload past 256 KiB").isEqualTo(notFoundClose);
        }
    }

    private static byte[] chunk(int size) {
        byte[] header = (Integer.toHexString(size) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] chunk = new byte[header.length + size + 2];
        System.arraycopy(header, 0, chunk, 0, header.length);
        java.util.Arrays.fill(chunk, header.length, header.length + size, (byte) 'x');
        chunk[chunk.length - 2] = '\r';
        chunk[chunk.length - 1] = '\n';
        return chunk;
    }

    @Test
    void expectContinueGetsTheFinalAnswerWithoutContinue() {
        try (RawConnection connection = RawConnection.open(server.port())) {
            connection.send("PUT /file HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\nExpect: 100-continue\r\n\r\n");
            assertThat(connection.readToEnd())
                    .isEqualTo(response("HTTP/1.1 404 Not Found", "default backend - 404", "close", false));
        }
    }

    @Test
    void anIdleKeepAliveConnectionIsClosedAtTheIdleTimeout() {
        try (RawConnection connection = RawConnection.open(server.port())) {
            connection.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(connection.readResponse(false)).isEqualTo(OK);
            long start = System.nanoTime();
            assertThat(connection.closedWithin(IDLE_TIMEOUT.plusSeconds(3))).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(IDLE_TIMEOUT.minusMillis(300));
        }
    }

    @Test
    void aSlowBodyIsClosedAtTheReadTimeout() {
        try (RawConnection connection = RawConnection.open(server.port())) {
            connection.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nsome");
            long start = System.nanoTime();
            assertThat(connection.closedWithin(READ_TIMEOUT.plusSeconds(3))).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(READ_TIMEOUT.minusMillis(500));
        }
    }

    /**
     * A request pipelined behind another and left unfinished is a request under way, not an idle
     * connection: its head is due within the header timeout from the answer before it (as Go's server has
     * it), however long the idle timeout. Otherwise one pipelined byte would buy a slow client the idle
     * timeout and then the header timeout on top.
     */
    @Test
    void aPipelinedRequestLeftUnfinishedIsClosedAtTheHeaderTimeoutNotTheIdleOne() {
        Duration headerTimeout = Duration.ofSeconds(2);
        try (ServerProcess target = ServerProcess.start("--read-header-timeout=2s", "--read-timeout=60s",
                "--idle-timeout=60s");
             RawConnection connection = RawConnection.open(target.port())) {
            connection.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n");
            assertThat(connection.readResponse(false)).isEqualTo(OK);
            long start = System.nanoTime();
            assertThat(connection.closedWithin(headerTimeout.plusSeconds(3))).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(headerTimeout.minusMillis(300));
        }
    }

    /**
     * A client that sends requests but never reads the answers: they fill the sockets, then the server's
     * queue, and the connection is closed once the queue has stayed over its limit for the write timeout.
     * The other timeouts are too long to end it first. The client keeps writing until the server's reset
     * makes a write fail; the selector wakes on that error, so nothing is polled.
     */
    @Test
    void aClientThatStopsReadingIsClosedAtTheWriteTimeout() throws IOException {
        Duration writeTimeout = Duration.ofSeconds(3);
        byte[] requests = "GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(1000).getBytes(StandardCharsets.US_ASCII);
        try (ServerProcess target = ServerProcess.start("--write-timeout=3s", "--read-header-timeout=60s",
                "--read-timeout=60s", "--idle-timeout=60s");
             SocketChannel client = SocketChannel.open();
             Selector selector = Selector.open()) {
            client.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
            client.connect(new InetSocketAddress("127.0.0.1", target.port()));
            client.configureBlocking(false);
            client.register(selector, SelectionKey.OP_WRITE);
            long start = System.nanoTime();
            long deadline = start + writeTimeout.plusSeconds(10).toNanos();
            ByteBuffer out = ByteBuffer.wrap(requests);
            long sent = 0;
            Duration closedAfter = null;
            while (closedAfter == null && System.nanoTime() - deadline < 0) {
                selector.select(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                selector.selectedKeys().clear();
                try {
                    if (!out.hasRemaining()) {
                        out.rewind();
                    }
                    sent += client.write(out);
                } catch (IOException closed) {
                    closedAfter = Duration.ofNanos(System.nanoTime() - start);
                }
            }
            assertThat(closedAfter).as("closed within %s of the first request (%d bytes of requests sent)",
                    writeTimeout.plusSeconds(10), sent).isNotNull();
            assertThat(closedAfter).isGreaterThanOrEqualTo(writeTimeout);
            assertThat(sent).as("the server stopped reading while its answers were not read")
                    .isLessThan(64L * 1024 * 1024);
        }
    }

    @Test
    void slowlorisConnectionsAreClosedWhileEveryoneElseIsServed() {
        int count = 2000;
        Duration headerTimeout = Duration.ofSeconds(6);
        List<RawConnection> slow = new ArrayList<>();
        try (ServerProcess target = ServerProcess.start("--read-header-timeout=6s")) {
            long rssBefore = target.rssKib();
            for (int i = 0; i < count; i++) {
                slow.add(RawConnection.open(target.port()).send("GET / HTTP/1.1\r\nHost: a\r\n"));
            }
            // Trickle a header line on each while checking that others are still answered promptly.
            for (int round = 0; round < 3; round++) {
                for (RawConnection connection : slow) {
                    connection.send("X-Slow-" + round + ": y\r\n");
                }
                long t0 = System.nanoTime();
                assertThat(RawConnection.exchange(target.port(), "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"))
                        .isEqualTo(OK);
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("a /healthz among %d slow clients", count)
                        .isLessThan(Duration.ofSeconds(2));
            }
            long rssWith = target.rssKib();
            assertThat(rssWith - rssBefore).as("memory for %d half-sent requests, KiB", count)
                    .isLessThan(64 * 1024);
            for (RawConnection connection : slow) {
                assertThat(connection.closedWithin(headerTimeout.plusSeconds(10))).isTrue();
            }
            assertThat(RawConnection.exchange(target.port(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
                    .isEqualTo(NOT_FOUND);
        } finally {
            for (RawConnection connection : slow) {
                try {
                    connection.close();
                } catch (UncheckedIOException ignored) {
                    // already reset by the server
                }
            }
        }
    }
}
