package ai.echo.defaultbackend.it.chart;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** Rendered Kubernetes objects, as Jackson trees, with the look-ups the chart and Kustomize tests share. */
public final class Manifests {

    public static final YAMLMapper YAML = YAMLMapper.builder().build();

    private final List<ObjectNode> objects;

    private Manifests(List<ObjectNode> objects) {
        this.objects = List.copyOf(objects);
    }

    /**
     * Parses a multi-document YAML stream; empty documents (a template that rendered nothing) are dropped. A key
     * twice in one mapping fails the parse, as kubectl and Kustomize fail (Helm keeps the last one silently).
     */
    public static Manifests parse(String yaml) {
        List<ObjectNode> objects = new ArrayList<>();
        try (MappingIterator<JsonNode> documents = YAML.readerFor(JsonNode.class)
                .with(StreamReadFeature.STRICT_DUPLICATE_DETECTION).readValues(yaml)) {
            while (documents.hasNextValue()) {
                JsonNode document = documents.nextValue();
                if (document != null && document.isObject() && !document.isEmpty()) {
                    objects.add((ObjectNode) document);
                }
            }
        }
        return new Manifests(objects);
    }

    public static JsonNode readYaml(Path file) {
        try {
            return YAML.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<ObjectNode> all() {
        return objects;
    }

    public List<ObjectNode> ofKind(String kind) {
        return objects.stream().filter(o -> kind.equals(o.path("kind").asString())).collect(Collectors.toList());
    }

    public Optional<ObjectNode> find(String kind, String name) {
        return ofKind(kind).stream().filter(o -> name.equals(o.path("metadata").path("name").asString())).findFirst();
    }

    /** The single object of a kind; fails naming what was rendered when there are none or several. */
    public ObjectNode only(String kind) {
        List<ObjectNode> matches = ofKind(kind);
        if (matches.size() != 1) {
            throw new AssertionError("expected exactly one " + kind + " but found " + matches.size() + " among "
                    + describe());
        }
        return matches.get(0);
    }

    /** "Kind/name" of every object, for failure messages. */
    public List<String> describe() {
        return objects.stream().map(Manifests::id).collect(Collectors.toList());
    }

    public static String id(JsonNode object) {
        return object.path("kind").asString() + "/" + object.path("metadata").path("name").asString();
    }

    /** The Deployment's single container. */
    public ObjectNode container() {
        JsonNode containers = podSpec().path("containers");
        if (containers.size() != 1) {
            throw new AssertionError("expected one container, found " + containers);
        }
        return (ObjectNode) containers.get(0);
    }

    public ObjectNode podSpec() {
        return (ObjectNode) only("Deployment").path("spec").path("template").path("spec");
    }
}
