package ai.echo.defaultbackend.it.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What is in the image and how it is declared: no shell, no package manager, a jlinked runtime, the AOT cache. */
class ImageContentsIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static LocalImage image;
    private static List<String> files;

    @BeforeAll
    static void exportFilesystem() throws IOException {
        image = LocalImage.get();
        String id = image.podman().run(TIMEOUT, "create", "--health-interval", "disable", image.imageId())
                .orFail().stdout().strip();
        Path tar = Files.createTempFile("kidb-image-", ".tar");
        try {
            image.podman().run(TIMEOUT, "export", "--output", tar.toString(), id).orFail();
            String listing = Podman.exec(List.of("tar", "-tf", tar.toString()), Map.of(), null, TIMEOUT).orFail().stdout();
            files = listing.lines().map(line -> "/" + line.replaceFirst("^\\./", "").replaceFirst("/$", "")).toList();
        } finally {
            Files.deleteIfExists(tar);
            image.podman().run(TIMEOUT, "rm", "--force", id);
        }
    }

    @Test
    void hasNoShellAndNoPackageManager() {
        assertThat(files).as("the image's files").isNotEmpty().contains("/app/backend-server.jar");
        assertThat(files).filteredOn(path -> path.matches(
                        "/(usr/)?(s?bin|lib)/(sh|bash|dash|ash|zsh|busybox|apt|apt-get|dpkg|rpm|yum|dnf|microdnf|apk)")
                        || path.matches("/var/lib/(dpkg|apt|rpm)(/.*)?"))
                .as("shells and package managers").isEmpty();

        Podman.Result shell = image.podman().run(TIMEOUT, "run", "--rm", "--network", "none", "--health-interval",
                "disable", "--entrypoint", "/bin/sh", image.imageId(), "-c", "true");
        assertThat(shell.exitCode()).as("running /bin/sh: %s", shell.describe()).isNotZero();
        assertThat(shell.stderr()).contains("/bin/sh");
    }

    @Test
    void carriesOnlyTheNativeLibrariesOfItsArchitecture() {
        String arch = System.getProperty("os.arch").equals("aarch64") ? "aarch_64" : "x86_64";
        assertThat(files).filteredOn(path -> path.startsWith("/app/lib/") && path.endsWith(".so"))
                .containsExactlyInAnyOrder("/app/lib/libnetty_transport_native_epoll_" + arch + ".so",
                        "/app/lib/libnetty_transport_native_io_uring42_" + arch + ".so");
    }

    @Test
    void runsOnAJlinkedRuntimeWithTheModulesTheServerNeeds() {
        String modules = image.podman().run(TIMEOUT, "run", "--rm", "--network", "none", "--health-interval",
                "disable", "--entrypoint", "/opt/jre/bin/java", image.imageId(), "--list-modules").orFail().stdout();
        assertThat(modules.lines().map(line -> line.replaceFirst("@.*", "")).toList())
                .contains("java.base", "jdk.unsupported", "java.management", "jdk.management")
                .doesNotContain("jdk.compiler", "java.desktop", "jdk.jshell");
    }

    @Test
    void usesItsAotCache() {
        // AOTMode=on makes an unusable cache (other runtime, other jar, other GC) a start-up error
        // instead of a silent fallback to a cold start.
        Podman.Result version = image.podman().run(TIMEOUT, "run", "--rm", "--network", "none", "--read-only",
                "--read-only-tmpfs=false", "--health-interval", "disable", "-e", "JDK_JAVA_OPTIONS=-XX:AOTMode=on",
                image.imageId(), "--version");
        assertThat(version.exitCode()).as(version.describe()).isZero();
        assertThat(version.stdout()).startsWith("kubernetes-ingress-defaultbackend ");
    }

    @Test
    void declaresUserPortsEntrypointHealthcheckAndLabels() throws IOException {
        assertThat(inspect("{{.Config.User}}")).isEqualTo("65534:65534");
        assertThat(inspect("{{.Config.ExposedPorts}}")).contains("8080/tcp", "10254/tcp");
        assertThat(inspect("{{.Config.Entrypoint}}"))
                .as("exec form: the JVM itself is PID 1 and gets SIGTERM")
                .startsWith("[/opt/jre/bin/java @/app/jvm.options @/app/jvm25.options ")
                .contains("-XX:AOTCache=/app/backend-server.aot", "-Djava.library.path=/app/lib")
                .endsWith(" -jar /app/backend-server.jar]");
        // The Dockerfile's list, element for element: docker/README.md shows that list (DockerReadmeIT).
        assertThat(DockerReadmeIT.strings(inspect("{{json .Config.Entrypoint}}"))).as("the image's ENTRYPOINT")
                .isEqualTo(DockerReadmeIT.dockerfileEntrypoint());
        assertThat(inspect("{{.HealthCheck.Test}}")).as("exec-form HEALTHCHECK, no shell")
                .startsWith("[CMD /opt/jre/bin/java ").endsWith(" healthcheck]");
        // The tests that run the check ride out failed attempts up to the retries, as podman does: kept at 3.
        assertThat(inspect("{{.HealthCheck.Retries}} {{.HealthCheck.Timeout}}")).as("HEALTHCHECK retries and timeout")
                .isEqualTo("3 5s");
        for (String label : List.of("source", "version", "revision", "licenses", "created")) {
            assertThat(inspect("{{index .Config.Labels \"org.opencontainers.image." + label + "\"}}"))
                    .as("label org.opencontainers.image.%s", label).isNotBlank().isNotEqualTo("<no value>");
        }
        assertThat(inspect("{{index .Config.Labels \"org.opencontainers.image.licenses\"}}")).isEqualTo("Apache-2.0");
        Podman.Result head = Podman.exec(List.of("git", "-C", LocalImage.projectRoot().toString(), "rev-parse", "HEAD"),
                Map.of(), null, TIMEOUT);
        assertThat(inspect("{{index .Config.Labels \"org.opencontainers.image.revision\"}}")).as("revision label")
                .isEqualTo(head.exitCode() == 0 ? head.stdout().strip() : "unknown");
    }

    private static String inspect(String template) {
        return image.podman().run(TIMEOUT, "image", "inspect", "--format", template, image.imageId())
                .orFail().stdout().strip();
    }
}
