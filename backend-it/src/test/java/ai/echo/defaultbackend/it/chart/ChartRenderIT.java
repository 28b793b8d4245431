package ai.echo.defaultbackend.it.chart;

import static ai.echo.defaultbackend.it.chart.ChartFixtures.ci;
import static org.assertj.core.api.Assertions.assertThat;

import ai.echo.defaultbackend.BackendConfig;
import ai.echo.defaultbackend.BuildInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code helm template} of the chart, with its defaults and each {@code ci/*-values.yaml}: every object valid
 * under the strict schemas, and the pod agreeing with the server's real defaults and the image's USER.
 */
class ChartRenderIT {

    private static final K8sSchemas SCHEMAS = K8sSchemas.shared();
    private static final String FULLNAME = HelmChart.RELEASE + "-kubernetes-ingress-defaultbackend";

    private static Manifests defaults;

    @BeforeAll
    static void renderDefaults() {
        defaults = HelmChart.ours().render();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ai.echo.defaultbackend.it.chart.ChartFixtures#valuesCases")
    void everyRenderedObjectIsValidUnderTheStrictSchemas(String name, Path valuesFile) {
        Manifests rendered = valuesFile == null ? HelmChart.ours().render() : HelmChart.ours().render(valuesFile);

        assertThat(rendered.ofKind("Deployment")).as("%s renders %s", name, rendered.describe()).hasSize(1);
        assertThat(SCHEMAS.problems(rendered)).as("strict schema problems of %s", name).isEmpty();
    }

    @Test
    void strictSchemasRejectAFieldKubernetesDoesNotKnow() {
        // Guards the guard: the validation above must be able to fail.
        ObjectNode deployment = defaults.only("Deployment").deepCopy();
        ((ObjectNode) deployment.path("spec").path("template").path("spec").path("containers").get(0)
                .path("livenessProbe")).putObject("httpGet").put("paht", "/healthz");

        assertThat(SCHEMAS.problems(deployment)).anyMatch(p -> p.contains("paht"));
    }

    @Test
    void defaultsRenderOnlyTheDeploymentServiceAndServiceAccount() {
        assertThat(defaults.describe()).containsExactlyInAnyOrder(
                "ServiceAccount/" + FULLNAME, "Service/" + FULLNAME, "Deployment/" + FULLNAME);
    }

    @Test
    void argsPortsAndGraceAgreeWithTheServerDefaults() {
        BackendConfig server = BackendConfig.DEFAULTS;
        ObjectNode container = defaults.container();

        List<String> args = strings(container.path("args"));
        assertThat(args).containsExactly("--port=" + server.port(), "--svc-port=" + server.svcPort(),
                args.get(2));
        Duration timeout = ChartFixtures.goDuration(args.get(2).substring("--timeout=".length()));
        assertThat(timeout).isEqualTo(server.shutdownTimeout());
        assertThat(ports(container)).containsExactlyInAnyOrderEntriesOf(
                Map.of("http", (long) server.port(), "metrics", (long) server.svcPort()));
        assertThat(defaults.podSpec().path("terminationGracePeriodSeconds").asLong())
                .as("the kubelet must wait longer than the server drains, and as long as ingress-nginx's chart")
                .isGreaterThan(server.shutdownTimeout().toSeconds())
                .isEqualTo(60);
    }

    @Test
    void probesGetHealthzWithIngressNginxTimingsLivenessOnTheServicePort() {
        ObjectNode container = defaults.container();

        // Liveness on the service port, which --max-connections does not limit (LifecycleIT): a traffic port
        // full of connections fails readiness, which takes the pod out of the Service, not liveness.
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            JsonNode httpGet = container.path(probe).path("httpGet");
            assertThat(httpGet.path("path").asString()).as(probe).isEqualTo("/healthz");
            assertThat(httpGet.path("port").asString()).as(probe)
                    .isEqualTo(probe.equals("livenessProbe") ? "metrics" : "http");
        }
        assertThat(timings(container.path("livenessProbe"))).containsAllEntriesOf(
                Map.of("initialDelaySeconds", 30L, "periodSeconds", 10L, "timeoutSeconds", 5L, "failureThreshold", 3L));
        assertThat(timings(container.path("readinessProbe"))).containsAllEntriesOf(
                Map.of("initialDelaySeconds", 0L, "periodSeconds", 5L, "timeoutSeconds", 5L, "failureThreshold", 6L));
        assertThat(container.path("startupProbe").path("failureThreshold").asLong()
                * container.path("startupProbe").path("periodSeconds").asLong())
                .as("seconds the startup probe allows a cold JVM").isGreaterThanOrEqualTo(30);
    }

    @Test
    void podIsHardenedAndNeedsNoWritableRootOrToken() {
        ObjectNode pod = defaults.podSpec();
        JsonNode container = defaults.container().path("securityContext");

        assertThat(pod.path("automountServiceAccountToken").asBoolean(true)).isFalse();
        assertThat(pod.path("enableServiceLinks").asBoolean(true)).isFalse();
        assertThat(pod.path("securityContext").path("runAsNonRoot").asBoolean()).isTrue();
        assertThat(pod.path("securityContext").path("seccompProfile").path("type").asString()).isEqualTo("RuntimeDefault");
        assertThat(container.path("runAsNonRoot").asBoolean()).isTrue();
        assertThat(container.path("readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(container.path("allowPrivilegeEscalation").asBoolean(true)).isFalse();
        assertThat(strings(container.path("capabilities").path("drop"))).containsExactly("ALL");
        assertThat(container.path("seccompProfile").path("type").asString()).isEqualTo("RuntimeDefault");
        assertThat(defaults.podSpec().has("volumes")).as("the image must run with no volume at all").isFalse();
    }

    @Test
    void podRunsAsTheImageUser() {
        long[] user = ChartFixtures.imageUser();

        for (JsonNode context : List.of(defaults.podSpec().path("securityContext"),
                defaults.container().path("securityContext"))) {
            assertThat(context.path("runAsUser").asLong()).isEqualTo(user[0]);
            assertThat(context.path("runAsGroup").asLong()).isEqualTo(user[1]);
        }
    }

    @Test
    void imageDefaultsToTheServerVersionAndResourcesAreSet() {
        JsonNode chart = Manifests.readYaml(ProjectPaths.chart().resolve("Chart.yaml"));
        ObjectNode container = defaults.container();

        assertThat(chart.path("appVersion").asString()).as("Chart.yaml appVersion").isEqualTo(BuildInfo.VERSION);
        assertThat(container.path("image").asString())
                .isEqualTo("registry.echo.ai/kubernetes-ingress-defaultbackend:" + BuildInfo.VERSION);
        JsonNode resources = container.path("resources");
        assertThat(resources.path("requests").path("cpu").asString()).isNotEmpty();
        assertThat(resources.path("requests").path("memory").asString()).isNotEmpty();
        assertThat(resources.path("limits").path("memory").asString()).isNotEmpty();
        assertThat(resources.path("limits").has("cpu")).as("a CPU limit only throttles a latency-bound server")
                .isFalse();
    }

    @Test
    void serviceSendsPort80ToTheNamedTrafficPortOnly() {
        ObjectNode service = defaults.only("Service");
        JsonNode ports = service.path("spec").path("ports");

        assertThat(ports).hasSize(1);
        assertThat(ports.get(0).path("port").asInt()).isEqualTo(80);
        assertThat(ports.get(0).path("targetPort").asString()).isEqualTo("http");
        assertThat(ports.get(0).path("appProtocol").asString()).isEqualTo("http");
        assertThat(service.path("spec").path("selector"))
                .isEqualTo(defaults.only("Deployment").path("spec").path("selector").path("matchLabels"));
        assertThat(defaults.only("Deployment").path("spec").path("replicas").asInt()).isEqualTo(1);
        assertThat(defaults.podSpec().has("topologySpreadConstraints")).isFalse();
    }

    @Test
    void testHookRunsTheImageHealthcheckAgainstTheService(@TempDir Path scratch) {
        Manifests rendered = HelmChart.ours().renderWithTestHook(scratch);
        ObjectNode hook = rendered.only("Pod");
        JsonNode container = hook.path("spec").path("containers").get(0);

        assertThat(SCHEMAS.problems(hook)).isEmpty();
        assertThat(hook.path("metadata").path("annotations").path(HelmChart.HOOK_ANNOTATION).asString())
                .isEqualTo("test");
        assertThat(selects(rendered.only("Service").path("spec").path("selector"), hook))
                .as("the Service must not send traffic to the test pod").isFalse();
        assertThat(container.path("image").asString()).isEqualTo(defaults.container().path("image").asString());
        assertThat(container.has("command")).as("the image's own entrypoint runs the subcommand").isFalse();
        assertThat(strings(container.path("args"))).containsExactly("healthcheck", "--host", FULLNAME, "--port", "80");
        assertThat(container.path("securityContext")).isEqualTo(defaults.container().path("securityContext"));
        assertThat(hook.path("spec").path("enableServiceLinks").asBoolean(true)).isFalse();
    }

    @Test
    void notesPrintTheControllerFlagForTheRenderedService() {
        String notes = HelmChart.ours().notes();
        String service = HelmChart.NAMESPACE + "/" + defaults.only("Service").path("metadata").path("name").asString();

        assertThat(notes).contains("default-backend-service: " + service)
                .contains("--default-backend-service=" + service)
                .contains("HAProxy")
                .contains("name: " + FULLNAME);
    }

    @Test
    void replicasBringAPodDisruptionBudgetAndSpreadAcrossZonesAndNodes() {
        Manifests rendered = HelmChart.ours().render(ci("replicas"));
        ObjectNode pdb = rendered.only("PodDisruptionBudget");
        JsonNode strategy = rendered.only("Deployment").path("spec").path("strategy");

        assertThat(pdb.path("apiVersion").asString()).isEqualTo("policy/v1");
        assertThat(pdb.path("spec").path("minAvailable").asInt()).isEqualTo(1);
        assertThat(pdb.path("spec").path("selector").path("matchLabels"))
                .isEqualTo(rendered.only("Deployment").path("spec").path("selector").path("matchLabels"));
        assertThat(strategy.path("rollingUpdate").path("maxUnavailable").asInt())
                .as("a rollout never takes a ready pod away first").isZero();
        assertThat(StreamSupport.stream(rendered.podSpec().path("topologySpreadConstraints").spliterator(), false)
                .map(c -> c.path("topologyKey").asString()))
                .containsExactly("topology.kubernetes.io/zone", "kubernetes.io/hostname");
    }

    @Test
    void podDisruptionBudgetByMaxUnavailable() {
        JsonNode spec = HelmChart.ours().render(ci("pdb-max-unavailable")).only("PodDisruptionBudget").path("spec");

        assertThat(spec.path("maxUnavailable").asString()).isEqualTo("25%");
        assertThat(spec.has("minAvailable")).isFalse();
    }

    @Test
    void autoscalingOwnsTheReplicas() {
        Manifests rendered = HelmChart.ours().render(ci("autoscaling"));
        ObjectNode hpa = rendered.only("HorizontalPodAutoscaler");

        assertThat(hpa.path("apiVersion").asString()).isEqualTo("autoscaling/v2");
        assertThat(hpa.path("spec").path("scaleTargetRef").path("name").asString()).isEqualTo(FULLNAME);
        assertThat(StreamSupport.stream(hpa.path("spec").path("metrics").spliterator(), false)
                .collect(Collectors.toMap(m -> m.path("resource").path("name").asString(),
                        m -> m.path("resource").path("target").path("averageUtilization").asInt())))
                .containsExactlyInAnyOrderEntriesOf(Map.of("cpu", 70, "memory", 85));
        assertThat(rendered.only("Deployment").path("spec").has("replicas")).isFalse();
        assertThat(rendered.ofKind("PodDisruptionBudget")).hasSize(1);
    }

    @Test
    void networkPolicyOpensHttpToTheControllerMetricsToPrometheusAndNoEgress() {
        JsonNode spec = HelmChart.ours().render(ci("networkpolicy")).only("NetworkPolicy").path("spec");

        assertThat(strings(spec.path("policyTypes"))).containsExactly("Ingress", "Egress");
        assertThat(spec.has("egress")).isFalse();
        JsonNode http = spec.path("ingress").get(0);
        assertThat(http.path("ports").get(0).path("port").asString()).isEqualTo("http");
        assertThat(http.path("from").get(0).path("podSelector").path("matchLabels").path("app.kubernetes.io/name")
                .asString()).isEqualTo("ingress-nginx");
        JsonNode metrics = spec.path("ingress").get(1);
        assertThat(metrics.path("ports").get(0).path("port").asString()).isEqualTo("metrics");
        assertThat(metrics.path("from")).hasSize(1);
    }

    @Test
    void networkPolicyLetsTheChartsOwnTestPodReachHttp(@TempDir Path scratch) {
        Manifests rendered = HelmChart.ours().renderWithTestHook(scratch, ci("networkpolicy"));
        JsonNode from = rendered.only("NetworkPolicy").path("spec").path("ingress").get(0).path("from");
        JsonNode testPodLabels = rendered.only("Pod").path("metadata").path("labels");

        // A peer with a pod selector alone is a pod of the policy's own namespace, where the test pod runs.
        assertThat(StreamSupport.stream(from.spliterator(), false)
                .filter(peer -> !peer.has("namespaceSelector"))
                .map(peer -> peer.path("podSelector").path("matchLabels"))
                .anyMatch(labels -> labels.size() > 0 && labels.properties().stream()
                        .allMatch(e -> e.getValue().asString().equals(testPodLabels.path(e.getKey()).asString()))))
                .as("a peer selecting the test pod %s in %s", testPodLabels, from).isTrue();
    }

    /**
     * Labels from commonLabels, podLabels and the chart's own make one map per object (a key twice fails the
     * parse): the selector labels and the metrics Service's part-of stay the chart's, so the Deployment still
     * selects its pods and the ServiceMonitor its Service.
     */
    @Test
    void commonAndPodLabelsNeverRepeatOrReplaceTheChartsSelectors(@TempDir Path scratch) throws Exception {
        Manifests rendered = renderValues(scratch, """
                commonLabels:
                  app.kubernetes.io/part-of: platform
                  team: edge
                podLabels:
                  app.kubernetes.io/component: web
                  tier: front
                service:
                  labels:
                    app.kubernetes.io/name: other
                    exposed: "yes"
                serviceMonitor:
                  enabled: true
                """);
        ObjectNode deployment = rendered.only("Deployment");
        JsonNode podLabels = deployment.path("spec").path("template").path("metadata").path("labels");
        JsonNode selector = deployment.path("spec").path("selector").path("matchLabels");

        selector.properties().forEach(e -> assertThat(podLabels.path(e.getKey()).asString())
                .as("pod label %s", e.getKey()).isEqualTo(e.getValue().asString()));
        assertThat(podLabels.path("tier").asString()).isEqualTo("front");
        assertThat(podLabels.path("team").asString()).isEqualTo("edge");
        assertThat(deployment.path("metadata").path("labels").path("app.kubernetes.io/part-of").asString())
                .isEqualTo("platform");
        JsonNode metricsLabels = rendered.find("Service", FULLNAME + "-metrics").orElseThrow()
                .path("metadata").path("labels");
        assertThat(metricsLabels.path("app.kubernetes.io/part-of").asString()).isEqualTo("metrics");
        assertThat(metricsLabels.path("team").asString()).isEqualTo("edge");
        JsonNode monitorSelector = rendered.only("ServiceMonitor").path("spec").path("selector").path("matchLabels");
        monitorSelector.properties().forEach(e -> assertThat(metricsLabels.path(e.getKey()).asString())
                .as("metrics Service label %s", e.getKey()).isEqualTo(e.getValue().asString()));
        JsonNode serviceLabels = rendered.find("Service", FULLNAME).orElseThrow().path("metadata").path("labels");
        assertThat(serviceLabels.path("app.kubernetes.io/name").asString())
                .isEqualTo("kubernetes-ingress-defaultbackend");
        assertThat(serviceLabels.path("exposed").asString()).isEqualTo("yes");
        assertThat(SCHEMAS.problems(rendered)).isEmpty();
    }

    /** Values the other tests leave at their defaults, each reaching the object it documents. */
    @Test
    void documentedValuesReachWhatTheyDescribe(@TempDir Path scratch) throws Exception {
        Path values = scratch.resolve("values.yaml");
        Files.writeString(values, """
                port: 9090
                metricsPort: 9100
                image:
                  pullPolicy: Always
                revisionHistoryLimit: 3
                minReadySeconds: 5
                serviceAccount:
                  create: false
                  name: shared
                service:
                  annotations:
                    example.com/owner: edge
                replicaCount: 3
                podDisruptionBudget:
                  enabled: false
                defaultTopologySpread: false
                extraVolumes:
                  - name: scratch
                    emptyDir: {}
                extraVolumeMounts:
                  - name: scratch
                    mountPath: /scratch
                tests:
                  enabled: false
                """);
        Manifests rendered = HelmChart.ours().renderWithTestHook(scratch, values);
        ObjectNode deployment = rendered.only("Deployment");
        ObjectNode container = rendered.container();

        assertThat(strings(container.path("args"))).startsWith("--port=9090", "--svc-port=9100");
        assertThat(ports(container)).containsExactlyInAnyOrderEntriesOf(Map.of("http", 9090L, "metrics", 9100L));
        assertThat(container.path("imagePullPolicy").asString()).isEqualTo("Always");
        assertThat(deployment.path("spec").path("revisionHistoryLimit").asInt()).isEqualTo(3);
        assertThat(deployment.path("spec").path("minReadySeconds").asInt()).isEqualTo(5);
        assertThat(rendered.podSpec().path("serviceAccountName").asString()).isEqualTo("shared");
        assertThat(rendered.ofKind("ServiceAccount")).isEmpty();
        assertThat(rendered.find("Service", FULLNAME).orElseThrow().path("metadata").path("annotations")
                .path("example.com/owner").asString()).isEqualTo("edge");
        assertThat(rendered.ofKind("PodDisruptionBudget")).as("three replicas, the PDB turned off").isEmpty();
        assertThat(rendered.podSpec().has("topologySpreadConstraints")).isFalse();
        assertThat(rendered.podSpec().path("volumes").toString()).contains("\"scratch\"");
        assertThat(container.path("volumeMounts").toString()).contains("/scratch");
        assertThat(rendered.ofKind("Pod")).as("tests.enabled=false: no test pod").isEmpty();
        assertThat(SCHEMAS.problems(rendered)).isEmpty();
    }

    /**
     * A ServiceMonitor in Prometheus's namespace, with the labels Prometheus selects by and the scrape settings,
     * still selecting the release's metrics Service in the release's namespace.
     */
    @Test
    void serviceMonitorValuesReachTheMonitor(@TempDir Path scratch) throws Exception {
        Manifests rendered = renderValues(scratch, """
                serviceMonitor:
                  enabled: true
                  namespace: monitoring
                  labels:
                    release: prometheus
                  interval: 15s
                  scrapeTimeout: 5s
                  relabelings:
                    - action: replace
                      targetLabel: cluster
                      replacement: edge-1
                  metricRelabelings:
                    - action: drop
                      sourceLabels: [__name__]
                      regex: jvm_.*
                """);
        ObjectNode monitor = rendered.only("ServiceMonitor");
        JsonNode endpoint = monitor.path("spec").path("endpoints").get(0);

        assertThat(monitor.path("metadata").path("namespace").asString()).isEqualTo("monitoring");
        assertThat(monitor.path("metadata").path("labels").path("release").asString()).isEqualTo("prometheus");
        assertThat(strings(monitor.path("spec").path("namespaceSelector").path("matchNames")))
                .containsExactly(HelmChart.NAMESPACE);
        assertThat(endpoint.path("interval").asString()).isEqualTo("15s");
        assertThat(endpoint.path("scrapeTimeout").asString()).isEqualTo("5s");
        assertThat(endpoint.path("relabelings").get(0).path("targetLabel").asString()).isEqualTo("cluster");
        assertThat(endpoint.path("metricRelabelings").get(0).path("regex").asString()).isEqualTo("jvm_.*");
        ObjectNode metricsService = rendered.find("Service", FULLNAME + "-metrics").orElseThrow();
        monitor.path("spec").path("selector").path("matchLabels").properties().forEach(e -> assertThat(
                metricsService.path("metadata").path("labels").path(e.getKey()).asString()).isEqualTo(
                e.getValue().asString()));
    }

    /** Every Service's name is a DNS label, at most 63 characters, whatever the release's name. */
    @Test
    void serviceNamesFitADnsLabelWithTheLongestFullname() {
        Manifests rendered = Manifests.parse(HelmChart.ours().template(
                Map.of("fullnameOverride", "x".repeat(63), "serviceMonitor.enabled", true)));

        assertThat(rendered.ofKind("Service")).hasSize(2).allSatisfy(service -> assertThat(
                service.path("metadata").path("name").asString()).hasSizeLessThanOrEqualTo(63));
        assertThat(rendered.ofKind("Service")).anySatisfy(service -> assertThat(
                service.path("metadata").path("name").asString()).endsWith("-metrics"));
    }

    /**
     * Values from a values file, as users write them: YAML numbers reach the template as floats, and a million
     * had come out as 1e+06, which the server refuses. The server takes every argument as rendered.
     */
    @Test
    void extraArgsFromAValuesFileReachTheServerAsWritten(@TempDir Path scratch) throws Exception {
        List<String> args = strings(renderValues(scratch, """
                extraArgs:
                  max-connections: 1000000
                  max-header-bytes: 1048576
                  access-log-sample-rate: 0.25
                  idle-timeout: 1m30s
                  bind-address: "::"
                  access-log: ""
                """).container().path("args"));

        assertThat(args).contains("--max-connections=1000000", "--max-header-bytes=1048576",
                "--access-log-sample-rate=0.25", "--idle-timeout=1m30s", "--bind-address=::", "--access-log");
        BackendConfig config = ((BackendConfig.Run) BackendConfig.parse(args, Map.of())).config();
        assertThat(config.maxConnections()).isEqualTo(1_000_000);
        assertThat(config.maxHeaderBytes()).isEqualTo(1_048_576);
        assertThat(config.accessLogSampleRate()).isEqualTo(0.25);
        assertThat(config.idleTimeout()).isEqualTo(Duration.ofSeconds(90));
    }

    /** A target set to null, Helm's way to drop a default, leaves that metric out rather than breaking the HPA. */
    @Test
    void anAutoscalingTargetSetToNullIsLeftOut(@TempDir Path scratch) throws Exception {
        Manifests rendered = renderValues(scratch, """
                autoscaling:
                  enabled: true
                  targetMemoryUtilizationPercentage: null
                """);
        JsonNode metrics = rendered.only("HorizontalPodAutoscaler").path("spec").path("metrics");

        assertThat(metrics).hasSize(1);
        assertThat(metrics.get(0).path("resource").path("name").asString()).isEqualTo("cpu");
        assertThat(metrics.get(0).path("resource").path("target").path("averageUtilization").asInt()).isEqualTo(80);
        assertThat(SCHEMAS.problems(rendered)).isEmpty();
    }

    @Test
    void serviceMonitorScrapesTheMetricsServiceOnly() {
        Manifests rendered = HelmChart.ours().render(ci("servicemonitor"));
        JsonNode monitor = rendered.only("ServiceMonitor").path("spec");
        ObjectNode metricsService = rendered.find("Service", FULLNAME + "-metrics").orElseThrow();
        ObjectNode trafficService = rendered.find("Service", FULLNAME).orElseThrow();

        assertThat(monitor.path("endpoints").get(0).path("port").asString()).isEqualTo("metrics");
        assertThat(metricsService.path("spec").path("ports").get(0).path("targetPort").asString()).isEqualTo("metrics");
        assertThat(selects(monitor.path("selector").path("matchLabels"), metricsService)).isTrue();
        assertThat(selects(monitor.path("selector").path("matchLabels"), trafficService)).isFalse();
    }

    @Test
    void customErrorPagesAreMountedWhereTheServerReadsThem() {
        Manifests rendered = HelmChart.ours().render(ci("custom-error-pages"));
        ObjectNode configMap = rendered.only("ConfigMap");
        ObjectNode container = rendered.container();

        assertThat(names(configMap.path("data"))).containsExactlyInAnyOrder("404.html", "404.json", "5xx.html");
        assertThat(container.path("volumeMounts").get(0).path("mountPath").asString()).isEqualTo("/www");
        assertThat(container.path("volumeMounts").get(0).path("readOnly").asBoolean()).isTrue();
        assertThat(env(container)).containsEntry("ERROR_FILES_PATH", "/www")
                .containsEntry("DEFAULT_RESPONSE_FORMAT", "application/json");
        assertThat(rendered.podSpec().path("volumes").get(0).path("configMap").path("name").asString())
                .isEqualTo(configMap.path("metadata").path("name").asString());
        assertThat(rendered.only("Deployment").path("spec").path("template").path("metadata").path("annotations")
                .has("checksum/error-pages")).as("pods roll when the pages change").isTrue();
    }

    /**
     * Pages from a ConfigMap the user manages: the chart makes none (its {@code pages} are ignored), the pod mounts
     * the user's where the server reads them, with the same mount and environment as the chart's own, and the pod
     * template carries no checksum of a ConfigMap the chart did not render: only the podAnnotations asked for, and
     * no empty annotations key either: it would render as null, which an upgrade applies as "delete them all".
     */
    @Test
    void anExistingConfigMapOfErrorPagesIsMountedInsteadOfTheChartsOwn(@TempDir Path scratch) throws Exception {
        String existing = """
                customErrorPages:
                  enabled: true
                  defaultResponseFormat: application/json
                  existingConfigMap: site-error-pages
                  pages:
                    404.html: <h1>not used</h1>
                """;
        Manifests rendered = renderValues(scratch, existing);
        Manifests chartMade = HelmChart.ours().render(ci("custom-error-pages"));
        ObjectNode container = rendered.container();
        JsonNode volumes = rendered.podSpec().path("volumes");

        assertThat(rendered.ofKind("ConfigMap")).as("rendered %s", rendered.describe()).isEmpty();
        assertThat(volumes).hasSize(1);
        assertThat(volumes.get(0).path("name").asString()).isEqualTo("error-pages");
        assertThat(volumes.get(0).path("configMap").path("name").asString()).isEqualTo("site-error-pages");
        assertThat(container.path("volumeMounts")).isEqualTo(chartMade.container().path("volumeMounts"));
        assertThat(container.path("volumeMounts").get(0).path("name").asString()).isEqualTo("error-pages");
        assertThat(env(container)).isEqualTo(env(chartMade.container()));
        JsonNode podMetadata = rendered.only("Deployment").path("spec").path("template").path("metadata");
        assertThat(podMetadata.has("annotations"))
                .as("no checksum of a ConfigMap the chart does not render, nor an empty annotations key: %s",
                        podMetadata)
                .isFalse();
        assertThat(SCHEMAS.problems(rendered)).isEmpty();
        JsonNode annotations = renderValues(scratch, existing + """
                podAnnotations:
                  example.com/owner: edge
                """).only("Deployment").path("spec").path("template").path("metadata").path("annotations");
        assertThat(names(annotations)).containsExactly("example.com/owner");
    }

    @Test
    void httpRouteCatchesEverythingForTheService() {
        JsonNode spec = HelmChart.ours().render(ci("httproute")).only("HTTPRoute").path("spec");

        assertThat(spec.path("parentRefs").get(0).path("name").asString()).isEqualTo("public");
        JsonNode rule = spec.path("rules").get(0);
        assertThat(rule.path("matches").get(0).path("path").path("type").asString()).isEqualTo("PathPrefix");
        assertThat(rule.path("matches").get(0).path("path").path("value").asString()).isEqualTo("/");
        assertThat(rule.path("backendRefs").get(0).path("name").asString()).isEqualTo(FULLNAME);
        assertThat(rule.path("backendRefs").get(0).path("port").asInt()).isEqualTo(80);
        assertThat(spec.has("hostnames")).as("no hostnames: every hostname the listener accepts").isFalse();
    }

    /** Hostnames and annotations reach the HTTPRoute as given, beside the catch-all rule. */
    @Test
    void httpRouteHostnamesAndAnnotationsReachTheRoute(@TempDir Path scratch) throws Exception {
        Manifests rendered = renderValues(scratch, """
                httpRoute:
                  enabled: true
                  parentRefs:
                    - name: public
                  hostnames:
                    - example.com
                    - "*.example.com"
                  annotations:
                    example.com/owner: edge
                    example.com/note: "catch-all: keep last"
                """);
        ObjectNode route = rendered.only("HTTPRoute");

        assertThat(strings(route.path("spec").path("hostnames"))).containsExactly("example.com", "*.example.com");
        assertThat(route.path("metadata").path("annotations").properties().stream().collect(Collectors.toMap(
                Map.Entry::getKey, e -> e.getValue().asString()))).containsExactlyInAnyOrderEntriesOf(Map.of(
                "example.com/owner", "edge", "example.com/note", "catch-all: keep last"));
        assertThat(route.path("spec").path("rules").get(0).path("matches").get(0).path("path").path("value")
                .asString()).isEqualTo("/");
        assertThat(SCHEMAS.problems(rendered)).isEmpty();
    }

    @Test
    void gkeGetsANodePortServiceNamedLikeItsOwnBackend() {
        ObjectNode service = HelmChart.ours().render(ci("gke-nodeport")).only("Service");

        assertThat(service.path("metadata").path("name").asString()).isEqualTo("default-http-backend");
        assertThat(service.path("spec").path("type").asString()).isEqualTo("NodePort");
        assertThat(service.path("spec").path("ports").get(0).path("nodePort").asInt()).isEqualTo(30080);
    }

    @Test
    void imageByDigestWithPullSecret() {
        Manifests rendered = HelmChart.ours().render(ci("image-digest"));

        assertThat(rendered.container().path("image").asString()).isEqualTo(
                "mirror.example.com/platform/kubernetes-ingress-defaultbackend:0.1.0@sha256:"
                        + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        assertThat(secretNames(rendered.podSpec())).containsExactly("mirror-credentials");
    }

    /**
     * global.imagePullSecrets then imagePullSecrets, each a name or {@code name:} object, make one list in that
     * order with every secret once: in the Deployment's pod and in the {@code helm test} pod, which pulls the
     * same image.
     */
    @Test
    void pullSecretsFromGlobalAndTheChartMergeOnceEachInBothPods(@TempDir Path scratch) throws Exception {
        Path values = writeValues(scratch, """
                global:
                  imagePullSecrets:
                    - name: mirror-credentials
                    - shared-credentials
                imagePullSecrets:
                  - shared-credentials
                  - name: team-credentials
                  - name: mirror-credentials
                """);
        Manifests rendered = HelmChart.ours().renderWithTestHook(scratch, values);

        assertThat(secretNames(rendered.podSpec()))
                .containsExactly("mirror-credentials", "shared-credentials", "team-credentials");
        assertThat(secretNames(rendered.only("Pod").path("spec")))
                .containsExactly("mirror-credentials", "shared-credentials", "team-credentials");
        assertThat(SCHEMAS.problems(rendered)).isEmpty();
    }

    @Test
    void extraArgsAndEnvsFollowTheFixedFlags() {
        Manifests rendered = HelmChart.ours().render(ci("extra-args"));
        List<String> args = strings(rendered.container().path("args"));

        assertThat(args).containsExactly("--port=8080", "--svc-port=10254", "--timeout=20s", "--access-log",
                "--idle-timeout=30s", "--max-connections=4096");
        // And the server takes them as they are rendered, the bare flag as a switch turned on.
        BackendConfig.Command command = BackendConfig.parse(args, Map.of());
        assertThat(command).isInstanceOf(BackendConfig.Run.class);
        BackendConfig config = ((BackendConfig.Run) command).config();
        assertThat(config.accessLog()).isTrue();
        assertThat(config.idleTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.maxConnections()).isEqualTo(4096);
        assertThat(env(rendered.container())).containsEntry("JAVA_TOOL_OPTIONS", "-XX:MaxRAMPercentage=60");
        assertThat(rendered.podSpec().path("terminationGracePeriodSeconds").asLong())
                .isGreaterThan(ChartFixtures.goDuration("20s").toSeconds());
    }

    @Test
    void ioUringValuesChangeTheTransportAndOnlyTheContainersSeccompProfile() {
        Manifests rendered = HelmChart.ours().render(ci("io-uring"));
        JsonNode security = rendered.container().path("securityContext");

        assertThat(strings(rendered.container().path("args"))).containsExactly("--port=8080", "--svc-port=10254",
                "--timeout=5s", "--transport=io_uring");
        assertThat(security.path("seccompProfile").path("type").asString()).isEqualTo("Unconfined");
        assertThat(security.path("readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(security.path("allowPrivilegeEscalation").asBoolean()).isFalse();
        assertThat(strings(security.path("capabilities").path("drop"))).containsExactly("ALL");
        assertThat(rendered.podSpec().path("securityContext").path("seccompProfile").path("type").asString())
                .isEqualTo("RuntimeDefault");
    }

    @Test
    void schedulingAndMetadataReachThePod() {
        Manifests rendered = HelmChart.ours().render(ci("scheduling"));
        JsonNode template = rendered.only("Deployment").path("spec").path("template");

        assertThat(rendered.podSpec().path("priorityClassName").asString()).isEqualTo("system-cluster-critical");
        assertThat(rendered.podSpec().path("tolerations")).hasSize(1);
        assertThat(rendered.podSpec().path("affinity").has("nodeAffinity")).isTrue();
        assertThat(template.path("metadata").path("labels").path("team").asString()).isEqualTo("edge");
        assertThat(template.path("metadata").path("annotations").path("example.com/owner").asString()).isEqualTo("edge");
        for (ObjectNode object : rendered.all()) {
            assertThat(object.path("metadata").path("labels").path("platform").asString()).as(Manifests.id(object))
                    .isEqualTo("shared");
        }
    }

    static List<String> strings(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asString).collect(Collectors.toList());
    }

    static List<String> names(JsonNode object) {
        return object.propertyStream().map(Map.Entry::getKey).collect(Collectors.toList());
    }

    /** The chart rendered with {@code yaml} as a values file, as users write one: YAML's numbers are floats. */
    private static Manifests renderValues(Path scratch, String yaml) throws IOException {
        return HelmChart.ours().render(writeValues(scratch, yaml));
    }

    private static Path writeValues(Path scratch, String yaml) throws IOException {
        Path values = scratch.resolve("values.yaml");
        Files.writeString(values, yaml);
        return values;
    }

    /** The names of a pod spec's imagePullSecrets, in order. */
    static List<String> secretNames(JsonNode podSpec) {
        return StreamSupport.stream(podSpec.path("imagePullSecrets").spliterator(), false)
                .map(s -> s.path("name").asString()).collect(Collectors.toList());
    }

    static Map<String, Long> ports(JsonNode container) {
        return StreamSupport.stream(container.path("ports").spliterator(), false).collect(
                Collectors.toMap(p -> p.path("name").asString(), p -> p.path("containerPort").asLong()));
    }

    static Map<String, Long> timings(JsonNode probe) {
        return probe.propertyStream().filter(e -> e.getValue().isNumber())
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().asLong()));
    }

    static Map<String, String> env(JsonNode container) {
        return StreamSupport.stream(container.path("env").spliterator(), false).collect(
                Collectors.toMap(e -> e.path("name").asString(), e -> e.path("value").asString()));
    }

    private static boolean selects(JsonNode matchLabels, JsonNode object) {
        JsonNode labels = object.path("metadata").path("labels");
        return matchLabels.propertyStream().allMatch(e -> e.getValue().equals(labels.path(e.getKey())));
    }
}
