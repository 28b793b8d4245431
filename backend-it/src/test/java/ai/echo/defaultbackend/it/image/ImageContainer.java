package ai.echo.defaultbackend.it.image;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A container of the image, started detached; {@link #close()} removes it whatever its state. */
public final class ImageContainer implements AutoCloseable {

    private final Podman podman;
    private final String id;

    ImageContainer(Podman podman, String id) {
        this.podman = podman;
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** What the container wrote to stdout and stderr so far. */
    public String logs() {
        Podman.Result result = podman.run(Duration.ofSeconds(30), "logs", id).orFail();
        return result.stdout() + result.stderr();
    }

    /** {@code podman inspect --format <template>}. */
    public String inspect(String template) {
        return podman.run(Duration.ofSeconds(30), "inspect", "--format", template, id).orFail().stdout().strip();
    }

    public boolean isRunning() {
        return inspect("{{.State.Running}}").equals("true");
    }

    /** The container's first process as the host sees it. */
    public long hostPid() {
        return Long.parseLong(inspect("{{.State.Pid}}"));
    }

    /**
     * Polls the logs until {@code pattern} matches and returns the match; fails at the deadline or as soon
     * as the container has stopped, with its logs.
     */
    public Matcher awaitLog(Pattern pattern, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            // Whether it runs is asked before the logs are read: logs read after it stopped are all it wrote.
            boolean running = isRunning();
            String logs = logs();
            Matcher matcher = pattern.matcher(logs);
            if (matcher.find()) {
                return matcher;
            }
            if (!running) {
                throw new AssertionError("container stopped (" + inspect("{{.State.Status}} exit {{.State.ExitCode}}"
                        + " oom-killed {{.State.OOMKilled}}") + ") before its logs matched " + pattern + ":\n" + logs);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no log line matched " + pattern + " within " + timeout + ":\n" + logs);
            }
            LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
        }
    }

    /** {@code podman exec <id> command...}, as the container's user, under its constraints. */
    public Podman.Result exec(Duration timeout, String... command) {
        List<String> args = new ArrayList<>(List.of("exec", id));
        args.addAll(List.of(command));
        return podman.run(timeout, args);
    }

    /**
     * Runs the image's HEALTHCHECK as podman's timer does ({@code podman healthcheck run}: the check's command
     * under the check's own timeout) until it passes or {@code retries} attempts in a row have failed, which
     * is when podman marks a container unhealthy. One attempt over the timeout does happen here (podman exit
     * 125, "healthcheck command exceeded timeout of 5s", in a fresh-clone CI run, where the check takes about
     * 0.3 s), and riding that out is what the image's retries are for; a check that never passes still fails.
     * Each failed attempt is printed with its time.
     *
     * @return the last attempt: exit 0 when the container is healthy
     */
    public Podman.Result healthcheck(int retries) {
        Podman.Result result = null;
        for (int attempt = 1; attempt <= retries; attempt++) {
            long start = System.nanoTime();
            result = podman.run(Podman.SLOW_COMMAND, "healthcheck", "run", id);
            if (result.exitCode() == 0) {
                return result;
            }
            System.out.printf("HEALTHCHECK attempt %d of %d failed after %d ms: %s%n", attempt, retries,
                    Duration.ofNanos(System.nanoTime() - start).toMillis(), result.describe());
        }
        return result;
    }

    /** Sends a signal to the container's first process (the JVM: the image has no init and no shell). */
    public void signal(String signal) {
        podman.run(Duration.ofSeconds(30), "kill", "--signal", signal, id).orFail();
    }

    /** Waits for the container to stop and returns its exit code; fails at the timeout. */
    public int awaitExit(Duration timeout) {
        String code = podman.run(timeout, "wait", id).orFail().stdout().strip();
        return Integer.parseInt(code);
    }

    /** {@code podman diff}: the paths added (A), changed (C) or deleted (D) in the container's filesystem. */
    public List<String> diff() {
        String out = podman.run(Duration.ofSeconds(30), "diff", id).orFail().stdout();
        return out.lines().map(String::strip).filter(line -> !line.isEmpty()).toList();
    }

    @Override
    public void close() {
        podman.run(Duration.ofSeconds(60), "rm", "--force", "--time", "0", id);
    }
}
