package ai.echo.defaultbackend.it.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.node.ObjectNode;

/** Guards the guard: ChartPodIT is only as strict as the translation of the pod spec into podman options. */
class PodAsPodmanIT {

    private static Manifests defaults;

    @BeforeAll
    static void renderDefaults() {
        defaults = HelmChart.ours().render();
    }

    @Test
    void theDefaultPodBecomesItsConstraints() {
        assertThat(String.join(" ", PodAsPodman.runOptions(defaults.podSpec(), defaults.container())))
                .contains("--user 65534:65534", "--read-only --read-only-tmpfs=false",
                        "--security-opt no-new-privileges", "--cap-drop ALL", "--memory 67108864b",
                        "--memory-swap 67108864b", "--cpu-shares 10", "--no-healthcheck")
                .doesNotContain("seccomp=unconfined", "--cpus", "--tmpfs", "--volume", "--privileged");
    }

    @ParameterizedTest
    @ValueSource(strings = {"procMount", "seLinuxOptions", "windowsOptions"})
    void aSecurityContextFieldItCannotImposeFails(String field) {
        ObjectNode pod = defaults.podSpec().deepCopy();
        ObjectNode container = defaults.container().deepCopy();
        ((ObjectNode) container.path("securityContext")).put(field, "x");

        assertThatThrownBy(() -> PodAsPodman.runOptions(pod, container)).hasMessageContaining(field);
    }

    @Test
    void volumesAndUnknownContainerFieldsFail() {
        ObjectNode withVolume = defaults.podSpec().deepCopy();
        withVolume.putArray("volumes").addObject().put("name", "tmp").putObject("emptyDir");
        ObjectNode withLifecycle = defaults.container().deepCopy();
        withLifecycle.putObject("lifecycle");

        assertThatThrownBy(() -> PodAsPodman.runOptions(withVolume, defaults.container()))
                .hasMessageContaining("volumes");
        assertThatThrownBy(() -> PodAsPodman.runOptions(defaults.podSpec(), withLifecycle))
                .hasMessageContaining("lifecycle");
    }

    @Test
    void anUnsetSeccompProfileRunsUnconfinedAsAKubeletWould() {
        ObjectNode pod = defaults.podSpec().deepCopy();
        ObjectNode container = defaults.container().deepCopy();
        ((ObjectNode) pod.path("securityContext")).remove("seccompProfile");
        ((ObjectNode) container.path("securityContext")).remove("seccompProfile");

        assertThat(PodAsPodman.runOptions(pod, container)).containsSequence("--security-opt", "seccomp=unconfined");
    }

    @ParameterizedTest
    @CsvSource({"64Mi, 67108864", "1Gi, 1073741824", "128M, 128000000", "512Ki, 524288", "1048576, 1048576",
            "1.5Gi, 1610612736"})
    void memoryQuantities(String quantity, long bytes) {
        assertThat(PodAsPodman.bytes(quantity)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @CsvSource({"10m, 10", "0.5, 500", "2, 2000", "250m, 250"})
    void cpuQuantities(String quantity, long milli) {
        assertThat(PodAsPodman.milliCpu(quantity)).isEqualTo(milli);
    }
}
