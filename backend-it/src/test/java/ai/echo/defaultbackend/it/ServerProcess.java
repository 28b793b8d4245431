package ai.echo.defaultbackend.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * The packaged server jar, started as its own process exactly as a user starts it
 * ({@code java -jar backend-server.jar [flags]}), with its output captured. Ports default to 0 so that
 * parallel runs never collide; the real ports are read from the start-up line.
 */
public final class ServerProcess implements AutoCloseable {

    private static final Pattern STARTED =
            Pattern.compile("started: transport (\\S+), traffic port (\\d+), service port (\\d+)");
    public static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    /**
     * The server as a container runtime or a terminal starts it, with SIGINT and SIGTERM at their defaults,
     * whatever this test run inherited: a run started as a background job of a non-interactive shell
     * ignores SIGINT, which the server's JVM would then keep ignoring (see {@code Main}). By coreutils'
     * {@code env}, which execs the JVM (the same process, the same PID); nothing where {@code env} cannot.
     */
    private static final List<String> DEFAULT_STOP_SIGNALS = envCan("--default-signal=INT,TERM");

    private final Process process;
    private final StringBuffer stdout = new StringBuffer();
    private final StringBuffer stderr = new StringBuffer();
    private final List<Thread> pumps = new ArrayList<>();
    /** Whether stdout is read as it comes; if not, it is a pipe nobody reads, which fills at 64 KiB. */
    private final boolean stdoutRead;

    private ServerProcess(List<String> command, Map<String, String> env) {
        this(command, env, true);
    }

    private ServerProcess(List<String> command, Map<String, String> env, boolean readStdout) {
        this.stdoutRead = readStdout;
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().keySet().removeIf(name -> name.matches("PORT|SVC_PORT|TIMEOUT|TRANSPORT"));
        // The suite on another transport (the io-uring execution in backend-it/pom.xml); a test's own
        // --transport flag or TRANSPORT still wins, as flags win over the environment.
        transportUnderTest().ifPresent(transport -> builder.environment().put("TRANSPORT", transport));
        builder.environment().putAll(env);
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (readStdout) {
            pumps.add(pump(process.getInputStream(), stdout));
        }
        pumps.add(pump(process.getErrorStream(), stderr));
    }

    /**
     * The transport every server of this run is started on ({@code -Dit.transport}), when not the default.
     * For io_uring on a kernel that does not let every process use it, the test is skipped, saying so.
     */
    public static Optional<String> transportUnderTest() {
        String transport = System.getProperty("it.transport", "");
        if (transport.isEmpty()) {
            return Optional.empty();
        }
        if (transport.equals("io_uring")) {
            requireIoUring("the suite on io_uring");
        }
        return Optional.of(transport);
    }

    /** Skips the test, saying so, on a kernel that does not let every process use io_uring. */
    public static void requireIoUring(String what) {
        String disabled = ioUringDisabled();
        if (!disabled.equals("0")) {
            String message = what + " skipped: this kernel does not let every process use io_uring"
                    + " (kernel.io_uring_disabled " + disabled + ")";
            System.out.println(message);
            Assumptions.abort(message);
        }
    }

    /** {@code kernel.io_uring_disabled} (Linux 6.6+): "0" lets every process use io_uring; "absent" before 6.6. */
    public static String ioUringDisabled() {
        Path sysctl = Path.of("/proc/sys/kernel/io_uring_disabled");
        try {
            return Files.exists(sysctl) ? Files.readString(sysctl).strip() : "absent";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The jar under test, as Maven packaged it. */
    public static Path jar() {
        Path jar = Paths.get(System.getProperty("backend.jar", "../backend-server/target/backend-server.jar"));
        assertThat(jar).as("the packaged server; run `./mvnw -B verify` from the repository root").exists();
        return jar;
    }

    /** The java launcher of the default JDK, or of {@code javaHome} when given. */
    public static String java(Path javaHome) {
        return javaHome == null ? Paths.get(System.getProperty("java.home"), "bin", "java").toString()
                : javaHome.resolve("bin/java").toString();
    }

    /** Temurin 25, the image's runtime, when this machine has it. */
    public static Path jdk25() {
        Path home = Jdk.JDK_25.home();
        return Files.isExecutable(home.resolve("bin/java")) ? home : null;
    }

    /** Starts the jar with these arguments and no extra environment, without waiting for it. */
    public static ServerProcess launch(List<String> args) {
        return launch(null, List.of(), args, Map.of());
    }

    public static ServerProcess launch(Path javaHome, List<String> jvmArgs, List<String> args, Map<String, String> env) {
        return launch(DEFAULT_STOP_SIGNALS, javaHome, jvmArgs, args, env);
    }

    /** {@code env} with this option, if this machine's {@code env} takes it; else nothing. */
    public static List<String> envCan(String option) {
        try {
            Process probe = new ProcessBuilder("env", option, "true").redirectErrorStream(true).start();
            probe.getInputStream().readAllBytes();
            return probe.waitFor() == 0 ? List.of("env", option) : List.of();
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    /** As {@link #launch(Path, List, List, Map)}, run through {@code launcher} (a command that execs the rest). */
    public static ServerProcess launch(List<String> launcher, Path javaHome, List<String> jvmArgs, List<String> args,
                                       Map<String, String> env) {
        List<String> command = new ArrayList<>(launcher);
        command.add(java(javaHome));
        command.add("-Dio.netty.leakDetection.level=paranoid");
        command.addAll(jvmArgs);
        command.add("-jar");
        command.add(jar().toString());
        command.addAll(args);
        return new ServerProcess(command, env);
    }

    /**
     * Starts the jar with these arguments, its stdout left to a pipe that nothing reads until the process has
     * exited, as when a log collector stops reading: once the pipe's buffer (64 KiB) is full, a write to it
     * blocks. Its ports cannot be read from the start-up line: pass them as flags.
     */
    public static ServerProcess launchWithStdoutUnread(List<String> args) {
        List<String> command = new ArrayList<>(DEFAULT_STOP_SIGNALS);
        command.add(java(null));
        command.add("-Dio.netty.leakDetection.level=paranoid");
        command.add("-jar");
        command.add(jar().toString());
        command.addAll(args);
        return new ServerProcess(command, Map.of(), false);
    }

    /** The bytes waiting in the unread stdout pipe (see {@link #launchWithStdoutUnread}). */
    public int unreadStdoutBytes() {
        assertThat(stdoutRead).as("stdout left unread").isFalse();
        try {
            return process.getInputStream().available();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Everything in the unread stdout pipe, once the process has exited. */
    public String unreadStdout() {
        assertThat(stdoutRead).as("stdout left unread").isFalse();
        assertThat(process.isAlive()).as("exited").isFalse();
        try {
            return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Closes the read end of the server's stdout, as a log collector that goes away does. The read already
     * waiting still takes the next write; once it has ({@link #stdoutClosed()}), every write fails (EPIPE).
     */
    public void closeStdout() {
        try {
            process.getInputStream().close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether the read end of stdout is closed, and no read is left on it (see {@link #closeStdout()}). */
    public boolean stdoutClosed() {
        return stdout.indexOf("<output closed: ") >= 0;
    }

    /** Starts the server on free ports with these extra flags and waits until it listens. */
    public static ServerProcess start(String... flags) {
        List<String> args = new ArrayList<>(List.of("--port=0", "--svc-port=0"));
        args.addAll(List.of(flags));
        return launch(args).awaitStarted();
    }

    /** Starts the server on free ports of 127.0.0.1 with these flags and environment, and waits until it listens. */
    public static ServerProcess start(List<String> flags, Map<String, String> env) {
        List<String> args = new ArrayList<>(List.of("--port=0", "--svc-port=0", "--bind-address=127.0.0.1"));
        args.addAll(flags);
        return launch(null, List.of(), args, env).awaitStarted();
    }

    public ServerProcess awaitStarted() {
        await("the start-up line", START_TIMEOUT, () -> STARTED.matcher(stdout).find() || !process.isAlive());
        assertThat(process.isAlive()).as("server exited early; stdout: %s stderr: %s", stdout, stderr).isTrue();
        return this;
    }

    private Matcher started() {
        Matcher matcher = STARTED.matcher(stdout);
        assertThat(matcher.find()).as("start-up line in %s", stdout).isTrue();
        return matcher;
    }

    public String transport() {
        return started().group(1);
    }

    public int port() {
        return Integer.parseInt(started().group(2));
    }

    public int svcPort() {
        return Integer.parseInt(started().group(3));
    }

    public long pid() {
        return process.pid();
    }

    public String stdout() {
        return stdout.toString();
    }

    public String stderr() {
        return stderr.toString();
    }

    /** The complete lines printed on stdout so far. */
    public List<String> output() {
        return completeLines(stdout);
    }

    /** The complete lines printed on stderr so far. */
    public List<String> errors() {
        return completeLines(stderr);
    }

    private static List<String> completeLines(StringBuffer text) {
        String all = text.toString();
        int end = all.lastIndexOf('\n');
        return end < 0 ? List.of() : all.substring(0, end).lines().toList();
    }

    /** Waits for a line on stdout that matches and returns it; fails with the output so far otherwise. */
    public String awaitLine(java.util.function.Predicate<String> matches, Duration timeout) {
        String[] found = new String[1];
        await("a matching line in stdout:\n" + stdout + "\nstderr:\n" + stderr, timeout, () -> {
            for (String line : output()) {
                if (matches.test(line)) {
                    found[0] = line;
                    return true;
                }
            }
            assertThat(process.isAlive()).as("server running; stdout: %s stderr: %s", stdout, stderr).isTrue();
            return false;
        });
        return found[0];
    }

    /** The traffic port's open connections, from the server's own gauge on the service port. */
    public int openTrafficConnections() {
        return openTrafficConnections(svcPort());
    }

    /**
     * Waits until the server holds {@code count} traffic connections. Connected is not accepted: a connection
     * still in the kernel's backlog when the listener closes is reset (as with Go's Shutdown), so a test that
     * signals with a request in flight waits for this first.
     */
    public void awaitOpenTrafficConnections(int count) {
        awaitOpenTrafficConnections(svcPort(), count);
    }

    /** The same, for a server (a container's, say) whose service port is {@code svcPort} on 127.0.0.1. */
    public static void awaitOpenTrafficConnections(int svcPort, int count) {
        await("the server to hold " + count + " traffic connection(s)", Duration.ofSeconds(10),
                () -> openTrafficConnections(svcPort) == count);
    }

    /** The same as {@link #openTrafficConnections()}, for a server whose service port is {@code svcPort}. */
    public static int openTrafficConnections(int svcPort) {
        String metrics = RawConnection.exchange(svcPort, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
        Matcher gauge = Pattern.compile("\ndefaultbackend_open_connections\\{port=\"traffic\"} (\\d+)").matcher(metrics);
        assertThat(gauge.find()).as("open-connection gauge in %s", metrics).isTrue();
        return (int) Double.parseDouble(gauge.group(1));
    }

    /** Resident memory of the process in KiB, from /proc. */
    public long rssKib() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/" + process.pid() + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no VmRSS");
    }

    /**
     * Sends SIGTERM. Through the process handle: {@link Process#destroy()} would also close our end of the
     * output pipes and lose what the server prints while it stops.
     */
    public void terminate() {
        assertThat(process.toHandle().destroy()).as("SIGTERM sent").isTrue();
    }

    /** Sends a signal by name, for SIGINT and repeated signals. */
    public void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start();
            assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(kill.exitValue()).isZero();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Waits for the process to exit and returns its exit code, with all its output read. A process still
     * running at the deadline fails the test with its output and its threads' stacks.
     */
    public int awaitExit(Duration timeout) {
        try {
            boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!exited) {
                assertThat(exited).as("process exited within %s; stdout: %s; stderr: %s; its threads: %s",
                        timeout, stdout, stderr, threadDump()).isTrue();
            }
            for (Thread pump : pumps) {
                pump.join(TimeUnit.SECONDS.toMillis(10));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return process.exitValue();
    }

    /** The process's threads' stacks, by the test JDK's {@code jcmd}, or why there are none. */
    private String threadDump() {
        Path jcmd = Paths.get(System.getProperty("java.home"), "bin", "jcmd");
        if (!Files.isExecutable(jcmd)) {
            return "(none: no " + jcmd + ")";
        }
        try {
            Path out = Files.createTempFile("threads", ".txt");
            try {
                Process dump = new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "Thread.print")
                        .redirectErrorStream(true).redirectOutput(out.toFile()).start();
                boolean done = dump.waitFor(20, TimeUnit.SECONDS);
                if (!done) {
                    dump.destroyForcibly();
                }
                return (done ? "" : "(jcmd did not finish in 20 s) ") + Files.readString(out);
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            return "(none: " + e + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(none: interrupted)";
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Polls a condition until it holds, failing with {@code what} when the deadline passes first. */
    public static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("waiting for %s", what).isNegative();
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** Stops the server (SIGTERM), checks it exited 0 and that Netty reported no leak. */
    @Override
    public void close() {
        if (process.isAlive()) {
            terminate();
            try {
                int code = awaitExit(Duration.ofSeconds(30));
                assertThat(code).as("exit code after SIGTERM; stderr: %s", stderr).isZero();
            } finally {
                // A server that did not stop is not left behind for the tests after this one.
                process.destroyForcibly();
            }
        }
        assertThat(stdout + "" + stderr).as("Netty leak reports").doesNotContain("LEAK:");
    }

    private static Thread pump(InputStream in, StringBuffer into) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try {
                int n;
                while ((n = in.read(buffer)) != -1) {
                    into.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                into.append("<output closed: ").append(e.getMessage()).append('>');
            }
        }, "server-output");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
