package ai.echo.defaultbackend.it.image;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The image built from {@code docker/Dockerfile} by {@code docker/build-local.sh}, once per test JVM, and
 * a {@link Podman} bound to the storage it lives in. Any test that needs the image (these, the chart's
 * rendered pod) calls {@link #get()}; the first call builds, later calls reuse, and a failed build fails
 * every caller with the same reason instead of building again.
 *
 * <p>There is no skipping: without podman the build fails with what to install, because an image test
 * that passes on a machine that cannot run images proves nothing.
 */
public final class LocalImage {

    /** The tag the script builds. */
    public static final String TAG = "localhost/kubernetes-ingress-defaultbackend:dev";

    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(20);
    private static LocalImage built;
    private static RuntimeException buildFailure;

    private final String imageId;
    private final Podman podman;
    private final Duration buildTime;
    /** {@link #healthcheckRetries()}, once read; 0 before. */
    private int healthcheckRetries;

    private LocalImage(String imageId, Podman podman, Duration buildTime) {
        this.imageId = imageId;
        this.podman = podman;
        this.buildTime = buildTime;
    }

    /** The image, built on first use. */
    public static synchronized LocalImage get() {
        if (built != null) {
            return built;
        }
        if (buildFailure != null) {
            throw buildFailure;
        }
        try {
            built = build();
            return built;
        } catch (RuntimeException e) {
            buildFailure = e;
            throw e;
        }
    }

    public String tag() {
        return TAG;
    }

    /**
     * The ID of the image this JVM built. Tests run it by ID, not by tag: another worktree on the same
     * machine may build and re-tag {@link #TAG} from its own sources in the meantime.
     */
    public String imageId() {
        return imageId;
    }

    /**
     * The HEALTHCHECK's retries: how many failed checks in a row make a container unhealthy. Read from the
     * image once; every check run asks for it.
     */
    public synchronized int healthcheckRetries() {
        if (healthcheckRetries == 0) {
            healthcheckRetries = Integer.parseInt(podman.run(Duration.ofSeconds(30), "image", "inspect", "--format",
                    "{{.HealthCheck.Retries}}", imageId).orFail().stdout().strip());
        }
        return healthcheckRetries;
    }

    public Podman podman() {
        return podman;
    }

    public Duration buildTime() {
        return buildTime;
    }

    /** The repository root (where {@code docker/} is). */
    public static Path projectRoot() {
        String root = System.getProperty("project.root");
        if (root == null) {
            throw new IllegalStateException("system property project.root is not set (run through failsafe)");
        }
        return Path.of(root).toAbsolutePath().normalize();
    }

    /**
     * Starts the image detached with {@code podman run -d <options> <tag> <server args>}; the caller closes
     * the container.
     */
    public ImageContainer start(List<String> runOptions, List<String> serverArgs) {
        List<String> args = new ArrayList<>(List.of("run", "-d"));
        args.addAll(runOptions);
        args.add(imageId);
        args.addAll(serverArgs);
        String id = podman.run(Duration.ofSeconds(60), args).orFail().stdout().strip();
        return new ImageContainer(podman, id);
    }

    private static LocalImage build() {
        requireOnPath("podman", "apt-get install podman buildah runc uidmap slirp4netns");
        requireOnPath("debootstrap", "apt-get install debootstrap");
        Path root = projectRoot();
        Path script = root.resolve("docker/build-local.sh");
        Path log = root.resolve("backend-it/target/image-build.log");
        long start = System.nanoTime();
        Podman.Result result = Podman.exec(List.of("bash", script.toString()), Map.of(), root, BUILD_TIMEOUT);
        Duration buildTime = Duration.ofNanos(System.nanoTime() - start);
        try {
            Files.createDirectories(log.getParent());
            Files.writeString(log, result.stderr() + result.stdout());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (result.exitCode() != 0) {
            String output = result.stderr();
            throw new IllegalStateException("docker/build-local.sh failed (exit " + result.exitCode() + "), full log in "
                    + log + ":\n" + output.substring(Math.max(0, output.length() - 4000)));
        }
        String[] lines = result.stdout().strip().split("\n");
        String imageId = lines[lines.length - 1].strip();
        Map<String, String> env = new HashMap<>();
        String printed = Podman.exec(List.of("bash", script.toString(), "--print-env"), Map.of(), root,
                Duration.ofSeconds(30)).orFail().stdout();
        for (String line : printed.split("\n")) {
            String assignment = line.strip().replaceFirst("^export ", "");
            int equals = assignment.indexOf('=');
            if (equals > 0) {
                env.put(assignment.substring(0, equals), assignment.substring(equals + 1));
            }
        }
        if (!env.containsKey("CONTAINERS_CONF") || !env.containsKey("CONTAINERS_STORAGE_CONF")) {
            throw new IllegalStateException("build-local.sh --print-env printed no CONTAINERS_* variables: " + printed);
        }
        System.out.printf("image %s (%s) built or reused in %d s; build log %s%n", TAG, imageId,
                buildTime.toSeconds(), log);
        return new LocalImage(imageId, new Podman(env), buildTime);
    }

    private static void requireOnPath(String tool, String install) {
        for (String directory : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(directory, tool))) {
                return;
            }
        }
        for (String directory : List.of("/usr/sbin", "/sbin", "/usr/bin")) {
            if (Files.isExecutable(Path.of(directory, tool))) {
                return;
            }
        }
        throw new IllegalStateException(tool + " is not installed, so the image cannot be built or run here: "
                + install + " (CI's .ci/run installs it)");
    }
}
