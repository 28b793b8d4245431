package ai.echo.defaultbackend.it.chart;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the repository is: failsafe passes its root as the {@code project.root} system property. */
public final class ProjectPaths {

    private ProjectPaths() {
    }

    public static Path root() {
        String root = System.getProperty("project.root");
        if (root == null) {
            throw new AssertionError("system property project.root is not set; run the tests with ./mvnw verify");
        }
        Path path = Path.of(root).toAbsolutePath().normalize();
        if (!Files.isRegularFile(path.resolve("pom.xml"))) {
            throw new AssertionError("project.root " + path + " is not the repository root");
        }
        return path;
    }

    public static Path chart() {
        return root().resolve("charts/kubernetes-ingress-defaultbackend");
    }

    public static Path kustomize() {
        return root().resolve("kustomize");
    }
}
