package ai.echo.defaultbackend.it.chart;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;

/**
 * The {@code podman run} options that impose on a container what a rendered pod spec asks a kubelet to impose:
 * the effective securityContext (container fields over the pod's), the resources, the environment, the command.
 * Every field it reads comes from the rendered objects; a field it does not know how to impose fails the test
 * with its name rather than being dropped, so the pod that runs is never quietly weaker than the one rendered.
 * Networking and ports are the caller's.
 */
final class PodAsPodman {

    private static final Set<String> POD_SECURITY_FIELDS = Set.of("runAsNonRoot", "runAsUser", "runAsGroup",
            "seccompProfile", "supplementalGroups", "fsGroup");
    private static final Set<String> CONTAINER_SECURITY_FIELDS = Set.of("runAsNonRoot", "runAsUser", "runAsGroup",
            "seccompProfile", "readOnlyRootFilesystem", "allowPrivilegeEscalation", "capabilities", "privileged");
    /** Container fields read here, or by the caller (image, args, ports, probes). */
    private static final Set<String> CONTAINER_FIELDS = Set.of("name", "image", "imagePullPolicy", "args",
            "ports", "startupProbe", "livenessProbe", "readinessProbe", "securityContext", "resources", "env",
            "command", "workingDir", "terminationMessagePath", "terminationMessagePolicy");
    private static final Pattern QUANTITY = Pattern.compile("([0-9.]+)(Ki|Mi|Gi|Ti|k|M|G|T|m)?");
    /**
     * What a kubelet puts in every container's environment whatever {@code enableServiceLinks} says: the
     * {@code kubernetes} Service of the default namespace (here at kind's and kubeadm's default address). The
     * server reads {@code PORT} from its environment, so these neighbours must leave it alone.
     */
    private static final Map<String, String> KUBERNETES_SERVICE_ENV = new LinkedHashMap<>();

    static {
        KUBERNETES_SERVICE_ENV.put("KUBERNETES_SERVICE_HOST", "10.96.0.1");
        KUBERNETES_SERVICE_ENV.put("KUBERNETES_SERVICE_PORT", "443");
        KUBERNETES_SERVICE_ENV.put("KUBERNETES_SERVICE_PORT_HTTPS", "443");
        KUBERNETES_SERVICE_ENV.put("KUBERNETES_PORT", "tcp://10.96.0.1:443");
        KUBERNETES_SERVICE_ENV.put("KUBERNETES_PORT_443_TCP", "tcp://10.96.0.1:443");
        KUBERNETES_SERVICE_ENV.put("KUBERNETES_PORT_443_TCP_PROTO", "tcp");
        KUBERNETES_SERVICE_ENV.put("KUBERNETES_PORT_443_TCP_PORT", "443");
        KUBERNETES_SERVICE_ENV.put("KUBERNETES_PORT_443_TCP_ADDR", "10.96.0.1");
    }

    private PodAsPodman() {
    }

    /** The options for {@code container} of the pod whose spec is {@code podSpec}. */
    static List<String> runOptions(JsonNode podSpec, JsonNode container) {
        List<String> options = new ArrayList<>();
        // A kubelet ignores the image's Docker HEALTHCHECK: only the pod's probes run.
        options.add("--no-healthcheck");
        // A kubelet does not add the user to /etc/passwd as podman would on a writable root.
        options.add("--passwd=false");
        options.add("--pull=never");
        requireOnly(container, CONTAINER_FIELDS, "container");
        if (podSpec.has("volumes") || container.has("volumeMounts")) {
            throw new AssertionError("the rendered pod has volumes; this test runs the pod as rendered, with no"
                    + " volume and no tmpfs, and does not translate them: " + podSpec.path("volumes"));
        }
        if (podSpec.path("automountServiceAccountToken").asBoolean(true)) {
            throw new AssertionError("the rendered pod mounts a ServiceAccount token, which this test does not"
                    + " translate");
        }
        security(podSpec.path("securityContext"), container.path("securityContext"), options);
        resources(container.path("resources"), options);
        KUBERNETES_SERVICE_ENV.forEach((name, value) -> options.addAll(List.of("-e", name + "=" + value)));
        for (JsonNode env : container.path("env")) {
            if (!env.has("value") || env.has("valueFrom")) {
                throw new AssertionError("env " + env + " is not a plain value; this test cannot translate it");
            }
            options.addAll(List.of("-e", env.path("name").asString() + "=" + env.path("value").asString()));
        }
        if (container.has("command")) {
            options.addAll(List.of("--entrypoint", container.path("command").toString()));
        }
        if (container.has("workingDir")) {
            options.addAll(List.of("--workdir", container.path("workingDir").asString()));
        }
        return options;
    }

    /** The container's args, verbatim (the image's ENTRYPOINT runs them when there is no command). */
    static List<String> args(JsonNode container) {
        List<String> args = new ArrayList<>();
        container.path("args").forEach(a -> args.add(a.asString()));
        return args;
    }

    /** Named container ports to their numbers. */
    static Map<String, Integer> ports(JsonNode container) {
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (JsonNode port : container.path("ports")) {
            if (!port.path("protocol").asString("TCP").equals("TCP")) {
                throw new AssertionError("port " + port + " is not TCP");
            }
            ports.put(port.path("name").asString(), port.path("containerPort").asInt());
        }
        return ports;
    }

    /** The user the container runs as: {@code runAsUser}, else the image's {@code USER}. */
    static long effectiveUid(JsonNode podSpec, JsonNode container) {
        JsonNode uid = effective(podSpec.path("securityContext"), container.path("securityContext"), "runAsUser");
        return uid.isMissingNode() ? ChartFixtures.imageUser()[0] : uid.asLong();
    }

    /** A field of the effective securityContext: the container's when set, else the pod's. */
    static JsonNode effective(JsonNode podContext, JsonNode containerContext, String field) {
        return containerContext.has(field) ? containerContext.path(field) : podContext.path(field);
    }

    private static void security(JsonNode pod, JsonNode container, List<String> options) {
        requireOnly(pod, POD_SECURITY_FIELDS, "pod securityContext");
        requireOnly(container, CONTAINER_SECURITY_FIELDS, "container securityContext");
        JsonNode uid = effective(pod, container, "runAsUser");
        JsonNode gid = effective(pod, container, "runAsGroup");
        if (!uid.isMissingNode()) {
            options.addAll(List.of("--user", uid.asLong() + (gid.isMissingNode() ? "" : ":" + gid.asLong())));
        } else if (!gid.isMissingNode()) {
            throw new AssertionError("runAsGroup without runAsUser is not translated");
        }
        if (effective(pod, container, "runAsNonRoot").asBoolean(false)) {
            // The kubelet refuses to start the container when it would run as UID 0.
            long effectiveUid = uid.isMissingNode() ? ChartFixtures.imageUser()[0] : uid.asLong();
            if (effectiveUid == 0) {
                throw new AssertionError("runAsNonRoot with UID 0: a kubelet would not start this container");
            }
        }
        for (JsonNode group : pod.path("supplementalGroups")) {
            options.addAll(List.of("--group-add", group.asString()));
        }
        if (pod.has("fsGroup")) {
            // The kubelet adds fsGroup to the container's supplementary groups (and chowns volumes; there are none).
            options.addAll(List.of("--group-add", pod.path("fsGroup").asString()));
        }
        if (container.path("readOnlyRootFilesystem").asBoolean(false)) {
            // No tmpfs either: a kubelet mounts nothing writable that the pod spec does not ask for.
            options.addAll(List.of("--read-only", "--read-only-tmpfs=false"));
        }
        if (!container.path("allowPrivilegeEscalation").asBoolean(true)) {
            options.addAll(List.of("--security-opt", "no-new-privileges"));
        }
        if (container.path("privileged").asBoolean(false)) {
            options.add("--privileged");
        }
        // The kubelet drops first, then adds.
        for (JsonNode cap : container.path("capabilities").path("drop")) {
            options.addAll(List.of("--cap-drop", cap.asString()));
        }
        for (JsonNode cap : container.path("capabilities").path("add")) {
            options.addAll(List.of("--cap-add", cap.asString()));
        }
        String seccomp = effective(pod, container, "seccompProfile").path("type").asString("");
        switch (seccomp) {
            // RuntimeDefault is the container runtime's own profile: for podman, its default seccomp profile,
            // which it applies when no seccomp option is given. ChartPodIT checks the filter is really on.
            case "RuntimeDefault" -> { }
            // Unset, a kubelet runs the container unconfined (unless its seccompDefault option is on).
            case "Unconfined", "" -> options.addAll(List.of("--security-opt", "seccomp=unconfined"));
            default -> throw new AssertionError("seccompProfile " + seccomp + " is not translated");
        }
    }

    private static void resources(JsonNode resources, List<String> options) {
        requireOnly(resources, Set.of("requests", "limits"), "resources");
        requireOnly(resources.path("limits"), Set.of("cpu", "memory"), "resources.limits");
        requireOnly(resources.path("requests"), Set.of("cpu", "memory"), "resources.requests");
        JsonNode memory = resources.path("limits").path("memory");
        if (!memory.isMissingNode()) {
            long bytes = bytes(memory.asString());
            // Kubernetes nodes run without swap by default: the limit is all the memory the container gets.
            options.addAll(List.of("--memory", bytes + "b", "--memory-swap", bytes + "b"));
        }
        JsonNode cpuLimit = resources.path("limits").path("cpu");
        if (!cpuLimit.isMissingNode()) {
            options.addAll(List.of("--cpus", BigDecimal.valueOf(milliCpu(cpuLimit.asString()), 3).toPlainString()));
        }
        JsonNode cpuRequest = resources.path("requests").path("cpu");
        if (!cpuRequest.isMissingNode()) {
            // The kubelet's MilliCPUToShares: the request becomes the cgroup's CPU weight, 2 at the least.
            options.addAll(List.of("--cpu-shares", String.valueOf(Math.max(2, milliCpu(cpuRequest.asString()) * 1024 / 1000))));
        }
        // requests.memory only schedules (and sets memory.min with the MemoryQoS feature gate, off by default).
    }

    /** A Kubernetes memory quantity in bytes: {@code 64Mi}, {@code 128M}, {@code 1Gi}, {@code 1048576}. */
    static long bytes(String quantity) {
        Matcher m = QUANTITY.matcher(quantity);
        if (!m.matches() || "m".equals(m.group(2))) {
            throw new AssertionError("not a memory quantity: " + quantity);
        }
        long unit = switch (m.group(2) == null ? "" : m.group(2)) {
            case "Ki" -> 1L << 10;
            case "Mi" -> 1L << 20;
            case "Gi" -> 1L << 30;
            case "Ti" -> 1L << 40;
            case "k" -> 1_000L;
            case "M" -> 1_000_000L;
            case "G" -> 1_000_000_000L;
            case "T" -> 1_000_000_000_000L;
            default -> 1L;
        };
        return new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit)).longValueExact();
    }

    /** A Kubernetes CPU quantity in millicores: {@code 10m}, {@code 0.5}, {@code 2}. */
    static long milliCpu(String quantity) {
        Matcher m = QUANTITY.matcher(quantity);
        if (!m.matches() || (m.group(2) != null && !"m".equals(m.group(2)))) {
            throw new AssertionError("not a CPU quantity: " + quantity);
        }
        BigDecimal value = new BigDecimal(m.group(1));
        return (m.group(2) == null ? value.multiply(BigDecimal.valueOf(1000)) : value).longValueExact();
    }

    private static void requireOnly(JsonNode object, Set<String> known, String what) {
        List<String> unknown = object.propertyStream().map(Map.Entry::getKey).filter(k -> !known.contains(k))
                .collect(Collectors.toList());
        if (!unknown.isEmpty()) {
            throw new AssertionError(what + " fields this test does not translate: " + unknown);
        }
    }
}
