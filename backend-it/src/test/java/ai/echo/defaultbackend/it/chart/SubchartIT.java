package ai.echo.defaultbackend.it.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The example umbrella chart {@code charts/examples/platform}: ours as a {@code file://} subchart beside
 * ingress-nginx's values, with {@code global.*} values from the parent.
 */
class SubchartIT {

    private static final String NAMESPACE = "platform";

    @TempDir
    static Path scratch;

    private static Manifests rendered;
    private static JsonNode umbrellaValues;

    @BeforeAll
    static void renderUmbrella() throws IOException {
        Path charts = scratch.resolve("charts");
        HelmChart.copyTree(ProjectPaths.chart(), charts.resolve("kubernetes-ingress-defaultbackend"));
        Path umbrella = charts.resolve("examples/platform");
        HelmChart.copyTree(ProjectPaths.root().resolve("charts/examples/platform"), umbrella);
        // The tests run offline: ingress-nginx cannot be fetched, and its values are only read below.
        ObjectNode chart = (ObjectNode) Manifests.readYaml(umbrella.resolve("Chart.yaml"));
        ArrayNode dependencies = (ArrayNode) chart.get("dependencies");
        for (int i = dependencies.size() - 1; i >= 0; i--) {
            if (dependencies.get(i).path("name").asString().equals("ingress-nginx")) {
                dependencies.remove(i);
                System.out.println("SubchartIT: rendering " + umbrella + " without its ingress-nginx dependency"
                        + " (no network in tests); its values are checked against the rendered backend instead");
            }
        }
        Files.writeString(umbrella.resolve("Chart.yaml"), Manifests.YAML.writeValueAsString(chart));

        umbrellaValues = Manifests.readYaml(umbrella.resolve("values.yaml"));
        rendered = Manifests.parse(new Helm(umbrella).template().withName("platform").withNamespace(NAMESPACE)
                .withKubeVersion(HelmChart.KUBE_VERSION).dependencyUpdate().call());
    }

    @Test
    void controllerFlagNamesTheRenderedService() {
        String flag = umbrellaValues.path("ingress-nginx").path("controller").path("extraArgs")
                .path("default-backend-service").asString();
        String[] namespaceAndName = flag.split("/", 2);

        // Not a fixed namespace, which would name no Service in any other: the controller's own, which
        // ingress-nginx's chart puts in POD_NAMESPACE and the kubelet expands in its arguments.
        assertThat(namespaceAndName[0]).as("namespace part of --default-backend-service").isEqualTo("$(POD_NAMESPACE)");
        ObjectNode service = rendered.find("Service", namespaceAndName[1]).orElseThrow(() -> new AssertionError(
                "--default-backend-service=" + flag + " names no rendered Service; rendered " + rendered.describe()));
        assertThat(service.path("metadata").path("namespace").asString()).isEqualTo(NAMESPACE);
        assertThat(service.path("spec").path("ports").get(0).path("targetPort").asString()).isEqualTo("http");
    }

    @Test
    void globalRegistryAndPullSecretsReachThePod() {
        assertThat(rendered.container().path("image").asString())
                .startsWith("mirror.example.com/kubernetes-ingress-defaultbackend:");
        List<String> secrets = StreamSupport.stream(rendered.podSpec().path("imagePullSecrets").spliterator(), false)
                .map(s -> s.path("name").asString()).collect(Collectors.toList());
        assertThat(secrets).containsExactly("mirror-credentials");
    }

    @Test
    void subchartValuesApplyAndEveryObjectIsValid() {
        assertThat(rendered.only("Deployment").path("spec").path("replicas").asInt()).isEqualTo(2);
        assertThat(rendered.ofKind("PodDisruptionBudget")).hasSize(1);
        assertThat(K8sSchemas.shared().problems(rendered)).isEmpty();
    }
}
