package ai.echo.defaultbackend.it;

import static ai.echo.defaultbackend.it.Expected.NOT_FOUND;
import static ai.echo.defaultbackend.it.Expected.OK;
import static ai.echo.defaultbackend.it.Expected.response;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Start-up, flags, environment, exit codes, the health-check subcommand and the graceful stop. */
class LifecycleIT {

    private static final Duration EXIT = Duration.ofSeconds(30);

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"-port P", "--port P", "-port=P", "--port=P"})
    void acceptsFlagsInAllFourSpellings(String spelling) {
        int port = freePort();
        List<String> args = new ArrayList<>(List.of(spelling.replace("P", Integer.toString(port)).split(" ")));
        args.add("--svc-port=0");
        try (ServerProcess server = ServerProcess.launch(args).awaitStarted()) {
            assertThat(server.port()).isEqualTo(port);
            assertThat(RawConnection.exchange(port, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(OK);
        }
    }

    @Test
    void readsEnvironmentVariablesAndFlagsWin() {
        int envPort = freePort();
        int envSvcPort = freePort();
        try (ServerProcess server = ServerProcess.launch(null, List.of(), List.of(),
                Map.of("PORT", Integer.toString(envPort), "SVC_PORT", Integer.toString(envSvcPort),
                        "TRANSPORT", "nio")).awaitStarted()) {
            assertThat(server.port()).isEqualTo(envPort);
            assertThat(server.svcPort()).isEqualTo(envSvcPort);
            assertThat(server.transport()).isEqualTo("nio");
            assertThat(RawConnection.exchange(envPort, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(NOT_FOUND);
        }
        int flagPort = freePort();
        try (ServerProcess server = ServerProcess.launch(null, List.of(),
                List.of("--port=" + flagPort, "--svc-port=0", "--transport=epoll"),
                Map.of("PORT", Integer.toString(envPort), "TRANSPORT", "nio")).awaitStarted()) {
            assertThat(server.port()).isEqualTo(flagPort);
            assertThat(server.transport()).isEqualTo("epoll");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"--nope", "--port=http", "-timeout=5", "--svc-port=-1", "--transport=dpdk", "extra"})
    void aBadFlagIsOneLineNamingItAndExitCode2(String flag) {
        ServerProcess server = ServerProcess.launch(List.of(flag));
        assertThat(server.awaitExit(EXIT)).isEqualTo(2);
        String name = flag.replaceFirst("^-+", "").replaceFirst("=.*", "");
        assertThat(server.stderr().lines()).singleElement().asString().contains(name);
        assertThat(server.stdout()).isEmpty();
    }

    @Test
    void aBadEnvironmentVariableIsNamedWithExitCode2() {
        ServerProcess server = ServerProcess.launch(null, List.of(), List.of(), Map.of("SVC_PORT", "tcp://10.0.0.1:80"));
        assertThat(server.awaitExit(EXIT)).isEqualTo(2);
        assertThat(server.stderr().lines()).singleElement().asString().contains("SVC_PORT");
    }

    /**
     * Equal ports are refused before binding, in one line that names both settings and where each value came
     * from: {@code --port=10254} alone collides with the service port's default, which the user never set.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "--port=10254||--port (flag) and --svc-port (default) are both 10254; they must differ",
            "--port=9000 --svc-port=9000||--port (flag) and --svc-port (flag) are both 9000; they must differ",
            "|9000|--port (environment variable PORT) and --svc-port (environment variable SVC_PORT) are both 9000; "
                    + "they must differ",
    })
    void equalPortsAreOneLineNamingBothAndWhereEachCameFromAndExitCode2(String flags, String envPorts, String message) {
        ServerProcess server = ServerProcess.launch(null, List.of(), flags == null ? List.of() : List.of(flags.split(" ")),
                envPorts == null ? Map.of() : Map.of("PORT", envPorts, "SVC_PORT", envPorts));
        assertThat(server.awaitExit(EXIT)).isEqualTo(2);
        assertThat(server.stderr().lines()).singleElement().asString().isEqualTo(message);
        assertThat(server.stdout()).isEmpty();
    }

    @Test
    void aPortInUseIsOneLineNamingTheAddressAndExitCode1() throws IOException {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("0.0.0.0", 0));
            int port = taken.getLocalPort();
            ServerProcess server = ServerProcess.launch(List.of("--port=" + port, "--svc-port=0"));
            assertThat(server.awaitExit(EXIT)).isEqualTo(1);
            assertThat(server.stderr().lines()).singleElement().asString()
                    .isEqualTo("cannot listen on *:" + port + ": address already in use");
            // The service port too, bound after the traffic port, which is let go again.
            ServerProcess service = ServerProcess.launch(List.of("--port=0", "--svc-port=" + port));
            assertThat(service.awaitExit(EXIT)).isEqualTo(1);
            assertThat(service.stderr().lines()).singleElement().asString()
                    .isEqualTo("cannot listen on *:" + port + ": address already in use");
        }
    }

    /** An address named in a bind error reads as it is usually written: IPv6 compressed and bracketed. */
    @ParameterizedTest(name = "--bind-address={0}")
    @CsvSource({
            "127.0.0.1, 127.0.0.1, 127.0.0.1",
            "::1, ::1, [::1]",
            "[::1], ::1, [::1]",
            "0:0:0:0:0:0:0:1, ::1, [::1]",
    })
    void aPortInUseOnOneAddressNamesThatAddress(String bindAddress, String taken, String printed) throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(taken, 0));
            int port = socket.getLocalPort();
            ServerProcess server = ServerProcess.launch(List.of("--bind-address=" + bindAddress, "--port=" + port,
                    "--svc-port=0"));
            assertThat(server.awaitExit(EXIT)).isEqualTo(1);
            assertThat(server.stderr().lines()).singleElement().asString()
                    .isEqualTo("cannot listen on " + printed + ":" + port + ": address already in use");
        }
    }

    @Test
    void helpAndVersionExit0() {
        ServerProcess help = ServerProcess.launch(List.of("--help"));
        assertThat(help.awaitExit(EXIT)).isZero();
        assertThat(help.stdout()).contains("--port", "--svc-port", "--timeout", "SVC_PORT", "--transport");
        ServerProcess version = ServerProcess.launch(List.of("--version"));
        assertThat(version.awaitExit(EXIT)).isZero();
        assertThat(version.stdout().trim()).matches("kubernetes-ingress-defaultbackend \\d+\\.\\d+\\.\\d+.*");
    }

    @Test
    void anUnknownFlagBeforeHelpIsRefusedAsGoRefusesIt() {
        ServerProcess server = ServerProcess.launch(List.of("--nope", "--help"));
        assertThat(server.awaitExit(EXIT)).isEqualTo(2);
        assertThat(server.stdout()).isEmpty();
        assertThat(server.stderr().lines()).containsExactly("unknown flag: \"--nope\"");
    }

    @Test
    void nioAndIoUringCanBeChosen() {
        try (ServerProcess server = ServerProcess.start("--transport=nio")) {
            assertThat(server.transport()).isEqualTo("nio");
            assertThat(RawConnection.exchange(server.port(), "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(OK);
        }
        ServerProcess uring = ServerProcess.launch(List.of("--port=0", "--svc-port=0", "--transport=io_uring"));
        ServerProcess.await("io_uring to start or refuse", ServerProcess.START_TIMEOUT,
                () -> !uring.isAlive() || uring.stdout().contains("started: "));
        if (uring.isAlive()) {
            try (ServerProcess server = uring.awaitStarted()) {
                assertThat(server.transport()).isEqualTo("io_uring");
                assertThat(RawConnection.exchange(server.port(), "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"))
                        .isEqualTo(OK);
            }
        } else {
            // Kernels or sandboxes without io_uring: asked for by name, it must fail clearly, not fall back.
            System.out.println("io_uring is not available on this machine: " + uring.stderr().trim());
            assertThat(uring.awaitExit(EXIT)).isEqualTo(1);
            assertThat(uring.stderr()).startsWith("transport io_uring is not available");
        }
    }

    @Test
    void bindsIpv4AndIpv6ByDefaultAndOneAddressWhenAsked() {
        try (ServerProcess server = ServerProcess.start()) {
            assertThat(RawConnection.exchange(server.port(), "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(OK);
            try (RawConnection v6 = RawConnection.open("::1", server.port())) {
                v6.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
                assertThat(v6.readResponse(false)).isEqualTo(OK);
            }
        }
        try (ServerProcess server = ServerProcess.start("--bind-address=127.0.0.1")) {
            assertThat(RawConnection.exchange(server.port(), "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(OK);
            assertThat(refused("::1", server.port())).isTrue();
        }
    }

    /** Sends SIGTERM with one request in flight (head read, body to come) and waits for the drain to begin. */
    private static void stopWithARequestInFlight(ServerProcess server, RawConnection inFlight) {
        inFlight.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n1");
        server.awaitOpenTrafficConnections(1);
        server.terminate();
        server.awaitLine(line -> line.equals("stopping http server..."), Duration.ofSeconds(10));
    }

    /** Sends the rest of the request {@link #stopWithARequestInFlight} left in flight: the drain answers it. */
    private static void finishTheRequestInFlight(RawConnection inFlight) {
        inFlight.send("234567890");
        assertThat(inFlight.readToEnd()).isEqualTo(
                response("HTTP/1.1 404 Not Found", "default backend - 404", "close", false));
    }

    private static boolean refused(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 2000);
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void theHealthCheckSubcommandExits0WhenHealthyAnd1Otherwise() {
        try (ServerProcess server = ServerProcess.start()) {
            ServerProcess check = ServerProcess.launch(List.of("healthcheck", "--port", Integer.toString(server.port())));
            assertThat(check.awaitExit(EXIT)).isZero();
            assertThat(check.stdout()).contains("200");
            ServerProcess checkByEnv = ServerProcess.launch(null, List.of(), List.of("healthcheck"),
                    Map.of("PORT", Integer.toString(server.svcPort())));
            assertThat(checkByEnv.awaitExit(EXIT)).isZero();
            ServerProcess wrongPath = ServerProcess.launch(List.of("healthcheck", "--port=" + server.port(),
                    "--path=/nope"));
            assertThat(wrongPath.awaitExit(EXIT)).isEqualTo(1);
            assertThat(wrongPath.stderr()).contains("404");
        }
        ServerProcess nobody = ServerProcess.launch(List.of("healthcheck", "--port=" + freePort()));
        assertThat(nobody.awaitExit(EXIT)).isEqualTo(1);
        assertThat(nobody.stderr()).startsWith("unhealthy:");
    }

    /**
     * The image's HEALTHCHECK runs the subcommand with the container's environment: a server that
     * {@code BIND_ADDRESS} puts on one address is checked there, and only there.
     */
    @Test
    void theHealthCheckSubcommandFollowsBindAddressAsTheServerDoes() {
        try (ServerProcess server = ServerProcess.launch(null, List.of(), List.of("--port=0", "--svc-port=0"),
                Map.of("BIND_ADDRESS", "::1")).awaitStarted()) {
            String port = Integer.toString(server.port());
            ServerProcess check = ServerProcess.launch(null, List.of(), List.of("healthcheck"),
                    Map.of("BIND_ADDRESS", "::1", "PORT", port));
            assertThat(check.awaitExit(EXIT)).as("healthcheck beside a server on ::1: %s", check.stderr()).isZero();
            assertThat(check.stdout()).isEqualTo("healthy: http://[::1]:" + port + "/healthz answered 200\n");
        }
        try (ServerProcess server = ServerProcess.start(List.of(), Map.of())) {
            ServerProcess check = ServerProcess.launch(null, List.of(), List.of("healthcheck"),
                    Map.of("BIND_ADDRESS", "::1", "PORT", Integer.toString(server.port())));
            assertThat(check.awaitExit(EXIT)).as("healthcheck of ::1 beside a server on 127.0.0.1").isEqualTo(1);
            assertThat(check.stderr()).startsWith("unhealthy: http://[::1]:" + server.port() + "/healthz: ");
        }
    }

    @Test
    void connectionsPastTheLimitAreClosedAtOnce() {
        try (ServerProcess server = ServerProcess.start("--max-connections=3")) {
            List<RawConnection> held = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    RawConnection connection = RawConnection.open(server.port());
                    connection.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
                    assertThat(connection.readResponse(false)).isEqualTo(OK);
                    held.add(connection);
                }
                try (RawConnection extra = RawConnection.open(server.port())) {
                    assertThat(extra.closedWithin(Duration.ofSeconds(5))).isTrue();
                }
                // The service port, where the chart's liveness probe asks, has no such limit: a full traffic
                // port takes the pod out of its Service (readiness), and does not get it restarted.
                try (RawConnection probe = RawConnection.open(server.svcPort())) {
                    probe.send("GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                    assertThat(probe.readToEnd()).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok");
                }
                held.remove(0).close();
                ServerProcess.await("a freed slot", Duration.ofSeconds(10), () -> {
                    try (RawConnection again = RawConnection.open(server.port())) {
                        again.send("GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                        return !again.readToEnd().isEmpty();
                    } catch (UncheckedIOException e) {
                        return false;
                    }
                });
            } finally {
                held.forEach(RawConnection::close);
            }
        }
    }

    @Test
    void theConnectionLimitFollowsTheHeapSoAFloodCannotExhaustIt() {
        try (ServerProcess server = ServerProcess.launch(null, List.of("-Xmx16m"), List.of("--port=0", "--svc-port=0"),
                Map.of()).awaitStarted()) {
            java.util.regex.Matcher limit = java.util.regex.Pattern.compile("at most (\\d+) connections")
                    .matcher(server.stdout());
            assertThat(limit.find()).as("the limit in the start-up line: %s", server.stdout()).isTrue();
            // One per 4 KiB of the heap the JVM reports (a little under -Xmx with the serial collector).
            assertThat(Integer.parseInt(limit.group(1))).isBetween(3500, 4096);
        }
        try (ServerProcess server = ServerProcess.launch(null, List.of("-Xmx16m"),
                List.of("--port=0", "--svc-port=0", "--max-connections=100"), Map.of()).awaitStarted()) {
            assertThat(server.stdout()).contains("at most 100 connections");
        }
    }

    @Test
    void sigtermDrainsRequestsInFlightAndExits0() {
        List<RawConnection> inFlight = new ArrayList<>();
        List<RawConnection> idle = new ArrayList<>();
        try (ServerProcess server = ServerProcess.start("--timeout=20s")) {
            for (int i = 0; i < 20; i++) {
                RawConnection connection = RawConnection.open(server.port());
                // Head read, body still arriving: the request is in flight.
                connection.send("POST /in-flight HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345");
                inFlight.add(connection);
                RawConnection keepAlive = RawConnection.open(server.port());
                keepAlive.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
                assertThat(keepAlive.readResponse(false)).isEqualTo(OK);
                idle.add(keepAlive);
            }
            long signalled = System.nanoTime();
            server.terminate();
            ServerProcess.await("the stop message in " + server.stdout(), Duration.ofSeconds(10),
                    () -> server.stdout().contains("stopping http server...\n"));
            for (RawConnection connection : idle) {
                assertThat(connection.closedWithin(Duration.ofSeconds(5))).as("idle keep-alive closed").isTrue();
            }
            assertThat(refused("127.0.0.1", server.port())).as("no longer accepting").isTrue();
            assertThat(server.isAlive()).as("waiting for the requests in flight").isTrue();
            for (RawConnection connection : inFlight) {
                connection.send("67890");
                assertThat(connection.readToEnd()).isEqualTo(
                        response("HTTP/1.1 404 Not Found", "default backend - 404", "close", false));
            }
            assertThat(server.awaitExit(EXIT)).isZero();
            assertThat(Duration.ofNanos(System.nanoTime() - signalled)).as("exits once drained, before the timeout")
                    .isLessThan(Duration.ofSeconds(15));
            assertThat(server.stdout()).doesNotContain("LEAK:");
        } finally {
            inFlight.forEach(RawConnection::close);
            idle.forEach(RawConnection::close);
        }
    }

    /**
     * The service port answers until the process exits, as 1.5's did (it never shut its metrics server down):
     * a scrape or a probe during the drain gets its answer, with the figures of the drain itself, while the
     * traffic port already refuses.
     */
    @Test
    void theServicePortAnswersThroughTheDrain() {
        try (ServerProcess server = ServerProcess.start("--timeout=60s", "--read-timeout=120s");
             RawConnection inFlight = RawConnection.open(server.port())) {
            stopWithARequestInFlight(server, inFlight);
            ServerProcess.await("the traffic port to refuse", Duration.ofSeconds(5),
                    () -> refused("127.0.0.1", server.port()));
            assertThat(server.isAlive()).as("still draining").isTrue();
            try (RawConnection probe = RawConnection.open(server.svcPort())) {
                probe.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
                assertThat(probe.readToEnd()).isEqualTo(response("HTTP/1.1 200 OK", "ok", "close", false));
            }
            assertThat(server.openTrafficConnections()).as("the request the drain waits for").isEqualTo(1);
            finishTheRequestInFlight(inFlight);
            assertThat(server.awaitExit(EXIT)).isZero();
            assertThat(refused("127.0.0.1", server.svcPort())).as("closed at exit").isTrue();
        }
    }

    @Test
    void theShutdownTimeoutEndsAStuckDrain() {
        try (ServerProcess server = ServerProcess.start("--timeout=1s", "--read-timeout=60s");
             RawConnection stuck = RawConnection.open(server.port())) {
            stuck.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n1");
            server.awaitOpenTrafficConnections(1);
            long signalled = System.nanoTime();
            server.signal("INT");
            assertThat(server.awaitExit(EXIT)).isZero();
            Duration took = Duration.ofNanos(System.nanoTime() - signalled);
            assertThat(took).isBetween(Duration.ofMillis(900), Duration.ofSeconds(10));
            assertThat(server.stdout()).contains("stopping http server...");
            // On stderr, as 1.5's "could not gracefully shutdown http server: context deadline exceeded".
            assertThat(server.errors()).containsExactly(
                    "shutdown timeout of 1s reached; remaining connections were closed");
            assertThat(server.stdout()).doesNotContain("shutdown timeout");
            assertThat(stuck.closedWithin(Duration.ofSeconds(5))).isTrue();
        }
    }

    /**
     * A connection that has sent nothing (a load balancer's TCP check, a browser's preconnect) does not hold
     * the drain until its header timeout (10 s): as Go's Shutdown does, the server closes it once it is 5 s
     * old, and the drain ends there, well within {@code --timeout}.
     */
    @Test
    void aSilentConnectionHoldsTheDrainOnlyUntilItIsFiveSecondsOld() {
        try (ServerProcess server = ServerProcess.start("--timeout=30s")) {
            long opened = System.nanoTime();
            try (RawConnection silent = RawConnection.open(server.port())) {
                server.awaitOpenTrafficConnections(1);
                server.terminate();
                assertThat(server.awaitExit(EXIT)).isZero();
                Duration took = Duration.ofNanos(System.nanoTime() - opened);
                assertThat(took).as("from the connection's opening to the exit")
                        .isBetween(Duration.ofSeconds(5), Duration.ofSeconds(7));
                assertThat(silent.closedWithin(Duration.ofSeconds(1))).isTrue();
                assertThat(server.output()).contains("stopping http server...");
                assertThat(server.stderr()).as("the drain ended before --timeout").isEmpty();
            }
        }
    }

    /**
     * A stdout nobody reads (a log collector that stopped: the pipe fills at 64 KiB and every write to it
     * blocks) does not hold up the stop: with the access log filling it, SIGTERM still closes the listener at
     * once, the drain still ends at {@code --timeout}, and the process exits 0 a little after, though the stop
     * line and the last access-log lines can no longer be written.
     */
    @Test
    void aStdoutNobodyReadsDoesNotHoldUpTheStop() {
        int port = freePort();
        int svcPort = freePort();
        ServerProcess server = ServerProcess.launchWithStdoutUnread(List.of("--port=" + port,
                "--svc-port=" + svcPort, "--bind-address=127.0.0.1", "--timeout=2s", "--access-log",
                "--access-log-max-lines-per-second=1000000"));
        try (server) {
            ServerProcess.await("the server to answer", ServerProcess.START_TIMEOUT, () -> {
                assertThat(server.isAlive()).as("running; stderr: %s", server.stderr()).isTrue();
                return !refused("127.0.0.1", port);
            });
            // Lines of some 1.3 KiB: a batch of 50 is nearly a whole pipe. The pipe is full once a batch adds
            // nothing to it, three times running.
            String request = "GET /" + "x".repeat(1000) + " HTTP/1.1\r\nHost: a\r\n\r\n";
            int waiting = -1;
            try (RawConnection connection = RawConnection.open(port)) {
                for (int unchanged = 0, batches = 0; unchanged < 3; batches++) {
                    assertThat(batches).as("batches until stdout is full").isLessThan(200);
                    for (int i = 0; i < 50; i++) {
                        assertThat(connection.send(request).readResponse(false)).startsWith("HTTP/1.1 404 ");
                    }
                    int now = server.unreadStdoutBytes();
                    unchanged = now > 0 && now == waiting ? unchanged + 1 : 0;
                    waiting = now;
                }
            }
            try (RawConnection inFlight = RawConnection.open(port)) {
                // Head read, body still to come: the drain waits for it until --timeout.
                inFlight.send("POST /in-flight HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345");
                ServerProcess.awaitOpenTrafficConnections(svcPort, 1);
                long signalled = System.nanoTime();
                server.terminate();
                ServerProcess.await("the listener to close", Duration.ofSeconds(5), () -> refused("127.0.0.1", port));
                assertThat(server.awaitExit(Duration.ofSeconds(2 + 5))).isZero();
                assertThat(Duration.ofNanos(System.nanoTime() - signalled)).as("--timeout (2s) and a margin")
                        .isLessThan(Duration.ofSeconds(2 + 3));
                assertThat(server.errors()).containsExactly(
                        "shutdown timeout of 2s reached; remaining connections were closed");
                assertThat(inFlight.closedWithin(Duration.ofSeconds(5))).isTrue();
            }
            String written = server.unreadStdout();
            assertThat(written.length()).as("what stdout took before it filled").isGreaterThanOrEqualTo(waiting);
            assertThat(written).startsWith("INFO ").contains(" started: ", "{\"time\":");
        }
    }

    /**
     * Read normally, stdout carries the stop line and every access-log line, each whole and in order: those
     * of the requests answered before the signal, then the stop line before that of the request the drain
     * let finish; none is lost at the exit.
     */
    @Test
    void theStopLineAndEveryAccessLogLineComeOutWholeAndInOrder() {
        int requests = 300;
        try (ServerProcess server = ServerProcess.start("--timeout=20s", "--access-log",
                "--access-log-max-lines-per-second=1000000");
             RawConnection inFlight = RawConnection.open(server.port())) {
            try (RawConnection connection = RawConnection.open(server.port())) {
                for (int i = 0; i < requests; i++) {
                    connection.send("GET /before/" + i + " HTTP/1.1\r\nHost: a\r\n\r\n");
                    assertThat(connection.readResponse(false)).startsWith("HTTP/1.1 404 ");
                }
            }
            inFlight.send("POST /in-flight HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345");
            server.awaitOpenTrafficConnections(1);
            server.terminate();
            server.awaitLine(line -> line.equals("stopping http server..."), Duration.ofSeconds(10));
            inFlight.send("67890");
            assertThat(inFlight.readToEnd()).isEqualTo(
                    response("HTTP/1.1 404 Not Found", "default backend - 404", "close", false));
            assertThat(server.awaitExit(EXIT)).isZero();

            List<String> lines = server.output();
            Pattern accessLine = Pattern.compile("^\\{\"time\":\"[^\"]+\",\"remote\":\"127\\.0\\.0\\.1\","
                    + "\"method\":\"(GET|POST)\",\"path\":\"([^\"]+)\",\"status\":404,.*\"x_code\":\"\"}$");
            List<String> paths = new ArrayList<>();
            for (String line : lines) {
                Matcher matcher = accessLine.matcher(line);
                if (matcher.matches()) {
                    paths.add(matcher.group(2));
                } else {
                    assertThat(line).as("a whole line of its own").matches("(INFO|WARN) .*|stopping http server\\.\\.\\.");
                }
            }
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                expected.add("/before/" + i);
            }
            expected.add("/in-flight");
            assertThat(paths).containsExactlyElementsOf(expected);
            assertThat(lines).filteredOn(line -> line.equals("stopping http server...")).hasSize(1);
            int inFlightLine = 0;
            while (!lines.get(inFlightLine).contains("\"path\":\"/in-flight\"")) {
                inFlightLine++;
            }
            assertThat(lines.indexOf("stopping http server...")).as("the stop line, before the drained request's")
                    .isLessThan(inFlightLine);
        }
    }

    /**
     * A process started with SIGINT ignored (a background job of a non-interactive shell) keeps it ignored:
     * the JVM installs no handler for it, where Go's would. The server says so at start, and SIGTERM still
     * stops it as always.
     */
    @Test
    void aServerStartedWithSigintIgnoredSaysSoAndStopsOnSigterm() throws IOException {
        List<String> ignoring = ServerProcess.envCan("--ignore-signal=INT");
        if (ignoring.isEmpty()) {
            String message = "skipped: this machine's env cannot start a process with SIGINT ignored";
            System.out.println(message);
            Assumptions.abort(message);
        }
        try (ServerProcess server = ServerProcess.launch(ignoring, null, List.of(),
                List.of("--port=0", "--svc-port=0"), Map.of()).awaitStarted()) {
            assertThat(server.awaitLine(line -> line.startsWith("WARN "), Duration.ofSeconds(10))).isEqualTo(
                    "WARN SIGINT ignored: this process was started with it ignored (as a background job of a "
                    + "non-interactive shell, say), and the JVM keeps it so; stop the server with SIGTERM");
            String status = Files.readString(Path.of("/proc", Long.toString(server.pid()), "status"));
            Matcher ignored = Pattern.compile("(?m)^SigIgn:\\s*([0-9a-f]+)$").matcher(status);
            assertThat(ignored.find()).as(status).isTrue();
            assertThat(Long.parseLong(ignored.group(1), 16) & (1L << 1)).as("SIGINT's bit in SigIgn").isNotZero();

            server.signal("INT"); // discarded by the kernel as it is sent
            assertThat(RawConnection.exchange(server.port(), "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"))
                    .isEqualTo(OK);
            assertThat(server.stdout()).doesNotContain("stopping http server...");

            server.signal("TERM");
            assertThat(server.awaitExit(EXIT)).isZero();
            assertThat(server.output()).contains("stopping http server...");
        }
    }

    /**
     * Signals after the first are ignored, as 1.5 ignores them (it reads its signal channel once): a
     * container runtime may send SIGTERM more than once, and the request in flight still gets its answer,
     * the drain still bounded by {@code --timeout}. One line says so, once, after the stop line.
     */
    @Test
    void furtherSignalsDuringTheDrainAreIgnored() {
        try (ServerProcess server = ServerProcess.start("--timeout=60s", "--read-timeout=120s");
             RawConnection inFlight = RawConnection.open(server.port())) {
            stopWithARequestInFlight(server, inFlight);
            server.terminate();
            String ignored = server.awaitLine(line -> line.startsWith("SIGTERM ignored"), Duration.ofSeconds(10));
            assertThat(ignored).isEqualTo("SIGTERM ignored: already stopping, within --timeout (1m0s); "
                    + "later signals are ignored too");
            server.signal("INT");
            server.signal("TERM");
            assertThat(server.isAlive()).as("still draining").isTrue();
            finishTheRequestInFlight(inFlight);
            assertThat(server.awaitExit(EXIT)).isZero();
            assertThat(server.output()).as("the stop line, then one line for all the signals after it")
                    .endsWith("stopping http server...", ignored)
                    .filteredOn(line -> line.contains("ignored")).hasSize(1);
            assertThat(server.stderr()).isEmpty();
        }
    }
}
