package ai.echo.defaultbackend.it.kustomize;

import ai.echo.defaultbackend.it.chart.Manifests;
import ai.echo.defaultbackend.it.chart.ProjectPaths;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/** {@code kubectl kustomize}, the Kustomize users have, run on the repository's {@code kustomize/} tree. */
public final class Kustomize {

    private Kustomize() {
    }

    /** kubectl on the PATH, or the test is skipped with a message saying so. */
    public static Path kubectl() {
        Optional<Path> found = Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .filter(dir -> !dir.isEmpty())
                .map(dir -> Path.of(dir, "kubectl"))
                .filter(Files::isExecutable)
                .findFirst();
        if (found.isEmpty()) {
            String message = "SKIPPED: kubectl is not on the PATH, so the Kustomize tests cannot build kustomize/;"
                    + " install kubectl (any release with kustomize v5) to run them";
            System.out.println(message);
            Assumptions.abort(message);
        }
        return found.get();
    }

    /** Builds a kustomization directory; fails with kubectl's own error when it does not build. */
    public static Manifests build(Path directory) {
        Run run = run(directory);
        if (run.exit() != 0) {
            throw new AssertionError("kubectl kustomize " + directory + " failed (exit " + run.exit() + "):\n"
                    + run.err());
        }
        return Manifests.parse(run.out());
    }

    /** kubectl's error for a kustomization directory that must not build; fails when it builds. */
    public static String failure(Path directory) {
        Run run = run(directory);
        if (run.exit() == 0) {
            throw new AssertionError("kubectl kustomize " + directory + " built, and should have failed:\n"
                    + run.out());
        }
        return run.err();
    }

    private record Run(int exit, String out, String err) {
    }

    private static Run run(Path directory) {
        ProcessBuilder builder = new ProcessBuilder(kubectl().toString(), "kustomize", directory.toString());
        try {
            Process process = builder.start();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(process.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
            if (!process.waitFor(2, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError("kubectl kustomize " + directory + " did not finish in 2 minutes");
            }
            return new Run(process.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * A kustomization of the base with some components, written under {@code backend-it/target}: Kustomize
     * refuses absolute paths, and a directory inside the repository reaches base and components relatively.
     */
    public static Path withComponents(String name, List<String> components) {
        return overlay(name, ProjectPaths.kustomize().resolve("base"), components, "");
    }

    /**
     * A kustomization as a user writes one on top of ours: {@code resource} (the base, an overlay, or another
     * of these), {@code components} of {@code kustomize/components}, then {@code more} (YAML lines of the
     * kustomization, such as {@code namePrefix: team-}), under {@code backend-it/target} as above.
     */
    public static Path overlay(String name, Path resource, List<String> components, String more) {
        Path directory = ProjectPaths.root().resolve("backend-it/target/kustomize-it").resolve(name);
        Path kustomize = ProjectPaths.kustomize();
        StringBuilder text = new StringBuilder("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
                .append("resources:\n  - ").append(relative(directory, resource)).append('\n');
        if (!components.isEmpty()) {
            text.append("components:\n");
            for (String component : components) {
                text.append("  - ").append(relative(directory, kustomize.resolve("components/" + component)))
                        .append('\n');
            }
        }
        text.append(more);
        try {
            Files.createDirectories(directory);
            Files.writeString(directory.resolve("kustomization.yaml"), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return directory;
    }

    private static String relative(Path from, Path to) {
        return from.toAbsolutePath().normalize().relativize(to.toAbsolutePath().normalize()).toString();
    }

    private static String read(InputStream in) {
        try (in; ByteArrayOutputStream buffer = new ByteArrayOutputStream()) {
            in.transferTo(buffer);
            return buffer.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
