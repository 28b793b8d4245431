package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The server in process, on a real socket: what the accepted connections are set up with. */
class BackendServerTest {

    private static BackendConfig config(String transport, String... more) {
        List<String> args = new ArrayList<>(List.of("--port=0", "--svc-port=0", "--bind-address=127.0.0.1",
                "--transport=" + transport, "--error-files-path=/nonexistent"));
        args.addAll(List.of(more));
        return ((BackendConfig.Run) BackendConfig.parse(args, Map.of())).config();
    }

    /** Counts the connections a listening channel accepts each time it is ready. */
    private static final class AcceptBatches extends ChannelInboundHandlerAdapter {
        final CountDownLatch accepted;
        volatile int largest;
        private int current;

        AcceptBatches(int expected) {
            accepted = new CountDownLatch(expected);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object child) {
            current++;
            ctx.fireChannelRead(child);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            largest = Math.max(largest, current);
            for (; current > 0; current--) {
                accepted.countDown();
            }
            ctx.fireChannelReadComplete();
        }
    }

    /**
     * Connections waiting in the kernel's accept queue are taken many at a time, not one per turn of the
     * event loop (Netty 4.2's epoll listener on its own takes one, NIO's sixteen): under a load test's
     * burst of 1,000 connects, the last ones otherwise waited seconds.
     */
    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    void connectionsWaitingToBeAcceptedAreTakenManyAtATime(String transport) throws Exception {
        int burst = 64;
        try (BackendServer server = BackendServer.start(config(transport))) {
            Channel listener = server.trafficChannel();
            AcceptBatches batches = new AcceptBatches(burst);
            listener.pipeline().addFirst(batches);
            // Hold the listener's event loop while the connections complete their handshakes in the kernel.
            CountDownLatch connected = new CountDownLatch(1);
            CountDownLatch holding = new CountDownLatch(1);
            listener.eventLoop().execute(() -> {
                holding.countDown();
                try {
                    connected.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
            List<Socket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < burst; i++) {
                    clients.add(new Socket("127.0.0.1", server.port()));
                }
                connected.countDown();
                assertThat(batches.accepted.await(10, TimeUnit.SECONDS)).as("all accepted").isTrue();
                assertThat(batches.largest).as(transport).isEqualTo(burst);
            } finally {
                connected.countDown();
                for (Socket client : clients) {
                    client.close();
                }
            }
        }
    }

    /**
     * Many small requests on one connection do not shrink its reads below {@link BackendInitializer#MIN_READ}:
     * Netty's default sizing follows them down to their own length, and then a request that fills its read
     * buffer exactly costs a second read that finds nothing.
     */
    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    void smallRequestsDoNotShrinkAConnectionsReads(String transport) throws Exception {
        // 80 bytes, a size Netty's default sizing steps through (the suite's X-Code request is as long): with
        // that sizing the guess falls from 2048 one step every second read, reaching 80 by the 60th, after
        // which one read in eight fills it and is followed by an empty one.
        String unpadded = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: \r\n\r\n";
        byte[] request = unpadded.replace("X-Pad: ", "X-Pad: " + "x".repeat(80 - unpadded.length()))
                .getBytes(StandardCharsets.US_ASCII);
        assertThat(request).hasSize(80);
        try (BackendServer server = BackendServer.start(config(transport));
             Socket client = new Socket("127.0.0.1", server.port())) {
            client.setSoTimeout(10_000);
            InputStream in = client.getInputStream();
            for (int i = 0; i < 80; i++) {
                client.getOutputStream().write(request);
                readResponse(in);
            }
            Channel accepted = server.connections().iterator().next();
            int guess = accepted.eventLoop().submit(() -> accepted.unsafe().recvBufAllocHandle().guess())
                    .get(10, TimeUnit.SECONDS);
            assertThat(guess).as(transport).isGreaterThanOrEqualTo(BackendInitializer.MIN_READ);
        }
    }

    /** Reads one response of the 1.5 404 (its Content-Length of 21) to its end. */
    private static void readResponse(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            assertThat(b).as("the connection closed before the end of a response").isNotNegative();
            head.append((char) b);
        }
        assertThat(head.toString()).startsWith("HTTP/1.1 404 Not Found\r\n").contains("Content-Length: 21\r\n");
        assertThat(in.readNBytes(21)).hasSize(21);
    }

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    void acceptedConnectionsHaveNagleOff(String transport) throws IOException {
        // A pipelined client's second answer must not wait for the ACK of the first (Nagle's algorithm).
        try (BackendServer server = BackendServer.start(config(transport));
             Socket client = new Socket("127.0.0.1", server.port())) {
            client.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = client.getInputStream();
            byte[] head = in.readNBytes(15);
            assertThat(new String(head, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200 OK");
            assertThat(server.connections().size()).isEqualTo(1);
            for (Channel accepted : server.connections()) {
                assertThat(accepted.config().getOption(ChannelOption.TCP_NODELAY)).as(transport).isTrue();
            }
        }
    }

    /**
     * A connection the listener accepted just before the drain began, but whose registration with its own
     * event loop had not run yet, is drained like the others: its request is answered (and the answer says
     * {@code Connection: close}) before the drain ends, rather than the connection being closed unanswered
     * when the server shuts its event loops down.
     */
    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    void aConnectionAcceptedButNotYetRegisteredWhenTheDrainBeginsIsAnswered(String transport) throws Exception {
        BackendServer server = BackendServer.start(config(transport, "--io-threads=2"));
        ExecutorService drainer = Executors.newSingleThreadExecutor();
        CountDownLatch release = new CountDownLatch(1);
        Future<Boolean> drained = null;
        try (Socket client = new Socket()) {
            Channel listener = server.trafficChannel();
            // Hold the other event loop, where the listener hands its first connection (round robin).
            SingleThreadEventExecutor held = null;
            for (EventExecutor loop : listener.eventLoop().parent()) {
                if (loop != listener.eventLoop()) {
                    held = (SingleThreadEventExecutor) loop;
                }
            }
            CountDownLatch holding = new CountDownLatch(1);
            held.execute(() -> {
                holding.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();

            client.connect(new InetSocketAddress("127.0.0.1", server.port()), 10_000);
            client.setSoTimeout(10_000);
            client.getOutputStream().write("GET /x HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            // The listener accepts it and hands its registration to the held loop, as a task queued there.
            SingleThreadEventExecutor loop = held;
            Await.until("the connection's registration to wait on the held loop", () -> loop.pendingTasks() > 0);
            assertThat(loop.pendingTasks()).isEqualTo(1);
            assertThat(server.connections().size()).as("not registered, so not among the connections yet").isZero();

            Future<Boolean> drain = drainer.submit(() -> server.drain(Duration.ofSeconds(10)));
            drained = drain;
            // Let the held loop go once the drain has either queued something behind the registration (it waits
            // for it) or begun to shut the event loops down (it did not).
            Await.until("the drain to wait for the registration or to shut the loops down",
                    () -> loop.pendingTasks() >= 2 || loop.isShuttingDown() || drain.isDone());
            release.countDown();

            String answer = new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(answer).startsWith("HTTP/1.1 404 Not Found\r\n").contains("\r\nConnection: close\r\n")
                    .endsWith("default backend - 404");
            assertThat(drain.get(10, TimeUnit.SECONDS)).as("drained within the timeout").isTrue();
        } finally {
            release.countDown();
            if (drained == null) {
                server.close();
            } else {
                drained.get(20, TimeUnit.SECONDS);
            }
            drainer.shutdownNow();
        }
    }
}
