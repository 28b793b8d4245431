package ai.echo.defaultbackend.it.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code docker/jvm.options} is also used on the host ({@code java @docker/jvm.options -jar ...}), where
 * the JDK may be 17 or 25: every flag in it must be accepted by both, silently.
 */
class JvmOptionsIT {

    @ParameterizedTest
    @ValueSource(strings = {"/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/temurin-25-jdk-amd64"})
    void everyFlagIsAcceptedByTheJdk(String javaHome) {
        Path java = Path.of(javaHome, "bin", "java");
        if (!Files.isExecutable(java)) {
            throw new IllegalStateException("no JDK at " + javaHome + ": the project runs on JDK 17 and 25 (CI has both)");
        }
        Path options = LocalImage.projectRoot().resolve("docker/jvm.options");
        Podman.Result result = Podman.exec(List.of(java.toString(), "@" + options, "-XX:MaxRAM=64m",
                "-XX:+PrintFlagsFinal", "-version"), Map.of(), null, Duration.ofSeconds(60));
        assertThat(result.exitCode()).as(result.describe()).isZero();
        assertThat(result.stderr()).as("warnings about the flags").doesNotContainIgnoringCase("warning")
                .doesNotContain("Unrecognized", "Ignoring");
        assertThat(result.stdout()).containsPattern("bool UseSerialGC\\s+= true")
                .containsPattern("bool UsePerfData\\s+= false")
                .containsPattern("bool ExitOnOutOfMemoryError\\s+= true")
                .containsPattern("size_t MaxHeapSize\\s+= 16777216");
    }
}
