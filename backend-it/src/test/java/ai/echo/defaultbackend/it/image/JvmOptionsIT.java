package ai.echo.defaultbackend.it.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code docker/jvm.options} is also used on the host ({@code java @docker/jvm.options -jar ...}), where
 * the JDK may be 17 or 25: every flag in it must be accepted by both, silently. {@code docker/jvm25.options}
 * (read after it by the image) must be accepted silently by JDK 25.
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
        List<String> command = new ArrayList<>(List.of(java.toString(), "@" + options));
        boolean jdk25 = javaHome.contains("25");
        if (jdk25) {
            command.add("@" + LocalImage.projectRoot().resolve("docker/jvm25.options"));
        }
        command.addAll(List.of("-XX:MaxRAM=64m", "-XX:+PrintFlagsFinal", "-version"));
        Podman.Result result = Podman.exec(command, Map.of(), null, Duration.ofSeconds(60));
        assertThat(result.exitCode()).as(result.describe()).isZero();
        assertThat(result.stderr()).as("warnings about the flags").doesNotContainIgnoringCase("warning")
                .doesNotContain("Unrecognized", "Ignoring");
        assertThat(result.stdout()).containsPattern("bool UseSerialGC\\s+= true")
                .containsPattern("bool UsePerfData\\s+= false")
                .containsPattern("bool ExitOnOutOfMemoryError\\s+= true")
                .containsPattern("size_t MaxHeapSize\\s+= 16777216")
                .containsPattern("size_t NewSize\\s+= 1048576 ")
                .containsPattern("bool TieredCompilation\\s+= false");
        if (jdk25) {
            assertThat(result.stdout()).containsPattern("uint TrimNativeHeapInterval\\s+= 2000");
        }
    }
}
