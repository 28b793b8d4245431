package ai.echo.defaultbackend.it.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code values.schema.json} and the templates' own checks turn misspelled, mistyped or contradictory values into
 * an error that names the value, before anything reaches a cluster.
 */
class ValuesSchemaIT {

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', textBlock = """
            replicaCount                              | three          | at '/replicaCount': got string, want integer
            replicas                                  | 2              | additional properties 'replicas' not allowed
            port                                      | 70000          | at '/port': maximum: got 70,000, want 65,535
            metricsPort                               | 0              | at '/metricsPort': minimum: got 0, want 1
            timeout                                   | 5 seconds      | at '/timeout': '5 seconds' does not match pattern
            terminationGracePeriodSeconds             | soon           | at '/terminationGracePeriodSeconds': got string, want integer
            image.digest                              | latest         | at '/image/digest': 'latest' does not match pattern
            image.pullPolicy                          | Sometimes      | at '/image/pullPolicy': value must be one of
            image.repositry                           | mirror/backend | at '/image': additional properties 'repositry' not allowed
            service.type                              | ExternalName   | at '/service/type': value must be one of
            service.nodePort                          | 80             | at '/service/nodePort': minimum: got 80, want 30,000
            livenessProbe.httpGet.path                | /ready         | at '/livenessProbe': additional properties 'httpGet' not allowed
            livenessProbe.periodSeconds               | 0              | at '/livenessProbe/periodSeconds': minimum: got 0, want 1
            containerSecurityContext.runAsUSer        | 0              | at '/containerSecurityContext': additional properties 'runAsUSer' not allowed
            containerSecurityContext.readOnlyRootFilesystem | yes      | at '/containerSecurityContext/readOnlyRootFilesystem': got string, want boolean
            podSecurityContext.seccompProfile.type    | Default        | at '/podSecurityContext/seccompProfile/type': value must be one of
            resources.limits.memory                   | lots           | at '/resources/limits/memory': 'lots' does not match pattern
            podDisruptionBudget.minAvailable          | one            | at '/podDisruptionBudget/minAvailable': 'one' does not match pattern
            autoscaling.enabeld                       | true           | at '/autoscaling': additional properties 'enabeld' not allowed
            autoscaling.maxReplicas                   | 0              | at '/autoscaling/maxReplicas': minimum: got 0, want 1
            networkPolicy.enabled                     | sure           | at '/networkPolicy/enabled': got string, want boolean
            serviceMonitor.interval                   | often          | at '/serviceMonitor/interval': 'often' does not match pattern
            customErrorPages.pages.notfound\\.html    | x              | invalid propertyName 'notfound.html'
            extraArgs.Port                            | 1              | invalid propertyName 'Port'
            extraArgs.svc-port                        | 9000           | invalid propertyName 'svc-port'
            extraArgs.timeout                         | 9s             | invalid propertyName 'timeout'
            global.imagePullSecrets[0].nmae           | mirror         | additional properties 'nmae' not allowed
            """)
    void badValueIsRejectedNamingItAndWhy(String key, String value, String message) {
        assertThatThrownBy(() -> HelmChart.ours().template(Map.of(key, value)))
                .as("--set %s=%s", key, value)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("values don't meet the specifications of the schema")
                .hasMessageContaining(message);
    }

    @Test
    void podDisruptionBudgetTakesMinAvailableOrMaxUnavailableNotBoth() {
        assertThatThrownBy(() -> HelmChart.ours().template(Map.of("replicaCount", 3,
                "podDisruptionBudget.minAvailable", 1, "podDisruptionBudget.maxUnavailable", 1)))
                .hasMessageContaining("podDisruptionBudget: set minAvailable or maxUnavailable, not both");
    }

    @Test
    void httpRouteNeedsAGateway() {
        assertThatThrownBy(() -> HelmChart.ours().template(Map.of("httpRoute.enabled", true)))
                .hasMessageContaining("httpRoute.parentRefs: name at least one Gateway");
    }

    /** Unquoted in a values file, 1.10 is the number 1.1: the image tag must be a string. */
    @Test
    void anImageTagWrittenAsANumberIsRefused(@TempDir Path scratch) throws IOException {
        Path values = scratch.resolve("values.yaml");
        Files.writeString(values, "image:\n  tag: 1.10\n");
        assertThatThrownBy(() -> HelmChart.ours().template(Map.of(), values))
                .hasMessageContaining("at '/image/tag': got number, want string");
    }

    /** An umbrella chart writes its pull secrets as names or, as Kubernetes does, as {@code name:} objects. */
    @Test
    void pullSecretsAreAcceptedAsNamesAndAsNameObjects(@TempDir Path scratch) throws IOException {
        Path values = scratch.resolve("values.yaml");
        Files.writeString(values, """
                global:
                  imagePullSecrets:
                    - name: mirror-credentials
                    - shared-credentials
                imagePullSecrets:
                  - name: team-credentials
                  - own-credentials
                """);
        assertThat(HelmChart.ours().template(Map.of(), values)).contains("kind: Deployment");
    }

    @Test
    void aParentsEnabledConditionIsAccepted() {
        // An umbrella chart that makes this one optional sets defaultbackend.enabled, which reaches these values.
        assertThat(HelmChart.ours().template(Map.of("enabled", true))).contains("kind: Deployment");
    }

    @Test
    void globalsOfOtherChartsPassThrough() {
        // An umbrella chart's globals reach every subchart; ours must not reject the ones it does not know.
        assertThat(HelmChart.ours().template(Map.of("global.storageClass", "fast"))).contains("kind: Deployment");
    }
}
