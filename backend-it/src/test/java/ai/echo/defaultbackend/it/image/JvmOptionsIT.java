package ai.echo.defaultbackend.it.image;

import static org.assertj.core.api.Assertions.assertThat;

import ai.echo.defaultbackend.it.Jdk;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code docker/jvm.options} is also used on the host ({@code java @docker/jvm.options -jar ...}), where
 * the JDK may be 17 or 25: every flag in it must be accepted by both, silently. {@code docker/jvm25.options}
 * (read after it by the image) must be accepted silently by JDK 25. The JVMs run on the host, with the
 * container's memory limit stood in for by {@code -XX:MaxRAM}; where the JDKs are: {@link Jdk}.
 */
class JvmOptionsIT {

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void everyFlagIsAcceptedByTheJdk(Jdk jdk) {
        Podman.Result result = java(jdk, Map.of(), "-XX:MaxRAM=64m", "-XX:+PrintFlagsFinal", "-version");
        assertThat(result.exitCode()).as(result.describe()).isZero();
        assertThat(result.stderr()).as("warnings about the flags").doesNotContainIgnoringCase("warning")
                .doesNotContain("Unrecognized", "Ignoring");
        assertThat(result.stdout()).containsPattern("bool UseSerialGC\\s+= true")
                .containsPattern("bool UsePerfData\\s+= false")
                .containsPattern("bool ExitOnOutOfMemoryError\\s+= true")
                .containsPattern("size_t MaxHeapSize\\s+= 16777216")
                .containsPattern("size_t NewSize\\s+= 1048576 ")
                .containsPattern("bool TieredCompilation\\s+= false");
        if (jdk.readsJvm25Options()) {
            assertThat(result.stdout()).containsPattern("uint TrimNativeHeapInterval\\s+= 2000");
        }
    }

    /**
     * {@code java @docker/jvm.options [@docker/jvm25.options] flags...} on the host, as the image's ENTRYPOINT
     * orders them, with {@code env} added to the environment.
     */
    static Podman.Result java(Jdk jdk, Map<String, String> env, String... flags) {
        List<String> command = new ArrayList<>(List.of(jdk.requireHome().resolve("bin/java").toString(),
                "@" + LocalImage.projectRoot().resolve("docker/jvm.options")));
        if (jdk.readsJvm25Options()) {
            command.add("@" + LocalImage.projectRoot().resolve("docker/jvm25.options"));
        }
        command.addAll(List.of(flags));
        return Podman.exec(command, env, null, Duration.ofSeconds(60));
    }
}
