package ai.echo.defaultbackend.it.kustomize;

import static org.assertj.core.api.Assertions.assertThat;

import ai.echo.defaultbackend.BuildInfo;
import ai.echo.defaultbackend.it.ServerProcess;
import ai.echo.defaultbackend.it.chart.ChartFixtures;
import ai.echo.defaultbackend.it.chart.HelmChart;
import ai.echo.defaultbackend.it.chart.K8sSchemas;
import ai.echo.defaultbackend.it.chart.Manifests;
import ai.echo.defaultbackend.it.chart.ProjectPaths;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code kubectl kustomize} of the base, each component and each overlay: every object valid under the strict
 * schemas, and the base pod the same as the chart's default pod.
 */
class KustomizeIT {

    private static final String NAME = "kubernetes-ingress-defaultbackend";
    private static final K8sSchemas SCHEMAS = K8sSchemas.shared();

    private static Manifests base;

    @BeforeAll
    static void buildBase() {
        base = Kustomize.build(ProjectPaths.kustomize().resolve("base"));
    }

    static Stream<String> components() throws IOException {
        try (Stream<Path> dirs = Files.list(ProjectPaths.kustomize().resolve("components"))) {
            List<String> names = dirs.filter(d -> Files.isRegularFile(d.resolve("kustomization.yaml")))
                    .map(d -> d.getFileName().toString()).sorted().collect(Collectors.toList());
            assertThat(names).as("components in kustomize/components").isNotEmpty();
            return names.stream();
        }
    }

    @Test
    void baseIsTheDeploymentServiceAndServiceAccountAndValid() {
        assertThat(base.describe()).containsExactlyInAnyOrder(
                "ServiceAccount/" + NAME, "Service/" + NAME, "Deployment/" + NAME);
        assertThat(SCHEMAS.problems(base)).isEmpty();
    }

    @Test
    void basePodIsTheChartDefaultPod() {
        Manifests chart = HelmChart.ours().render();
        ObjectNode chartPod = chart.podSpec();
        ObjectNode basePod = base.podSpec();

        for (String field : List.of("securityContext", "automountServiceAccountToken", "enableServiceLinks",
                "terminationGracePeriodSeconds", "nodeSelector")) {
            assertThat(basePod.path(field)).as("pod %s", field).isEqualTo(chartPod.path(field));
            assertThat(basePod.has(field)).as("pod %s is set", field).isTrue();
        }
        for (String field : List.of("image", "imagePullPolicy", "args", "ports", "startupProbe", "livenessProbe",
                "readinessProbe", "securityContext", "resources", "env", "volumeMounts")) {
            assertThat(base.container().path(field)).as("container %s", field).isEqualTo(chart.container().path(field));
        }
        assertThat(base.only("Deployment").path("spec").path("strategy"))
                .isEqualTo(chart.only("Deployment").path("spec").path("strategy"));
        assertThat(base.only("Service").path("spec").path("ports"))
                .isEqualTo(chart.only("Service").path("spec").path("ports"));
        assertThat(base.only("ServiceAccount").path("automountServiceAccountToken"))
                .isEqualTo(chart.only("ServiceAccount").path("automountServiceAccountToken"));
        assertThat(base.container().path("image").asString()).endsWith(":" + BuildInfo.VERSION);
    }

    @Test
    void ioUringComponentMakesTheChartsIoUringPod() {
        Manifests built = Kustomize.build(Kustomize.withComponents("io-uring", List.of("io-uring")));
        Manifests chart = HelmChart.ours().render(ChartFixtures.ci("io-uring"));

        assertThat(built.container().path("args")).isEqualTo(chart.container().path("args"));
        assertThat(built.container().path("args").get(built.container().path("args").size() - 1).asString())
                .isEqualTo("--transport=io_uring");
        assertThat(built.container().path("securityContext")).isEqualTo(chart.container().path("securityContext"));
        assertThat(built.container().path("securityContext").path("seccompProfile").path("type").asString())
                .isEqualTo("Unconfined");
        assertThat(built.podSpec().path("securityContext")).isEqualTo(base.podSpec().path("securityContext"));
    }

    @Test
    void serviceSelectsTheDeploymentPods() {
        JsonNode selector = base.only("Service").path("spec").path("selector");
        JsonNode podLabels = base.only("Deployment").path("spec").path("template").path("metadata").path("labels");

        assertThat(selector.isEmpty()).isFalse();
        assertThat(selector.propertyStream().allMatch(e -> e.getValue().equals(podLabels.path(e.getKey())))).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("components")
    void everyComponentBuildsOnTheBaseIntoValidObjects(String component) {
        Manifests built = Kustomize.build(Kustomize.withComponents(component, List.of(component)));

        assertThat(built.all().size()).as("%s adds objects or changes the base", component)
                .isGreaterThanOrEqualTo(base.all().size());
        assertThat(SCHEMAS.problems(built)).as("strict schema problems with component %s", component).isEmpty();
    }

    @Test
    void allComponentsTogetherBuildIntoValidObjects() throws IOException {
        // In the order the README gives: pdb before hpa, so that the autoscaler ends up owning the replicas.
        List<String> all = components().sorted((a, b) -> a.equals("pdb") ? -1 : b.equals("pdb") ? 1 : a.compareTo(b))
                .collect(Collectors.toList());
        Manifests built = Kustomize.build(Kustomize.withComponents("all", all));

        assertThat(SCHEMAS.problems(built)).isEmpty();
        assertThat(built.ofKind("PodDisruptionBudget")).hasSize(1);
        assertThat(built.ofKind("HorizontalPodAutoscaler")).hasSize(1);
        assertThat(built.only("Deployment").path("spec").has("replicas")).isFalse();
    }

    @Test
    void everyObjectOfTheBaseAndComponentsCarriesTheBaseLabels() throws IOException {
        List<String> all = components().sorted((a, b) -> a.equals("pdb") ? -1 : b.equals("pdb") ? 1 : a.compareTo(b))
                .collect(Collectors.toList());
        Manifests built = Kustomize.build(Kustomize.withComponents("all", all));
        JsonNode baseLabels = base.only("Deployment").path("metadata").path("labels");

        // So that `kubectl get/apply --prune -l app.kubernetes.io/name=...` finds every object, as with the chart.
        assertThat(baseLabels.path("app.kubernetes.io/name").asString()).isEqualTo(NAME);
        assertThat(baseLabels.path("app.kubernetes.io/version").asString()).isEqualTo(BuildInfo.VERSION);
        Map<String, List<String>> lacking = new TreeMap<>();
        for (ObjectNode object : built.all()) {
            JsonNode labels = object.path("metadata").path("labels");
            List<String> missing = baseLabels.propertyStream()
                    .filter(e -> !e.getValue().equals(labels.path(e.getKey())))
                    .map(e -> e.getKey() + "=" + e.getValue().asString()).toList();
            if (!missing.isEmpty()) {
                lacking.put(Manifests.id(object), missing);
            }
        }
        assertThat(lacking).as("the base's labels each object lacks").isEmpty();
    }

    @Test
    void pdbComponentComesWithASecondReplicaAndSpread() {
        Manifests built = Kustomize.build(Kustomize.withComponents("pdb", List.of("pdb")));
        JsonNode pdb = built.only("PodDisruptionBudget").path("spec");

        assertThat(built.only("Deployment").path("spec").path("replicas").asInt())
                .as("a PDB over one replica would block node drains").isGreaterThan(pdb.path("minAvailable").asInt());
        assertThat(pdb.path("selector").path("matchLabels"))
                .isEqualTo(built.only("Deployment").path("spec").path("selector").path("matchLabels"));
        assertThat(StreamSupport.stream(built.podSpec().path("topologySpreadConstraints").spliterator(), false)
                .map(c -> c.path("topologyKey").asString()))
                .containsExactly("topology.kubernetes.io/zone", "kubernetes.io/hostname");
    }

    /**
     * pdb merges its zone and hostname spread into the pod's: a JSON-patch add of the whole list would replace the
     * constraints an overlay below gave it, here one across regions, silently.
     */
    @Test
    void pdbComponentKeepsTheTopologySpreadOfTheOverlayBelow() {
        Path spreadAcrossRegions = Kustomize.overlay("spread-across-regions", ProjectPaths.kustomize().resolve("base"),
                List.of(), """
                        patches:
                          - target:
                              kind: Deployment
                              name: kubernetes-ingress-defaultbackend
                            patch: |-
                              apiVersion: apps/v1
                              kind: Deployment
                              metadata:
                                name: kubernetes-ingress-defaultbackend
                              spec:
                                template:
                                  spec:
                                    topologySpreadConstraints:
                                      - maxSkew: 2
                                        topologyKey: topology.kubernetes.io/region
                                        whenUnsatisfiable: DoNotSchedule
                                        labelSelector:
                                          matchLabels:
                                            app.kubernetes.io/name: kubernetes-ingress-defaultbackend
                        """);
        Manifests built = Kustomize.build(Kustomize.overlay("spread-across-regions-pdb", spreadAcrossRegions,
                List.of("pdb"), ""));
        Map<String, JsonNode> spread = StreamSupport.stream(built.podSpec().path("topologySpreadConstraints")
                .spliterator(), false).collect(Collectors.toMap(c -> c.path("topologyKey").asString(), c -> c));

        assertThat(spread).containsOnlyKeys("topology.kubernetes.io/region", "topology.kubernetes.io/zone",
                "kubernetes.io/hostname");
        assertThat(spread.get("topology.kubernetes.io/region").path("whenUnsatisfiable").asString())
                .as("the overlay's constraint as it wrote it").isEqualTo("DoNotSchedule");
        assertThat(spread.get("topology.kubernetes.io/region").path("maxSkew").asInt()).isEqualTo(2);
        assertThat(built.only("Deployment").path("spec").path("replicas").asInt()).isEqualTo(2);
        assertThat(SCHEMAS.problems(built)).isEmpty();
    }

    @Test
    void hpaComponentOwnsTheReplicas() {
        Manifests built = Kustomize.build(Kustomize.withComponents("hpa", List.of("hpa")));

        assertThat(built.only("Deployment").path("spec").has("replicas")).isFalse();
        assertThat(built.only("HorizontalPodAutoscaler").path("spec").path("scaleTargetRef").path("name").asString())
                .isEqualTo(NAME);
    }

    /**
     * The io-uring component appends to the server's args, which only a JSON patch can, by the container's
     * position: over an overlay that put another container first, it fails the build rather than give that
     * container the flag and an unconfined seccomp profile.
     */
    @Test
    void ioUringOverAnotherFirstContainerFailsTheBuildRatherThanPatchIt() {
        Path sidecarFirst = Kustomize.overlay("sidecar-first", ProjectPaths.kustomize().resolve("base"), List.of(),
                """
                        patches:
                          - target:
                              kind: Deployment
                              name: kubernetes-ingress-defaultbackend
                            patch: |-
                              - op: add
                                path: /spec/template/spec/containers/0
                                value: {name: sidecar, image: sidecar:1}
                        """);
        String error = Kustomize.failure(Kustomize.overlay("sidecar-first-io-uring", sidecarFirst,
                List.of("io-uring"), ""));
        assertThat(error).contains("components/io-uring", "/spec/template/spec/containers/0/name");
    }

    @Test
    void hpaListedBeforePdbFailsTheBuildRatherThanFixTheReplicasBesideTheAutoscaler() {
        // pdb's replace would act as an add on the replicas hpa removed: 2 pods, reset on every apply.
        String error = Kustomize.failure(Kustomize.withComponents("hpa-then-pdb", List.of("hpa", "pdb")));
        assertThat(error).contains("components/pdb", "'/spec/replicas'", "nonexistent key: replicas");

        // The check is that replicas exists, not its value: an overlay below may have set its own.
        Path threeReplicas = Kustomize.overlay("three-replicas", ProjectPaths.kustomize().resolve("base"), List.of(),
                "replicas:\n  - name: " + NAME + "\n    count: 3\n");
        Manifests overThree = Kustomize.build(Kustomize.overlay("three-replicas-pdb-hpa", threeReplicas,
                List.of("pdb", "hpa"), ""));
        assertThat(overThree.only("Deployment").path("spec").has("replicas")).isFalse();
        assertThat(overThree.ofKind("PodDisruptionBudget")).hasSize(1);
    }

    @Test
    void customErrorPagesComponentMountsTheGeneratedConfigMapAtWww() {
        Manifests built = Kustomize.build(Kustomize.withComponents("custom-error-pages", List.of("custom-error-pages")));
        ObjectNode configMap = built.only("ConfigMap");
        ObjectNode container = built.container();

        assertThat(built.podSpec().path("volumes").get(0).path("configMap").path("name").asString())
                .as("the pod mounts the generated, hash-suffixed name")
                .isEqualTo(configMap.path("metadata").path("name").asString());
        assertThat(container.path("volumeMounts").get(0).path("mountPath").asString()).isEqualTo("/www");
        assertThat(StreamSupport.stream(container.path("env").spliterator(), false)
                .collect(Collectors.toMap(e -> e.path("name").asString(), e -> e.path("value").asString())))
                .containsEntry("ERROR_FILES_PATH", "/www");
        assertThat(configMap.path("data").has("404.html")).isTrue();
    }

    /**
     * custom-error-pages merges its env var, mount and volume into the pod's: JSON-patch adds of /env,
     * /volumeMounts and /volumes would replace the lists an overlay below gave the container, here
     * JAVA_TOOL_OPTIONS and a /tmp emptyDir, silently.
     */
    @Test
    void customErrorPagesComponentKeepsTheEnvAndVolumesOfTheOverlayBelow() {
        Path envAndTmp = Kustomize.overlay("env-and-tmp", ProjectPaths.kustomize().resolve("base"), List.of(), """
                patches:
                  - target:
                      kind: Deployment
                      name: kubernetes-ingress-defaultbackend
                    patch: |-
                      apiVersion: apps/v1
                      kind: Deployment
                      metadata:
                        name: kubernetes-ingress-defaultbackend
                      spec:
                        template:
                          spec:
                            containers:
                              - name: defaultbackend
                                env:
                                  - name: JAVA_TOOL_OPTIONS
                                    value: -Xmx24m
                                volumeMounts:
                                  - name: tmp
                                    mountPath: /tmp
                            volumes:
                              - name: tmp
                                emptyDir: {}
                """);
        Manifests built = Kustomize.build(Kustomize.overlay("env-and-tmp-error-pages", envAndTmp,
                List.of("custom-error-pages"), ""));

        assertThat(StreamSupport.stream(built.container().path("env").spliterator(), false)
                .collect(Collectors.toMap(e -> e.path("name").asString(), e -> e.path("value").asString())))
                .containsEntry("JAVA_TOOL_OPTIONS", "-Xmx24m").containsEntry("ERROR_FILES_PATH", "/www");
        assertThat(names(built.container().path("volumeMounts"))).containsExactlyInAnyOrder("tmp", "error-pages");
        assertThat(names(built.podSpec().path("volumes"))).containsExactlyInAnyOrder("tmp", "error-pages");
        assertThat(built.podSpec().path("containers").size()).as("merged into the backend's container").isEqualTo(1);
        assertThat(SCHEMAS.problems(built)).isEmpty();
    }

    private static List<String> names(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(n -> n.path("name").asString()).toList();
    }

    @ParameterizedTest(name = "X-Code {0}")
    @ValueSource(ints = {502, 503, 500})
    void customErrorPagesName5xxCodesTheyAnswer(int code, @TempDir Path volume) throws Exception {
        Manifests built = Kustomize.build(Kustomize.withComponents("custom-error-pages", List.of("custom-error-pages")));
        // The ConfigMap's files where the pod's volume would have them, and the container's environment.
        for (var file : built.only("ConfigMap").path("data").properties()) {
            Files.writeString(volume.resolve(file.getKey()), file.getValue().asString());
        }
        Map<String, String> env = new HashMap<>(StreamSupport.stream(built.container().path("env").spliterator(), false)
                .collect(Collectors.toMap(e -> e.path("name").asString(), e -> e.path("value").asString())));
        env.put("ERROR_FILES_PATH", volume.toString());
        String reason = Map.of(500, "Internal Server Error", 502, "Bad Gateway", 503, "Service Unavailable").get(code);

        // 5xx.json and 5xx.html answer every 5xx code without a page of its own: they must not all say 503.
        try (ServerProcess server = ServerProcess.start(List.of(), env)) {
            HttpResponse<String> json = errorPage(server, code, "application/json");
            assertThat(json.statusCode()).isEqualTo(code);
            JsonNode body = JsonMapper.builder().build().readTree(json.body());
            assertThat(body.path("status").asInt()).as(json.body()).isEqualTo(code);
            assertThat(body.path("message").asString()).as(json.body()).isEqualTo(reason);

            HttpResponse<String> html = errorPage(server, code, "text/html");
            assertThat(html.statusCode()).isEqualTo(code);
            assertThat(html.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
            assertThat(html.body()).contains("<title>" + code + " " + reason + "</title>", "<h1>" + reason + "</h1>");
            if (code != 503) {
                assertThat(json.body() + html.body()).doesNotContain("503").doesNotContainIgnoringCase("unavailable");
            }
        }
    }

    private static HttpResponse<String> errorPage(ServerProcess server, int code, String accept) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/"))
                .header("X-Code", Integer.toString(code)).header("Accept", accept)
                .timeout(Duration.ofSeconds(10)).build();
        return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void networkPolicyComponentGuardsTheBackendPodsPortsAndNoEgress() {
        Manifests built = Kustomize.build(Kustomize.withComponents("network-policy", List.of("network-policy")));
        JsonNode spec = built.only("NetworkPolicy").path("spec");
        JsonNode podLabels = built.only("Deployment").path("spec").path("template").path("metadata").path("labels");
        JsonNode containerPorts = built.container().path("ports");

        assertThat(spec.path("podSelector").path("matchLabels").propertyStream()
                .allMatch(e -> e.getValue().equals(podLabels.path(e.getKey()))))
                .as("it selects the backend's pods").isTrue();
        assertThat(StreamSupport.stream(spec.path("policyTypes").spliterator(), false).map(JsonNode::asString))
                .containsExactly("Ingress", "Egress");
        assertThat(spec.has("egress")).as("no egress rule: the server never connects out").isFalse();
        List<String> ports = StreamSupport.stream(spec.path("ingress").spliterator(), false)
                .map(rule -> rule.path("ports").get(0).path("port").asString()).toList();
        assertThat(ports).containsExactly("http", "metrics");
        assertThat(StreamSupport.stream(containerPorts.spliterator(), false).map(p -> p.path("name").asString()))
                .as("the named ports exist on the container").contains("http", "metrics");
    }

    @Test
    void networkPolicyPeersKeepTheirMeaningUnderAnOverlaysSelectorLabels() {
        Manifests plain = Kustomize.build(Kustomize.withComponents("network-policy", List.of("network-policy")));
        Manifests labelled = Kustomize.build(Kustomize.overlay("network-policy-labelled",
                ProjectPaths.kustomize().resolve("base"), List.of("network-policy"), """
                        labels:
                          - pairs:
                              app.kubernetes.io/instance: edge
                            includeSelectors: true
                        """));
        JsonNode spec = labelled.only("NetworkPolicy").path("spec");
        JsonNode podLabels = labelled.only("Deployment").path("spec").path("template").path("metadata").path("labels");

        // Kustomize adds selector labels to every podSelector it knows (kustomize issue 5912): the peers'
        // would then require the overlay's label on ingress-nginx's and Prometheus's pods, and match none.
        assertThat(spec.path("ingress")).as("the peers, with and without the overlay's labels")
                .isEqualTo(plain.only("NetworkPolicy").path("spec").path("ingress"));
        assertThat(matches(spec.path("ingress").get(0).path("from").get(0).path("podSelector"),
                Map.of("app.kubernetes.io/name", "ingress-nginx", "app.kubernetes.io/component", "controller",
                        "app.kubernetes.io/instance", "ingress-nginx"))).as("ingress-nginx's controller").isTrue();
        assertThat(matches(spec.path("ingress").get(1).path("from").get(0).path("podSelector"),
                Map.of("app.kubernetes.io/name", "prometheus", "prometheus", "k8s"))).as("Prometheus").isTrue();
        assertThat(spec.path("podSelector").path("matchLabels").path("app.kubernetes.io/instance").asString())
                .as("the policy's own selector follows the labels of the pods it guards").isEqualTo("edge");
        assertThat(matches(spec.path("podSelector"), Manifests.YAML.convertValue(podLabels, Map.class))).isTrue();
        assertThat(SCHEMAS.problems(labelled)).isEmpty();
    }

    /** A Kubernetes label selector (matchLabels and matchExpressions) applied to a pod's labels. */
    private static boolean matches(JsonNode selector, Map<?, ?> labels) {
        boolean all = selector.path("matchLabels").propertyStream()
                .allMatch(e -> e.getValue().asString().equals(labels.get(e.getKey())));
        for (JsonNode expression : selector.path("matchExpressions")) {
            Object value = labels.get(expression.path("key").asString());
            List<String> values = StreamSupport.stream(expression.path("values").spliterator(), false)
                    .map(JsonNode::asString).toList();
            all &= switch (expression.path("operator").asString()) {
                case "In" -> value != null && values.contains(value);
                case "NotIn" -> value == null || !values.contains(value);
                case "Exists" -> value != null;
                case "DoesNotExist" -> value == null;
                default -> throw new AssertionError("no such operator in " + expression);
            };
        }
        return all;
    }

    @Test
    void httpRouteComponentSendsTheCatchAllToTheService() {
        Manifests built = Kustomize.build(Kustomize.withComponents("httproute", List.of("httproute")));
        JsonNode rule = built.only("HTTPRoute").path("spec").path("rules").get(0);
        ObjectNode service = built.find("Service", NAME).orElseThrow();

        assertThat(rule.path("matches").get(0).path("path").path("value").asString()).isEqualTo("/");
        JsonNode backend = rule.path("backendRefs").get(0);
        assertThat(backend.path("name").asString()).isEqualTo(service.path("metadata").path("name").asString());
        assertThat(StreamSupport.stream(service.path("spec").path("ports").spliterator(), false)
                .map(p -> p.path("port").asInt())).contains(backend.path("port").asInt());
    }

    @Test
    void httpRouteFollowsTheServiceWhenAnOverlayRenamesIt() {
        Manifests prefixed = Kustomize.build(Kustomize.overlay("httproute-renamed",
                ProjectPaths.kustomize().resolve("base"), List.of("httproute"),
                "namePrefix: team-\nnameSuffix: -edge\n"));
        Manifests gke = Kustomize.build(Kustomize.overlay("httproute-gke",
                ProjectPaths.kustomize().resolve("overlays/gke"), List.of("httproute"), ""));

        assertThat(routedService(prefixed)).isEqualTo("team-" + NAME + "-edge");
        assertThat(routedService(gke)).isEqualTo("default-http-backend");
        for (Manifests built : List.of(prefixed, gke)) {
            assertThat(built.find("Service", routedService(built)))
                    .as("the route's backend is a Service among %s", built.describe()).isPresent();
            assertThat(SCHEMAS.problems(built)).isEmpty();
        }
    }

    private static String routedService(Manifests built) {
        return built.only("HTTPRoute").path("spec").path("rules").get(0).path("backendRefs").get(0).path("name")
                .asString();
    }

    @Test
    void serviceMonitorComponentScrapesOnlyTheMetricsService() {
        Manifests built = Kustomize.build(Kustomize.withComponents("service-monitor", List.of("service-monitor")));
        JsonNode selector = built.only("ServiceMonitor").path("spec").path("selector").path("matchLabels");

        assertThat(selects(selector, built.find("Service", NAME + "-metrics").orElseThrow())).isTrue();
        assertThat(selects(selector, built.find("Service", NAME).orElseThrow())).isFalse();
    }

    @Test
    void ingressNginxOverlayPointsTheControllerAtTheBackend() throws IOException {
        Manifests built = Kustomize.build(IngressNginxFixture.overlayWithLocalController());

        assertControllerFindsTheBackend(built, "ingress-nginx");
        assertThat(controllerArgs(built)).as("the controller keeps its own args").contains("/nginx-ingress-controller");
        assertThat(SCHEMAS.problems(built)).isEmpty();
    }

    @Test
    void ingressNginxOverlayInAnotherNamespaceStillPointsTheControllerAtTheBackend() throws IOException {
        Path elsewhere = Kustomize.overlay("ingress-nginx-elsewhere", IngressNginxFixture.overlayWithLocalController(),
                List.of(), "namespace: edge\n");

        assertControllerFindsTheBackend(Kustomize.build(elsewhere), "edge");
    }

    /**
     * Everything is in {@code namespace}, and the controller's --default-backend-service, with the
     * {@code $(VAR)}s the kubelet expands from the container's environment, names the backend's Service there.
     */
    private static void assertControllerFindsTheBackend(Manifests built, String namespace) {
        for (ObjectNode object : built.all()) {
            assertThat(object.path("metadata").path("namespace").asString()).as(Manifests.id(object))
                    .isEqualTo(namespace);
        }
        List<String> args = controllerArgs(built);
        String flag = args.get(args.size() - 1);
        assertThat(flag).startsWith("--default-backend-service=");
        String resolved = kubeletExpansion(flag, built.find("Deployment", "ingress-nginx-controller").orElseThrow());
        assertThat(resolved).as("%s as the kubelet expands it", flag).doesNotContain("$(");
        String[] namespaceAndName = resolved.substring("--default-backend-service=".length()).split("/", 2);
        ObjectNode service = built.find("Service", namespaceAndName[1]).orElseThrow(
                () -> new AssertionError(resolved + " names no Service among " + built.describe()));
        assertThat(service.path("metadata").path("namespace").asString()).as(resolved).isEqualTo(namespaceAndName[0]);
        assertThat(namespaceAndName[0]).isEqualTo(namespace);
    }

    private static List<String> controllerArgs(Manifests built) {
        ObjectNode controller = built.find("Deployment", "ingress-nginx-controller").orElseThrow();
        return StreamSupport.stream(controller.path("spec").path("template").path("spec").path("containers").get(0)
                .path("args").spliterator(), false).map(JsonNode::asString).collect(Collectors.toList());
    }

    /**
     * An arg as the kubelet passes it to the first container of {@code deployment}'s pods: {@code $(VAR)} replaced
     * by the container's env var VAR (a literal value, or the pod's namespace from the downward API), {@code $$}
     * by {@code $}, any other reference left as it is.
     */
    private static String kubeletExpansion(String arg, ObjectNode deployment) {
        Map<String, String> env = new HashMap<>();
        for (JsonNode variable : deployment.path("spec").path("template").path("spec").path("containers").get(0)
                .path("env")) {
            if (variable.has("value")) {
                env.put(variable.path("name").asString(), variable.path("value").asString());
            } else if (variable.path("valueFrom").path("fieldRef").path("fieldPath").asString()
                    .equals("metadata.namespace")) {
                // A Deployment's pods are created in its namespace.
                env.put(variable.path("name").asString(), deployment.path("metadata").path("namespace").asString());
            }
        }
        Matcher reference = Pattern.compile("\\$\\$|\\$\\(([A-Za-z_][A-Za-z0-9_.-]*)\\)").matcher(arg);
        return reference.replaceAll(match -> Matcher.quoteReplacement(match.group(1) == null ? "$"
                : env.getOrDefault(match.group(1), match.group())));
    }

    @Test
    void gkeOverlayServesThroughANodePortNamedDefaultHttpBackend() {
        Manifests built = Kustomize.build(ProjectPaths.kustomize().resolve("overlays/gke"));
        ObjectNode service = built.only("Service");

        assertThat(service.path("metadata").path("name").asString()).isEqualTo("default-http-backend");
        assertThat(service.path("spec").path("type").asString()).isEqualTo("NodePort");
        assertThat(service.path("spec").path("ports").get(0).path("targetPort").asString()).isEqualTo("http");
        assertThat(built.podSpec()).isEqualTo(base.podSpec());
        assertThat(SCHEMAS.problems(built)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/gke"})
    void podRunsAsTheImageUser(String kustomization) {
        long[] user = ChartFixtures.imageUser();
        Manifests built = Kustomize.build(ProjectPaths.kustomize().resolve(kustomization));

        for (JsonNode context : List.of(built.podSpec().path("securityContext"),
                built.container().path("securityContext"))) {
            assertThat(context.path("runAsUser").asLong()).isEqualTo(user[0]);
            assertThat(context.path("runAsGroup").asLong()).isEqualTo(user[1]);
        }
    }

    private static boolean selects(JsonNode matchLabels, JsonNode object) {
        JsonNode labels = object.path("metadata").path("labels");
        return matchLabels.propertyStream().allMatch(e -> e.getValue().equals(labels.path(e.getKey())));
    }
}
