package ai.echo.defaultbackend.it.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * Values that pass the values schema and once rendered objects the strict JSON schemas accept, but that the API
 * server (or the server, at start) would refuse or read otherwise: rendered as meant, or refused at render with
 * a message. Each test names the values a user sets and what the API server would do with the object.
 */
class ChartApiRulesIT {

    private static final K8sSchemas SCHEMAS = K8sSchemas.shared();

    /**
     * {@code --set updateStrategy.type=Recreate}: Helm merges the map into the default, so the default
     * rollingUpdate stays, and the API server refuses the Deployment ("spec.strategy.rollingUpdate: Forbidden:
     * may not be specified when strategy `type` is 'Recreate'").
     */
    @Test
    void recreateStrategyRendersWithoutTheDefaultRollingUpdate() {
        JsonNode strategy = Manifests.parse(HelmChart.ours().template(Map.of("updateStrategy.type", "Recreate")))
                .only("Deployment").path("spec").path("strategy");

        assertThat(strategy.path("type").asString()).isEqualTo("Recreate");
        assertThat(strategy.has("rollingUpdate")).as("rendered strategy %s", strategy).isFalse();
    }

    /**
     * Helm's documented way to drop a default is null, which the HPA template honours. For the PDB,
     * {@code minAvailable: null} with {@code maxUnavailable: 1} fails "set minAvailable or maxUnavailable, not
     * both" (toString of nil is "<nil>").
     */
    @Test
    void pdbMinAvailableSetToNullLeavesMaxUnavailable(@TempDir Path scratch) throws Exception {
        Path values = scratch.resolve("values.yaml");
        Files.writeString(values, """
                replicaCount: 3
                podDisruptionBudget:
                  minAvailable: null
                  maxUnavailable: 1
                """);

        JsonNode spec = HelmChart.ours().render(values).only("PodDisruptionBudget").path("spec");
        assertThat(spec.path("maxUnavailable").asInt()).isEqualTo(1);
        assertThat(spec.has("minAvailable")).isFalse();
    }

    /**
     * {@code minAvailable: null} alone renders {@code minAvailable:} with no value: a policy/v1 PDB with neither
     * field, which the disruption controller treats as "every disruption allowed": a budget that guards nothing.
     * Refused at render instead.
     */
    @Test
    void pdbNeverRendersANullBudget(@TempDir Path scratch) throws Exception {
        Path values = scratch.resolve("values.yaml");
        Files.writeString(values, """
                replicaCount: 3
                podDisruptionBudget:
                  minAvailable: null
                """);

        assertThatThrownBy(() -> HelmChart.ours().render(values)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("podDisruptionBudget: set minAvailable or maxUnavailable");
    }

    /**
     * Values the schema and templates accept, that render valid-looking objects the API server (or the server
     * at start) refuses: liveness and startup successThreshold must be 1, a readiness probe takes no
     * terminationGracePeriodSeconds, minReplicas above maxReplicas, and --port equal to --svc-port.
     */
    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', textBlock = """
            livenessProbe.successThreshold                | 2
            startupProbe.successThreshold                 | 3
            readinessProbe.terminationGracePeriodSeconds  | 10
            port                                          | 10254
            """)
    void valuesTheApiServerOrTheServerRefusesAreRefusedAtRender(String key, int value) {
        assertThatThrownBy(() -> HelmChart.ours().template(Map.of(key, value))).as("--set %s=%s", key, value)
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void autoscalingMinAboveMaxIsRefusedAtRender() {
        assertThatThrownBy(() -> HelmChart.ours().template(Map.of("autoscaling.enabled", true,
                "autoscaling.minReplicas", 8, "autoscaling.maxReplicas", 6))).isInstanceOf(IllegalStateException.class);
    }

    /**
     * Helm accepts any DNS-label release name, 123 and on included; the chart's labels go through fromYaml (YAML
     * 1.1) and the selectors are unquoted, so the instance label becomes a number or a boolean and the API
     * server refuses every object (labels and selectors are strings).
     */
    @ParameterizedTest
    @ValueSource(strings = {"123", "on", "yes"})
    void everyLabelIsAStringWhateverTheReleaseName(String release) {
        Manifests rendered = Manifests.parse(new Helm(ProjectPaths.chart()).template().withName(release)
                .withNamespace(HelmChart.NAMESPACE).withKubeVersion(HelmChart.KUBE_VERSION)
                .set("replicaCount", 2).call());

        assertThat(SCHEMAS.problems(rendered)).isEmpty();
    }

    /**
     * {@code commonLabels} are on every object of the release, the {@code helm test} pod's too; and the pod
     * takes labels and annotations of its own, such as Istio's opt-out, without which a mesh's sidecar keeps
     * it running and {@code helm test} waits for it to its timeout.
     */
    @Test
    void theTestPodCarriesCommonLabelsAndItsOwnExtras(@TempDir Path scratch) throws Exception {
        Path values = scratch.resolve("values.yaml");
        Files.writeString(values, """
                commonLabels:
                  cost-center: edge
                  app.kubernetes.io/component: overridden
                tests:
                  podLabels:
                    team: platform
                  podAnnotations:
                    sidecar.istio.io/inject: "false"
                    helm.sh/hook: pre-install
                """);
        JsonNode metadata = HelmChart.ours().renderWithTestHook(scratch, values).only("Pod").path("metadata");
        JsonNode labels = metadata.path("labels");

        assertThat(labels.path("cost-center").asString()).isEqualTo("edge");
        assertThat(labels.path("team").asString()).isEqualTo("platform");
        assertThat(labels.path("app.kubernetes.io/component").asString()).as("the test pod's own label stays")
                .isEqualTo("test");
        assertThat(metadata.path("annotations").path("sidecar.istio.io/inject").asString()).isEqualTo("false");
        assertThat(metadata.path("annotations").path(HelmChart.HOOK_ANNOTATION).asString()).as("still a test hook")
                .isEqualTo("test");
    }

    /**
     * A constraint without a labelSelector counts no pods, so spreads nothing; it gets this release's selector
     * labels, which a user cannot write in values without knowing the release's name. One with its own stays.
     */
    @Test
    void aSpreadConstraintWithoutALabelSelectorGetsTheReleasesPods(@TempDir Path scratch) throws Exception {
        Path values = scratch.resolve("values.yaml");
        Files.writeString(values, """
                replicaCount: 3
                topologySpreadConstraints:
                  - maxSkew: 1
                    topologyKey: kubernetes.io/hostname
                    whenUnsatisfiable: DoNotSchedule
                  - maxSkew: 2
                    topologyKey: topology.kubernetes.io/zone
                    whenUnsatisfiable: ScheduleAnyway
                    labelSelector:
                      matchLabels:
                        team: edge
                """);
        Manifests rendered = HelmChart.ours().render(values);
        JsonNode constraints = rendered.podSpec().path("topologySpreadConstraints");

        assertThat(constraints).hasSize(2);
        assertThat(constraints.get(0).path("labelSelector").path("matchLabels"))
                .isEqualTo(rendered.only("Deployment").path("spec").path("selector").path("matchLabels"));
        assertThat(constraints.get(0).path("whenUnsatisfiable").asString()).isEqualTo("DoNotSchedule");
        assertThat(constraints.get(1).path("labelSelector").path("matchLabels").path("team").asString())
                .isEqualTo("edge");
        assertThat(constraints.get(1).path("labelSelector").path("matchLabels").size()).isEqualTo(1);
        assertThat(SCHEMAS.problems(rendered)).isEmpty();
    }
}
