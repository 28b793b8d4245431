package ai.echo.defaultbackend;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * The command line: {@code backend-server [flags]} runs the server until SIGTERM or SIGINT;
 * {@code backend-server healthcheck [flags]} checks a running one.
 *
 * <p>Exit codes as 1.5: 0 after a graceful stop, 1 when a port cannot be bound (or the transport asked for
 * cannot load), 2 for an unknown or malformed flag.
 */
public final class Main {

    /** How long the last lines on stdout may take to be written, once the server has stopped. */
    static final Duration OUTPUT_TIMEOUT = Duration.ofSeconds(1);

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(Arrays.asList(args), System.getenv(), System.out, System.err));
    }

    static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
        if (!args.isEmpty() && args.get(0).equals("healthcheck")) {
            return HealthCheck.run(args.subList(1, args.size()), env, out, err);
        }
        BackendConfig.Command command;
        try {
            command = BackendConfig.parse(args, env);
        } catch (Flags.InvalidFlagException e) {
            err.println(e.getMessage());
            return 2;
        }
        if (command instanceof BackendConfig.Help) {
            out.print(BackendConfig.usage());
            return 0;
        }
        if (command instanceof BackendConfig.Version) {
            out.println(BuildInfo.NAME + " " + BuildInfo.VERSION);
            return 0;
        }
        return serve(((BackendConfig.Run) command).config(), err);
    }

    /**
     * Runs the server until a stop signal. Its standard output (file descriptor 1: the log, the stop line, the
     * access log) is written by one thread of its own ({@link Stdout}), so that a stdout nobody reads holds up
     * neither the traffic nor the stop: the process exits within {@code --timeout} and
     * {@link #OUTPUT_TIMEOUT} plus {@link AccessLog#CLOSE_TIMEOUT}, written or not.
     */
    private static int serve(BackendConfig config, PrintStream err) {
        Stdout stdout = new Stdout(new FileOutputStream(FileDescriptor.out));
        System.setOut(stdout.printStream());
        // Our own handlers, not shutdown hooks: a JVM that exits from a hook after SIGTERM reports 143,
        // and 1.5 exits 0 after draining.
        StopSignals stopSignals = new StopSignals(stdout, config.shutdownTimeout());
        List<String> ignored = new ArrayList<>();
        for (String name : List.of("TERM", "INT")) {
            // The JVM installs no handler for a signal the process was started with ignored (a background
            // job of a non-interactive shell ignores SIGINT, say), where Go's signal.Notify, and so 1.5, would:
            // the signal stays ignored, and saying so at start is all that can be done.
            if (Signal.handle(new Signal(name), stopSignals) == SignalHandler.SIG_IGN) {
                ignored.add("SIG" + name);
            }
        }

        BackendServer server;
        try {
            server = BackendServer.start(config, stdout);
        } catch (BackendServer.BindFailedException | Transport.UnavailableException e) {
            err.println(e.getMessage());
            stdout.close(OUTPUT_TIMEOUT);
            return 1;
        }
        Logger log = LoggerFactory.getLogger(Main.class);
        log.info("{} {} started: transport {}, traffic port {}, service port {}, {}, {} io threads, "
                        + "at most {} connections, JVM {} ({}); {}",
                BuildInfo.NAME, BuildInfo.VERSION, server.transport().flagValue(), server.port(), server.svcPort(),
                config.bindAddress().isEmpty() ? "all addresses" : "address " + config.bindAddress(),
                server.ioThreads(), server.maxConnections(), Runtime.version(), System.getProperty("java.vm.vendor"),
                server.describeFeatures());

        if (!ignored.isEmpty()) {
            log.warn("{} ignored: this process was started with {} ignored (as a background job of a "
                    + "non-interactive shell, say), and the JVM keeps it so; stop the server with {}",
                    String.join(" and ", ignored), ignored.size() == 1 ? "it" : "them",
                    ignored.contains("SIGTERM") ? "SIGKILL" : "SIGTERM");
        }
        stopSignals.awaitFirst();
        if (!server.drain(config.shutdownTimeout())) {
            // On stderr, where 1.5 says "could not gracefully shutdown http server: context deadline exceeded".
            err.println("shutdown timeout of " + GoDuration.format(config.shutdownTimeout())
                    + " reached; remaining connections were closed");
            err.flush();
        }
        // The stop line and the last access-log lines, if stdout takes them in time.
        stdout.close(OUTPUT_TIMEOUT);
        return 0;
    }

    /**
     * SIGTERM and SIGINT. The first starts the drain; the ones after it are ignored, as 1.5 ignores them (it
     * reads its signal channel once): a container runtime may send SIGTERM more than once, and ending the
     * process then would cut off the requests in flight that the drain is for. {@code --timeout} bounds the
     * drain all the same, and SIGKILL still ends it at once. One line says so, once, after the stop line.
     */
    private static final class StopSignals implements SignalHandler {
        private final Stdout out;
        private final Duration timeout;
        private final CountDownLatch requested = new CountDownLatch(1);
        /** The stop line is printed: a signal now is one after the first. Guarded by {@code this}. */
        private boolean stopping;
        /** The line about signals after the first is printed. Guarded by {@code this}. */
        private boolean toldIgnored;

        StopSignals(Stdout out, Duration timeout) {
            this.out = out;
            this.timeout = timeout;
        }

        /** Runs on a thread the JVM starts for each signal; prints without waiting on stdout. */
        @Override
        public void handle(Signal signal) {
            synchronized (this) {
                if (stopping && !toldIgnored) {
                    toldIgnored = true;
                    out.line("SIG" + signal.getName() + " ignored: already stopping, within --timeout ("
                            + GoDuration.format(timeout) + "); later signals are ignored too");
                }
            }
            requested.countDown();
        }

        /** Waits for the first signal, then hands the stop line to stdout, without waiting for it to be written. */
        void awaitFirst() {
            awaitUninterruptibly(requested);
            synchronized (this) {
                out.line("stopping http server...");
                stopping = true;
            }
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
