package ai.echo.defaultbackend.it.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code podman} against the storage and configuration that {@code docker/build-local.sh} built the
 * image in, so that tests see the image the script made and nothing else on the machine.
 */
public final class Podman {

    /** For podman commands that start a JVM in a container (health checks): podman's own locks can stall them. */
    public static final Duration SLOW_COMMAND = Duration.ofSeconds(120);

    /** What a finished command printed and returned. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {

        /** Fails with the command, its exit code and its output unless it exited 0. */
        public Result orFail() {
            if (exitCode != 0) {
                throw new IllegalStateException(describe());
            }
            return this;
        }

        public String describe() {
            return String.join(" ", command) + " exited " + exitCode + "\nstdout: " + stdout + "\nstderr: " + stderr;
        }
    }

    private final Map<String, String> env;

    Podman(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    /** The CONTAINERS_* variables every podman call gets. */
    public Map<String, String> env() {
        return env;
    }

    /** Runs {@code podman args...}, waiting at most {@code timeout}. */
    public Result run(Duration timeout, String... args) {
        return run(timeout, List.of(args));
    }

    public Result run(Duration timeout, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add("podman");
        command.addAll(args);
        return exec(command, env, null, timeout);
    }

    /** Runs any command with extra environment, capturing its output, killing it at the timeout. */
    static Result exec(List<String> command, Map<String, String> extraEnv, Path directory, Duration timeout) {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(extraEnv);
        if (directory != null) {
            builder.directory(directory.toFile());
        }
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
        }
        try {
            process.getOutputStream().close(); // nothing to send: a command that reads stdin gets EOF
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        CompletableFuture<String> stdout = CompletableFuture.supplyAsync(() -> read(process.getInputStream()));
        CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeout
                        + "\nstdout: " + stdout.getNow("") + "\nstderr: " + stderr.getNow(""));
            }
            return new Result(List.copyOf(command), process.exitValue(), stdout.join(), stderr.join());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IllegalStateException("interrupted while running " + command, e);
        }
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(output unreadable: " + e.getMessage() + ")";
        }
    }
}
