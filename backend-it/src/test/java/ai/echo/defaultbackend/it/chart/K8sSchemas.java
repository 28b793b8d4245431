package ai.echo.defaultbackend.it.chart;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialect;
import com.networknt.schema.dialect.Dialects;
import com.networknt.schema.keyword.NonValidationKeyword;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Validates rendered objects against the strict schemas of the shared {@code k8s-schemas/} folder, where every
 * object has {@code additionalProperties: false}: a misspelled or misplaced field fails here, as
 * {@code kubectl apply --validate=strict} would fail on a cluster.
 */
public final class K8sSchemas {

    /** apiVersion and kind to the schema file that covers them. */
    private static final Map<String, String> FILES = Map.of(
            "apps/v1 Deployment", "deployment-apps-v1.json",
            "v1 Service", "service-v1.json",
            "v1 ServiceAccount", "serviceaccount-v1.json",
            "v1 ConfigMap", "configmap-v1.json",
            "policy/v1 PodDisruptionBudget", "poddisruptionbudget-policy-v1.json",
            "autoscaling/v2 HorizontalPodAutoscaler", "horizontalpodautoscaler-autoscaling-v2.json",
            "networking.k8s.io/v1 NetworkPolicy", "networkpolicy-networking-v1.json",
            "monitoring.coreos.com/v1 ServiceMonitor", "servicemonitor-monitoring-v1.json",
            "gateway.networking.k8s.io/v1 HTTPRoute", "httproute-gateway-v1.json");

    /**
     * Draft 7 knowing the OpenAPI extensions Kubernetes puts in its schemas: they carry merge and CEL hints for the
     * API server, nothing a JSON Schema validator checks, and unknown they would be logged for every schema.
     */
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(Dialect.builder(Dialects.getDraft7())
            .keywords(Stream.of("x-kubernetes-embedded-resource", "x-kubernetes-group-version-kind",
                            "x-kubernetes-int-or-string", "x-kubernetes-list-map-keys", "x-kubernetes-list-type",
                            "x-kubernetes-map-type", "x-kubernetes-patch-merge-key", "x-kubernetes-patch-strategy",
                            "x-kubernetes-preserve-unknown-fields", "x-kubernetes-unions", "x-kubernetes-validations")
                    .map(NonValidationKeyword::new).collect(Collectors.toList()))
            .build());

    private final Path directory;
    private final Map<String, Schema> schemas = new ConcurrentHashMap<>();

    private K8sSchemas(Path directory) {
        this.directory = directory;
    }

    /**
     * The shared folder sits beside the clone in CI ({@code <root>/../shared/k8s-schemas}); a worktree reaches it
     * through a {@code shared} symlink at the same place.
     */
    public static K8sSchemas shared() {
        Path directory = ProjectPaths.root().resolve("../shared/k8s-schemas").normalize();
        if (!Files.isRegularFile(directory.resolve("deployment-apps-v1.json"))) {
            throw new AssertionError("strict Kubernetes schemas not found at " + directory
                    + ": the shared folder (with k8s-schemas/) must sit beside the repository clone");
        }
        return new K8sSchemas(directory);
    }

    /** Every problem of one object, each prefixed with the object's kind and name; empty when it is valid. */
    public List<String> problems(JsonNode object) {
        String type = object.path("apiVersion").asString() + " " + object.path("kind").asString();
        JsonNode subject = object;
        String file = FILES.get(type);
        if (type.equals("v1 Pod")) {
            // No Pod schema is shared; a pod's metadata and spec are exactly a Deployment template's, so a
            // Deployment wrapping them checks every field of the pod with the same strictness.
            file = FILES.get("apps/v1 Deployment");
            subject = wrapPod(object);
        }
        if (file == null) {
            return List.of(Manifests.id(object) + ": no strict schema for " + type + " in " + directory);
        }
        Schema schema = schemas.computeIfAbsent(file, this::load);
        List<Error> errors = schema.validate(subject);
        return errors.stream().map(e -> Manifests.id(object) + ": " + e.getInstanceLocation() + " " + e.getMessage())
                .collect(Collectors.toList());
    }

    /** Problems of every object of a rendering; empty when all are valid. */
    public List<String> problems(Manifests manifests) {
        return manifests.all().stream().flatMap(o -> problems(o).stream()).collect(Collectors.toList());
    }

    private static JsonNode wrapPod(JsonNode pod) {
        ObjectNode deployment = Manifests.YAML.createObjectNode();
        deployment.put("apiVersion", "apps/v1");
        deployment.put("kind", "Deployment");
        deployment.putObject("metadata").put("name", pod.path("metadata").path("name").asString());
        ObjectNode spec = deployment.putObject("spec");
        spec.putObject("selector");
        ObjectNode template = spec.putObject("template");
        template.set("metadata", pod.path("metadata"));
        template.set("spec", pod.path("spec"));
        return deployment;
    }

    private Schema load(String file) {
        try {
            ObjectNode schema = (ObjectNode) Manifests.YAML.readTree(Files.readString(directory.resolve(file)));
            // openapi2jsonschema stamps the unversioned "http://json-schema.org/schema#", which names no dialect
            // a validator can load offline; the files are written for draft 7, the registry's default.
            schema.remove("$schema");
            return REGISTRY.getSchema(schema);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
