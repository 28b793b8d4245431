package ai.echo.defaultbackend.it.image;

import static org.assertj.core.api.Assertions.assertThat;

import ai.echo.defaultbackend.it.ServerProcess;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The image, unchanged, under each constraint a deployment imposes (upstream contract, section 4), one at a
 * time and all together as the ingress-nginx chart sets them: it serves the 1.5 contract on epoll, writes
 * nothing, answers its own health check and drains on SIGTERM.
 *
 * <p>Every container runs on the host network bound to 127.0.0.1 (never podman's bridge), on ports picked
 * free, inside {@code --memory 64m}, and is configured through the environment variables the server
 * documents, as a pod spec would.
 */
class ImageConstraintsIT {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern STARTED = Pattern.compile("started: transport (\\S+), traffic port (\\d+), service port (\\d+)");

    /**
     * A log line that reports a problem, whoever wrote it, in any case: a WARN or ERROR level from the server
     * or Netty ({@code WARN Failed to find a usable hardware address ...}), the JVM's unified logging
     * ({@code [warning][gc,ergo] ...}, {@code [error  ][aot] ...}), the JDK's {@code WARNING: ...} lines, and
     * exceptions and errors with their stack traces. The server's own lines are INFO, and its start-up line
     * says "built-in error pages", which is no error.
     */
    static final Pattern PROBLEM = Pattern.compile(
            "^(warn|warning|error|severe|fatal)\\b|\\[(warning|error)\\s*]|exception|\\w+error\\b|^\\s+at ",
            Pattern.CASE_INSENSITIVE);

    /**
     * The paths {@code podman diff} reports for the mount points podman itself sets up (/etc/hosts,
     * /etc/resolv.conf, /etc/hostname, /run/.containerenv and their parents). Anything else is a file the
     * image wrote.
     */
    private static final Set<String> PODMAN_MOUNT_POINTS = Set.of(
            "/etc", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run", "/run/.containerenv",
            "/var", "/var/tmp");

    enum Constraints {
        IMAGE_DEFAULTS(),
        READ_ONLY_ROOT("--read-only", "--read-only-tmpfs=false"),
        USER_NOBODY("--user", "65534:65534"),
        USER_1000("--user", "1000:1000"),
        RANDOM_UID_GROUP_0("--user", ThreadLocalRandom.current().nextInt(1_000_000_000, 2_000_000_000) + ":0"),
        CAP_DROP_ALL("--cap-drop", "ALL"),
        NO_NEW_PRIVILEGES("--security-opt", "no-new-privileges"),
        /** The ingress-nginx chart's securityContext, all at once. */
        CHART_SECURITY_CONTEXT("--read-only", "--read-only-tmpfs=false", "--user", "65534:65534",
                "--cap-drop", "ALL", "--security-opt", "no-new-privileges"),
        /** OpenShift's restricted SCC: an arbitrary UID in group 0, read-only, no capabilities. */
        OPENSHIFT_RESTRICTED("--read-only", "--read-only-tmpfs=false",
                "--user", ThreadLocalRandom.current().nextInt(1_000_000_000, 2_000_000_000) + ":0",
                "--cap-drop", "ALL", "--security-opt", "no-new-privileges");

        final List<String> options;

        Constraints(String... options) {
            this.options = List.of(options);
        }
    }

    private static LocalImage image;

    @BeforeAll
    static void buildImage() {
        image = LocalImage.get();
    }

    @ParameterizedTest
    @EnumSource(Constraints.class)
    void servesTheContractOnEpollWritesNothingAndDrains(Constraints constraints) throws IOException {
        int port = RawHttp.freePort();
        int svcPort = RawHttp.freePort();
        List<String> options = hostNetworkOptions(port, svcPort);
        options.addAll(constraints.options);
        System.out.printf("%s: podman run %s%n", constraints, String.join(" ", constraints.options));
        try (ImageContainer container = image.start(options, List.of())) {
            Matcher started = container.awaitLog(STARTED, START_TIMEOUT);
            assertThat(started.group(1)).as("transport in the startup line").isEqualTo("epoll");
            assertThat(Integer.parseInt(started.group(2))).isEqualTo(port);
            assertThat(Integer.parseInt(started.group(3))).isEqualTo(svcPort);

            assertContract(port, svcPort);

            // The first exec into a container of a freshly built image has twice been slow on podman's side
            // (over 30 s once; once past the HEALTHCHECK's own 5 s timeout, podman exit 125, in a fresh-clone
            // CI run, while the check takes about 0.3 s here). So the exec with a generous timeout goes first,
            // and the image's HEALTHCHECK, with its real 5 s timeout and retries, after it.
            Podman.Result sick = container.exec(Podman.SLOW_COMMAND, "/opt/jre/bin/java", "-Xint", "-Xmx8m",
                    "-XX:-UsePerfData", "-jar", "/app/backend-server.jar", "healthcheck", "--path", "/missing");
            assertThat(sick.exitCode()).as("healthcheck of a 404 path: %s", sick.describe()).isEqualTo(1);
            Podman.Result health = container.healthcheck(image.healthcheckRetries());
            assertThat(health.exitCode()).as("the image's HEALTHCHECK: %s", health.describe()).isZero();

            assertDrainsOnSigterm(container, port, svcPort);

            List<String> diff = container.diff();
            System.out.printf("%s: podman diff %s%n", constraints, diff);
            List<String> written = diff.stream()
                    .filter(line -> !PODMAN_MOUNT_POINTS.contains(line.substring(line.indexOf(' ') + 1)))
                    .toList();
            assertThat(written).as("files written at run time (podman diff, less podman's own mount points)")
                    .isEmpty();
            assertNoProblemInLogs(container);
        }
    }

    /**
     * The server given its port and address as flags ({@code podman run image --port=...}, a Compose
     * {@code command:}) and a {@code PORT} in the environment that the flag overrides: the image's HEALTHCHECK,
     * which gets no flags of its own, finds the server where it listens, by the server's command line.
     */
    @Test
    void theHealthcheckFindsAServerGivenItsPortAsAFlag() {
        int port = RawHttp.freePort();
        int svcPort = RawHttp.freePort();
        List<String> options = hostNetworkOptions(port, svcPort);
        options.addAll(List.of("-e", "PORT=" + RawHttp.freePort(), "-e", "BIND_ADDRESS="));
        try (ImageContainer container = image.start(options,
                List.of("--port=" + port, "-bind-address", "127.0.0.1"))) {
            Matcher started = container.awaitLog(STARTED, START_TIMEOUT);
            assertThat(Integer.parseInt(started.group(2))).isEqualTo(port);
            Podman.Result health = container.healthcheck(image.healthcheckRetries());
            assertThat(health.exitCode()).as("the image's HEALTHCHECK: %s", health.describe()).isZero();
        }
    }

    /**
     * {@code --transport io_uring} from a read-only root: Netty's io_uring library loads from the image's
     * {@code /app/lib}, as epoll's does, since there is no writable directory to extract it to. With the
     * seccomp filter off and io_uring enabled in the kernel, the server serves the contract on io_uring;
     * under podman's default seccomp profile, which may refuse {@code io_uring_setup}, it either serves on
     * io_uring or exits 1 saying why: asked for by name, the transport never falls back to epoll.
     */
    @Test
    void ioUringFromAReadOnlyRootLoadsItsLibraryFromTheImage() throws IOException {
        Pattern outcome = Pattern.compile("started: transport (\\S+), traffic port (\\d+), service port (\\d+)"
                + "|transport io_uring is not available: (.*)");
        boolean kernelAllows = ServerProcess.ioUringDisabled().equals("0");
        for (String seccomp : List.of("unconfined", "default")) {
            int port = RawHttp.freePort();
            int svcPort = RawHttp.freePort();
            List<String> options = hostNetworkOptions(port, svcPort);
            options.addAll(List.of("--read-only", "--read-only-tmpfs=false", "--user", "65534:65534",
                    "--cap-drop", "ALL", "-e", "TRANSPORT=io_uring"));
            if (seccomp.equals("unconfined")) {
                options.addAll(List.of("--security-opt", "seccomp=unconfined"));
            }
            try (ImageContainer container = image.start(options, List.of())) {
                Matcher matched = container.awaitLog(outcome, START_TIMEOUT);
                System.out.printf("io_uring, seccomp %s: %s%n", seccomp, matched.group());
                if (matched.group(1) != null) {
                    assertThat(matched.group(1)).as("transport in the startup line").isEqualTo("io_uring");
                    assertContract(port, svcPort);
                } else {
                    assertThat(matched.group(4)).as("why io_uring did not start")
                            .doesNotContain("could not load a native library");
                    assertThat(container.awaitExit(START_TIMEOUT)).as("exit code").isEqualTo(1);
                    assertThat(seccomp.equals("unconfined") && kernelAllows)
                            .as("io_uring refused with no seccomp filter, on a kernel that enables it: %s",
                                    matched.group(4))
                            .isFalse();
                }
            }
        }
    }

    /**
     * The classic manifests' and GKE's limits (contract, section 4): 10m of CPU, 20Mi of memory, UID 1000.
     * The JVM's start-up, about 130 ms of CPU, takes 15-25 s at 1 % of a core, so the question is whether the
     * first {@code /healthz} comes before their liveness probe restarts the pod: 30 s of initial delay, then
     * three failures 10 s apart. Idle it fits in 20Mi; under load it does not (the README says to raise it).
     */
    @Test
    void underTheClassicManifestsLimitsItAnswersBeforeTheLivenessProbeGivesUp() {
        int port = RawHttp.freePort();
        int svcPort = RawHttp.freePort();
        List<String> options = hostNetworkOptions(port, svcPort, "20m");
        options.addAll(List.of("--cpus", "0.01", "--user", "1000:1000"));
        Duration livenessGivesUp = Duration.ofSeconds(30 + 3 * 10);
        long started = System.nanoTime();
        try (ImageContainer container = image.start(options, List.of())) {
            container.awaitLog(STARTED, livenessGivesUp);
            String answer = exchange(port, "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            Duration firstHealthz = Duration.ofNanos(System.nanoTime() - started);
            System.out.printf("cpu 10m, memory 20Mi: first /healthz after %.1f s%n", firstHealthz.toMillis() / 1e3);
            assertThat(answer).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok");
            assertThat(firstHealthz).isLessThan(livenessGivesUp);
            assertContract(port, svcPort);
            assertThat(container.isRunning()).as("still running in 20Mi after the contract's requests").isTrue();
            assertNoProblemInLogs(container);
        }
    }

    /**
     * {@link #PROBLEM} finds the lines the JVM and Netty print when something is off, in the case they print
     * them, and none of the server's normal ones.
     */
    @Test
    void problemLinesAreFoundWhateverTheirCase() {
        assertThat(List.of(
                "[0.016s][warning][aot] Unable to use AOT cache.",
                "[0.016s][error  ][aot] An error has occurred while processing the AOT cache. Run with -Xlog:aot for details.",
                "[0.003s][warning][gc,ergo] Inconsistency between generation sizes and heap size, resizing the generations"
                        + " to fit the heap.",
                "WARN Failed to find a usable hardware address from the network interfaces; using random bytes: 61:9a",
                "WARNING: A restricted method in java.lang.System has been called",
                "ERROR unexpected failure on a connection",
                "Error occurred during initialization of VM",
                "Exception in thread \"main\" java.lang.IllegalStateException: x",
                "java.lang.OutOfMemoryError: Java heap space",
                "\tat ai.echo.defaultbackend.Main.main(Main.java:1)"))
                .allMatch(line -> PROBLEM.matcher(line).find());
        assertThat(List.of(
                "INFO kubernetes-ingress-defaultbackend 0.1.0 started: transport epoll, traffic port 8080, service port"
                        + " 10254, all addresses, 2 io threads, at most 3968 connections, JVM 25.0.3+9-LTS (Eclipse"
                        + " Adoptium); built-in error pages (\"/www\" not found, watched), metrics on the service port",
                "stopping http server..."))
                .noneMatch(line -> PROBLEM.matcher(line).find());
    }

    /** Nothing in the container's logs (stdout and stderr) reports a problem: {@link #PROBLEM}. */
    private static void assertNoProblemInLogs(ImageContainer container) {
        String logs = container.logs();
        assertThat(logs.lines().filter(line -> PROBLEM.matcher(line).find()).toList())
                .as("lines of the logs that report a problem; the logs:%n%s", logs).isEmpty();
    }

    /**
     * What every container here runs with: the host network, the server bound to 127.0.0.1 on these ports,
     * a 64 MiB limit, and no healthcheck timer; the caller adds its constraints.
     */
    private static List<String> hostNetworkOptions(int port, int svcPort) {
        return hostNetworkOptions(port, svcPort, "64m");
    }

    private static List<String> hostNetworkOptions(int port, int svcPort, String memoryLimit) {
        return new ArrayList<>(List.of(
                "--network", "host", "--memory", memoryLimit, "--memory-swap", memoryLimit,
                "--health-interval", "disable",
                // podman adds the --user to /etc/passwd and /etc/group of a writable root; a kubelet does
                // not, and podman diff would show podman's write as the image's.
                "--passwd=false",
                "-e", "PORT=" + port, "-e", "SVC_PORT=" + svcPort, "-e", "BIND_ADDRESS=127.0.0.1"));
    }

    private static void assertContract(int port, int svcPort) {
        String ok = "HTTP/1.1 200 OK\r\nDate: <date>\r\nContent-Length: 2\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nok";
        String notFoundHead = "HTTP/1.1 404 Not Found\r\nDate: <date>\r\nContent-Length: 21\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n";
        String notFound = notFoundHead + "default backend - 404";

        assertThat(exchange(port, "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).isEqualTo(ok);
        assertThat(exchange(port, "GET /healthz?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).isEqualTo(ok);
        assertThat(exchange(port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).isEqualTo(notFound);
        assertThat(exchange(port, "POST /healthz/ HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"))
                .isEqualTo(notFound);
        assertThat(exchange(port, "GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
                .as("metrics are never served on the traffic port").isEqualTo(notFound);
        assertThat(exchange(port, "HEAD /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).isEqualTo(notFoundHead);
        assertThat(exchange(port, "GET /x HTTP/1.0\r\n\r\n")).isEqualTo("HTTP/1.0 404 Not Found\r\nDate: <date>\r\n"
                + "Content-Length: 21\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ndefault backend - 404");
        assertThat(exchange(port, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /y HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
                .as("keep-alive and pipelining, answered in order")
                .isEqualTo("HTTP/1.1 200 OK\r\nDate: <date>\r\nContent-Length: 2\r\n"
                        + "Content-Type: text/plain; charset=utf-8\r\n\r\nok" + notFound);
        assertThat(exchange(port, "GET / HTTP/1.1\r\n\r\n")).as("HTTP/1.1 without Host")
                .startsWith("HTTP/1.1 400 Bad Request\r\n").contains("\r\nConnection: close\r\n");
        assertThat(exchange(port, "\u0001\u0002 nonsense\r\n\r\n")).as("unparseable request line")
                .startsWith("HTTP/1.1 400 Bad Request\r\n").contains("\r\nConnection: close\r\n");

        assertThat(exchange(svcPort, "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).isEqualTo(ok);
        assertThat(exchange(svcPort, "GET /other HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).isEqualTo(notFound);
    }

    /**
     * A request whose head is half sent when SIGTERM arrives is still answered (with Connection: close), and
     * the process then exits 0 within the shutdown timeout (5 s), having printed what 1.5 prints.
     */
    private static void assertDrainsOnSigterm(ImageContainer container, int port, int svcPort) throws IOException {
        try (Socket socket = RawHttp.connect(port)) {
            OutputStream out = socket.getOutputStream();
            out.write("GET /in-flight HTTP/1.1\r\nHost: a\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            ServerProcess.awaitOpenTrafficConnections(svcPort, 1);
            long signalled = System.nanoTime();
            container.signal("TERM");
            container.awaitLog(Pattern.compile("^stopping http server\\.\\.\\.$", Pattern.MULTILINE), Duration.ofSeconds(10));
            out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            assertThat(RawHttp.withoutDates(RawHttp.readToEnd(socket))).as("the in-flight request's answer")
                    .isEqualTo("HTTP/1.1 404 Not Found\r\nDate: <date>\r\nContent-Length: 21\r\n"
                            + "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\ndefault backend - 404");
            int exit = container.awaitExit(Duration.ofSeconds(20));
            Duration stop = Duration.ofNanos(System.nanoTime() - signalled);
            assertThat(exit).as("exit code after SIGTERM").isZero();
            assertThat(stop).as("time from SIGTERM to exit").isLessThan(Duration.ofSeconds(8));
        }
    }

    private static String exchange(int port, String request) {
        return RawHttp.withoutDates(RawHttp.exchange(port, request));
    }
}
