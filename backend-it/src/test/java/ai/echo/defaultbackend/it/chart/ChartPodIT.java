package ai.echo.defaultbackend.it.chart;

import static org.assertj.core.api.Assertions.assertThat;

import ai.echo.defaultbackend.BackendConfig;
import ai.echo.defaultbackend.it.ServerProcess;
import ai.echo.defaultbackend.it.image.ImageContainer;
import ai.echo.defaultbackend.it.image.LocalImage;
import ai.echo.defaultbackend.it.image.RawHttp;
import ai.echo.defaultbackend.it.kustomize.Kustomize;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The rendered Deployment's pod, run as it would run: the locally built image started with the rendered args
 * under every constraint the rendered pod spec imposes ({@link PodAsPodman}: UID and GID, read-only root with
 * no tmpfs, capabilities, no-new-privileges, seccomp, memory limit, CPU weight), its rendered probes executed
 * as a kubelet executes them, the chart's {@code helm test} pod run against it, and a SIGTERM stop within the
 * rendered grace period. For the chart's defaults and its io_uring values, and for the Kustomize base with
 * and without its io_uring component.
 *
 * <p>The image reference is the one thing not taken from the rendering: the image built from this checkout
 * stands in for the published one, run by ID ({@link LocalImage}). Without podman the test fails, it never
 * skips; without kubectl only the Kustomize case is skipped, saying so.
 */
class ChartPodIT {

    private static final Pattern STOPPING = Pattern.compile("^stopping http server\\.\\.\\.$", Pattern.MULTILINE);
    private static final String NOT_FOUND = "default backend - 404";
    private static final String REQUEST_COUNT = "default_http_backend_http_request_count_total";
    private static final Duration HOOK_TIMEOUT = Duration.ofSeconds(60);
    /** Kubernetes' default when a pod spec leaves {@code terminationGracePeriodSeconds} out. */
    private static final long DEFAULT_GRACE_SECONDS = 30;

    private static LocalImage image;

    /** What the pod is rendered from; only the chart has a {@code helm test} pod. */
    enum Source {
        CHART_DEFAULTS {
            @Override
            Rendered render(Path scratch) {
                return new Rendered(HelmChart.ours().render(),
                        Optional.of(HelmChart.ours().renderWithTestHook(scratch).only("Pod")));
            }
        },
        /**
         * {@code ci/io-uring-values.yaml}: the io_uring transport, with the container's seccomp profile
         * Unconfined. Needs a kernel that lets every process use io_uring.
         */
        CHART_IO_URING {
            @Override
            Rendered render(Path scratch) {
                ServerProcess.requireIoUring(name());
                Path values = ChartFixtures.ci("io-uring");
                return new Rendered(HelmChart.ours().render(values),
                        Optional.of(HelmChart.ours().renderWithTestHook(scratch, values).only("Pod")));
            }
        },
        KUSTOMIZE_BASE {
            @Override
            Rendered render(Path scratch) {
                return new Rendered(Kustomize.build(ProjectPaths.kustomize().resolve("base")), Optional.empty());
            }
        },
        /** The base with {@code components/io-uring}: the same pod as {@link #CHART_IO_URING}. */
        KUSTOMIZE_IO_URING {
            @Override
            Rendered render(Path scratch) {
                ServerProcess.requireIoUring(name());
                return new Rendered(Kustomize.build(Kustomize.withComponents("pod-io-uring", List.of("io-uring"))),
                        Optional.empty());
            }
        };

        abstract Rendered render(Path scratch);
    }

    record Rendered(Manifests manifests, Optional<ObjectNode> testPod) {
    }

    @BeforeAll
    static void buildImage() {
        image = LocalImage.get();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Source.class)
    void renderedPodStartsPassesItsProbesAndHookAndStopsOnSigterm(Source source, @TempDir Path scratch) {
        Rendered rendered = source.render(scratch);
        ObjectNode podSpec = rendered.manifests().podSpec();
        ObjectNode container = rendered.manifests().container();
        Map<String, Integer> containerPorts = PodAsPodman.ports(container);
        assertThat(containerPorts).as("named container ports").containsKeys("http", "metrics");
        long grace = podSpec.path("terminationGracePeriodSeconds").asLong(DEFAULT_GRACE_SECONDS);
        List<String> args = PodAsPodman.args(container);

        // Network: the pod gets a network namespace of its own, as on a node, through slirp4netns (never
        // podman's default bridge), and each declared container port is published on 127.0.0.1 at a port
        // picked free here, so parallel runs and whatever holds 8080 or 10254 on this machine do not collide.
        // Inside, the server binds the ports of its rendered args, which therefore run verbatim; what reaches
        // the pod IP on a node reaches the published port here.
        Map<Integer, Integer> hostPorts = new LinkedHashMap<>();
        List<String> options = new ArrayList<>(List.of("--network", "slirp4netns"));
        for (int containerPort : containerPorts.values()) {
            int hostPort = RawHttp.freePort();
            hostPorts.put(containerPort, hostPort);
            options.addAll(List.of("-p", "127.0.0.1:" + hostPort + ":" + containerPort + "/tcp"));
        }
        options.addAll(PodAsPodman.runOptions(podSpec, container));
        System.out.printf("%s: podman run %s <image %s> %s%n", source, String.join(" ", options),
                image.imageId().substring(0, 12), String.join(" ", args));

        try (ImageContainer backend = image.start(options, args)) {
            long started = System.nanoTime();
            PortMap ports = new PortMap(containerPorts, hostPorts);

            HttpGetProbe startup = HttpGetProbe.of("startupProbe", container.path("startupProbe"));
            Duration up = startup.awaitSuccess(ports.host(startup.port()), started, backend::isRunning,
                    () -> diagnostics(backend));
            System.out.printf("%s: startupProbe succeeded %d ms after start (allowed: %d x %d s after %d s)%n",
                    source, up.toMillis(), startup.failureThreshold(), startup.periodSeconds(),
                    startup.initialDelaySeconds());

            assertConstraintsReachedTheKernel(backend, podSpec, container);
            String transport = args.contains("--transport=io_uring") ? "io_uring" : "epoll";
            assertThat(backend.logs()).as("the transport in the startup line")
                    .contains("started: transport " + transport + ",");

            // Once the startup probe has passed, the kubelet runs these; initialDelaySeconds only postpones
            // the first liveness probe (30 s), whose answer is what matters here.
            for (String kind : List.of("readinessProbe", "livenessProbe")) {
                HttpGetProbe probe = HttpGetProbe.of(kind, container.path(kind));
                HttpGetProbe.Outcome outcome = probe.attempt(ports.host(probe.port()));
                System.out.printf("%s: %s %s%n", source, kind, outcome);
                assertThat(outcome.status()).as("%s: %s", kind, outcome).isEqualTo(200);
                assertThat(outcome.took()).as("%s within timeoutSeconds", kind)
                        .isLessThan(Duration.ofSeconds(probe.timeoutSeconds()));
            }

            HttpGetProbe.Outcome health = HttpGetProbe.get(ports.host("metrics"), "/healthz");
            assertThat(health.status()).as("/healthz on metrics: %s", health).isEqualTo(200);
            assertThat(health.body()).isEqualTo("ok");
            HttpGetProbe.Outcome metrics = HttpGetProbe.get(ports.host("metrics"), "/metrics");
            assertThat(metrics.status()).as("/metrics on metrics: %s", metrics.error()).isEqualTo(200);
            assertThat(metrics.body()).contains(REQUEST_COUNT);
            HttpGetProbe.Outcome notFound = HttpGetProbe.get(ports.host("http"), "/");
            assertThat(notFound.status()).as("/ on http: %s", notFound).isEqualTo(404);
            assertThat(notFound.body()).isEqualTo(NOT_FOUND);
            assertRunningNotOomKilled(backend);

            if (rendered.testPod().isPresent()) {
                runTestHook(source, rendered, backend, containerPorts);
                assertRunningNotOomKilled(backend);
            } else {
                System.out.printf("%s: no helm test pod to run (Kustomize has no test hook)%n", source);
            }

            stopsOnSigtermWithinTheGracePeriod(source, backend, grace, args);
        }
    }

    /**
     * The {@code helm test} pod, rendered, run under its own rendered constraints with its own args except the
     * Service's address: its {@code --host <service> --port <service port>} would go through cluster DNS and
     * kube-proxy to the pod's IP and the Service's target port. Here it joins the backend's network namespace
     * (as a container of the same pod would) and gets {@code 127.0.0.1} and the container port the Service
     * targets, resolved from the rendered Service's {@code targetPort}; only those two values are replaced.
     */
    private static void runTestHook(Source source, Rendered rendered, ImageContainer backend,
            Map<String, Integer> containerPorts) {
        ObjectNode hook = rendered.testPod().orElseThrow();
        JsonNode hookSpec = hook.path("spec");
        assertThat(hookSpec.path("containers")).as("containers of the test pod").hasSize(1);
        JsonNode hookContainer = hookSpec.path("containers").get(0);
        List<String> hookArgs = PodAsPodman.args(hookContainer);
        int hostIndex = hookArgs.indexOf("--host") + 1;
        int portIndex = hookArgs.indexOf("--port") + 1;
        assertThat(hostIndex).as("--host in the test pod's args %s", hookArgs).isPositive();
        assertThat(portIndex).as("--port in the test pod's args %s", hookArgs).isPositive();

        ObjectNode service = rendered.manifests().only("Service");
        assertThat(hookArgs.get(hostIndex)).as("the test pod targets the Service")
                .isEqualTo(service.path("metadata").path("name").asString());
        JsonNode servicePort = null;
        for (JsonNode port : service.path("spec").path("ports")) {
            if (String.valueOf(port.path("port").asInt()).equals(hookArgs.get(portIndex))) {
                servicePort = port;
            }
        }
        assertThat(servicePort).as("a port of the Service is %s", hookArgs.get(portIndex)).isNotNull();
        String targetPort = servicePort.path("targetPort").asString();
        int containerPort = targetPort.matches("\\d+") ? Integer.parseInt(targetPort) : containerPorts.get(targetPort);
        List<String> args = new ArrayList<>(hookArgs);
        args.set(hostIndex, "127.0.0.1");
        args.set(portIndex, String.valueOf(containerPort));

        List<String> options = new ArrayList<>(List.of("--network", "container:" + backend.id()));
        options.addAll(PodAsPodman.runOptions(hookSpec, hookContainer));
        System.out.printf("%s: helm test pod: podman run %s <image> %s (rendered: %s)%n", source,
                String.join(" ", options), String.join(" ", args), String.join(" ", hookArgs));
        try (ImageContainer test = image.start(options, args)) {
            int exit = test.awaitExit(HOOK_TIMEOUT);
            String logs = test.logs();
            System.out.printf("%s: helm test pod exited %d: %s%n", source, exit, logs.strip());
            assertThat(exit).as("helm test pod's exit code; its logs:\n%s", logs).isZero();
            assertThat(test.inspect("{{.State.OOMKilled}}")).as("helm test pod OOM-killed").isEqualTo("false");
        }
    }

    /**
     * {@code podman stop -t <terminationGracePeriodSeconds>}: SIGTERM, then SIGKILL at the grace period, as
     * the kubelet does. The server must print what 1.5 prints, exit 0, and do it well within the grace period:
     * within its own drain deadline ({@code --timeout} of the rendered args), since nothing is in flight.
     */
    private static void stopsOnSigtermWithinTheGracePeriod(Source source, ImageContainer backend, long grace,
            List<String> args) {
        Duration drain = args.stream().filter(a -> a.startsWith("--timeout=")).findFirst()
                .map(a -> ChartFixtures.goDuration(a.substring("--timeout=".length())))
                .orElse(BackendConfig.DEFAULTS.shutdownTimeout());
        assertThat(drain).as("drain deadline below the grace period").isLessThan(Duration.ofSeconds(grace));
        long signalled = System.nanoTime();
        image.podman().run(Duration.ofSeconds(grace + 30), "stop", "-t", String.valueOf(grace), backend.id())
                .orFail();
        Duration stop = Duration.ofNanos(System.nanoTime() - signalled);
        String logs = backend.logs();
        System.out.printf("%s: stopped %d ms after SIGTERM (grace %d s, drain deadline %s)%n", source,
                stop.toMillis(), grace, drain);
        assertThat(backend.inspect("{{.State.ExitCode}}")).as("exit code after SIGTERM; logs:\n%s", logs)
                .isEqualTo("0");
        assertThat(STOPPING.matcher(logs).find()).as("'stopping http server...' in the logs:\n%s", logs).isTrue();
        assertThat(stop).as("time from SIGTERM to exit").isLessThan(drain);
        assertThat(backend.inspect("{{.State.OOMKilled}}")).as("OOM-killed").isEqualTo("false");
    }

    /**
     * The constraints as the kernel sees the server's process, not as podman was asked: user and group,
     * no-new-privileges, the seccomp filter, no effective capabilities, the read-only root and the memory limit.
     */
    private static void assertConstraintsReachedTheKernel(ImageContainer backend, JsonNode podSpec, JsonNode container) {
        JsonNode podContext = podSpec.path("securityContext");
        JsonNode context = container.path("securityContext");
        Map<String, String> status = procStatus(backend.hostPid());
        long uid = PodAsPodman.effectiveUid(podSpec, container);
        assertThat(status.get("Uid")).as("real, effective, saved and fs UID").isEqualTo(repeat(uid));
        JsonNode gid = PodAsPodman.effective(podContext, context, "runAsGroup");
        if (!gid.isMissingNode()) {
            assertThat(status.get("Gid")).as("real, effective, saved and fs GID").isEqualTo(repeat(gid.asLong()));
        }
        if (!context.path("allowPrivilegeEscalation").asBoolean(true)) {
            assertThat(status.get("NoNewPrivs")).as("NoNewPrivs").isEqualTo("1");
        }
        if (PodAsPodman.effective(podContext, context, "seccompProfile").path("type").asString("")
                .equals("RuntimeDefault")) {
            assertThat(status.get("Seccomp")).as("seccomp mode (2: filter, the runtime's default profile)")
                    .isEqualTo("2");
        }
        List<String> dropped = new ArrayList<>();
        context.path("capabilities").path("drop").forEach(c -> dropped.add(c.asString()));
        if (dropped.contains("ALL") && context.path("capabilities").path("add").isEmpty()) {
            assertThat(Long.parseLong(status.get("CapEff"), 16)).as("effective capabilities").isZero();
            assertThat(Long.parseLong(status.get("CapBnd"), 16)).as("bounding capabilities").isZero();
        }
        assertThat(backend.inspect("{{.HostConfig.ReadonlyRootfs}}")).as("read-only root")
                .isEqualTo(String.valueOf(context.path("readOnlyRootFilesystem").asBoolean(false)));
        JsonNode memory = container.path("resources").path("limits").path("memory");
        if (!memory.isMissingNode()) {
            assertThat(Long.parseLong(backend.inspect("{{.HostConfig.Memory}}"))).as("memory limit")
                    .isEqualTo(PodAsPodman.bytes(memory.asString()));
        }
    }

    private static void assertRunningNotOomKilled(ImageContainer backend) {
        assertThat(backend.inspect("{{.State.OOMKilled}}")).as("OOM-killed; %s", diagnostics(backend))
                .isEqualTo("false");
        assertThat(backend.isRunning()).as("still running; %s", diagnostics(backend)).isTrue();
    }

    private static String diagnostics(ImageContainer backend) {
        return "container " + backend.inspect("{{.State.Status}} exit {{.State.ExitCode}} oom-killed "
                + "{{.State.OOMKilled}}") + ", logs:\n" + backend.logs();
    }

    private static Map<String, String> procStatus(long pid) {
        Map<String, String> fields = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    fields.put(line.substring(0, colon), line.substring(colon + 1).strip().replaceAll("\\s+", " "));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the server's /proc/" + pid + "/status", e);
        }
        return fields;
    }

    private static String repeat(long id) {
        return id + " " + id + " " + id + " " + id;
    }


    /** A probe's port (a container port's name or number) to the host port it is published on. */
    private record PortMap(Map<String, Integer> containerPorts, Map<Integer, Integer> hostPorts) {
        int host(String port) {
            Integer containerPort = port.matches("\\d+") ? Integer.valueOf(port) : containerPorts.get(port);
            if (containerPort == null || !hostPorts.containsKey(containerPort)) {
                throw new AssertionError("port " + port + " is not a declared container port: " + containerPorts);
            }
            return hostPorts.get(containerPort);
        }
    }
}
