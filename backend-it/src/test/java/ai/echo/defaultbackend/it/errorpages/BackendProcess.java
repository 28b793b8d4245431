package ai.echo.defaultbackend.it.errorpages;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged jar, started as its own process the way a user runs it, on ports the kernel picks
 * ({@code --port 0 --svc-port 0}) and bound to loopback. The ports are read from the start-up line; every
 * line of its stdout (its log and access log) and of its stderr (where the JVM itself warns) is kept for
 * assertions.
 */
public final class BackendProcess implements AutoCloseable {

    public static final Duration START_DEADLINE = Duration.ofSeconds(30);
    private static final Pattern STARTED = Pattern.compile("started: .*traffic port (\\d+), service port (\\d+)");

    private final Process process;
    private final List<String> output = new CopyOnWriteArrayList<>();
    private final List<String> errors = new CopyOnWriteArrayList<>();
    private final int port;
    private final int svcPort;

    private BackendProcess(List<String> args, Map<String, String> env) throws IOException, InterruptedException {
        Path jar = Path.of(System.getProperty("backend.jar", "../backend-server/target/backend-server.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no packaged server at " + jar.toAbsolutePath()
                    + ": run ./mvnw package (or verify) first");
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-jar");
        command.add(jar.toString());
        command.addAll(List.of("--port", "0", "--svc-port", "0", "--bind-address", "127.0.0.1"));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(env);
        process = builder.start();
        collect(process.getInputStream(), output, "backend-stdout");
        collect(process.getErrorStream(), errors, "backend-stderr");
        String started = awaitLine(line -> STARTED.matcher(line).find(), START_DEADLINE);
        Matcher matcher = STARTED.matcher(started);
        matcher.find();
        port = Integer.parseInt(matcher.group(1));
        svcPort = Integer.parseInt(matcher.group(2));
    }

    private static void collect(java.io.InputStream stream, List<String> into, String name) {
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    into.add(line);
                }
            } catch (IOException e) {
                into.add("<unreadable: " + e + ">");
            }
        }, name);
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts the jar with these extra flags and environment variables; returns once it listens. */
    public static BackendProcess start(List<String> args, Map<String, String> env)
            throws IOException, InterruptedException {
        return new BackendProcess(args, env);
    }

    public static BackendProcess start(String... args) throws IOException, InterruptedException {
        return new BackendProcess(List.of(args), Map.of());
    }

    public int port() {
        return port;
    }

    public int svcPort() {
        return svcPort;
    }

    /** Every line printed on stdout so far. */
    public List<String> output() {
        return List.copyOf(output);
    }

    /** Every line printed on stderr so far. */
    public List<String> errors() {
        return List.copyOf(errors);
    }

    /** Waits for a line on stdout that matches, and returns it; fails with the output so far otherwise. */
    public String awaitLine(Predicate<String> matches, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (String line : output) {
                if (matches.test(line)) {
                    return line;
                }
            }
            if (!process.isAlive() && output.stream().noneMatch(matches)) {
                throw new AssertionError("the server exited with " + process.waitFor() + "; output:\n"
                        + String.join("\n", output) + "\nstderr:\n" + String.join("\n", errors));
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("no such line within " + timeout + "; output:\n" + String.join("\n", output)
                        + "\nstderr:\n" + String.join("\n", errors));
            }
            Thread.sleep(10);
        }
    }

    /** SIGTERM, then waits for the exit; kills it if it does not stop. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
