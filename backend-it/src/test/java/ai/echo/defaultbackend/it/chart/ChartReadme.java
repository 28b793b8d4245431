package ai.echo.defaultbackend.it.chart;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Generates the chart's {@code README.md} from {@code README.md.gotmpl} and the helm-docs {@code # --} comments
 * of {@code values.yaml}, in helm-docs' format, because helm-docs itself cannot be installed here.
 *
 * <p>A comment documents the key on the line below it, with any {@code #} lines that follow as more of the
 * description; {@code # @default -- text} replaces the shown default. A documented map is one row: its children
 * need no comment of their own. Run {@link #main} (or the command in {@link #REGENERATE}) after changing values.
 */
public final class ChartReadme {

    public static final String REGENERATE = "./mvnw -B -q verify -pl backend-it -am -Dtest=none"
            + " -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=ChartReadmeIT -Dchart.readme.write=true";

    private static final Pattern DOC = Pattern.compile("^\\s*# -- ?(?:\\((\\w+)\\) )?(.*)$");
    private static final Pattern DEFAULT = Pattern.compile("^\\s*# @default -- ?(.*)$");
    private static final Pattern CONTINUATION = Pattern.compile("^\\s*#(?! --)(?! @default) ?(.*)$");
    private static final Pattern KEY = Pattern.compile("^(\\s*)([A-Za-z0-9_][A-Za-z0-9_./-]*|\"[^\"]+\"):(\\s|$)");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** One documented value: its dotted key, type, shown default and description. */
    public record Row(List<String> path, String type, String defaultValue, String description) {
        public String key() {
            return String.join(".", path);
        }
    }

    private ChartReadme() {
    }

    public static void main(String[] args) throws IOException {
        Path chart = args.length > 0 ? Path.of(args[0]) : ProjectPaths.chart();
        Files.writeString(chart.resolve("README.md"), render(chart));
    }

    /** The README as it should be committed. */
    public static String render(Path chart) {
        try {
            String template = Files.readString(chart.resolve("README.md.gotmpl"));
            JsonNode meta = Manifests.readYaml(chart.resolve("Chart.yaml"));
            return template
                    .replace("{{ template \"chart.version\" . }}", meta.path("version").asString())
                    .replace("{{ template \"chart.appVersion\" . }}", meta.path("appVersion").asString())
                    .replace("{{ template \"chart.kubeVersion\" . }}", meta.path("kubeVersion").asString())
                    .replace("{{ template \"chart.valuesTable\" . }}", table(rows(chart.resolve("values.yaml"))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The documented values, sorted by key as helm-docs sorts them. */
    public static List<Row> rows(Path valuesFile) {
        JsonNode values = Manifests.readYaml(valuesFile);
        List<String> lines;
        try {
            lines = Files.readAllLines(valuesFile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Row> rows = new ArrayList<>();
        List<Map.Entry<Integer, String>> stack = new ArrayList<>();
        StringBuilder description = null;
        String type = null;
        String shownDefault = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            Matcher doc = DOC.matcher(line);
            Matcher dflt = DEFAULT.matcher(line);
            Matcher more = CONTINUATION.matcher(line);
            Matcher key = KEY.matcher(line);
            if (doc.matches()) {
                description = new StringBuilder(doc.group(2).trim());
                type = doc.group(1);
                shownDefault = null;
            } else if (dflt.matches() && description != null) {
                shownDefault = dflt.group(1).trim();
            } else if (more.matches() && description != null) {
                description.append(' ').append(more.group(1).trim());
            } else if (key.find()) {
                int indent = key.group(1).length();
                String name = key.group(2).replace("\"", "");
                while (!stack.isEmpty() && stack.get(stack.size() - 1).getKey() >= indent) {
                    stack.remove(stack.size() - 1);
                }
                stack.add(Map.entry(indent, name));
                if (description != null) {
                    List<String> path = stack.stream().map(Map.Entry::getValue).toList();
                    JsonNode node = at(values, path);
                    if (node == null) {
                        throw new IllegalStateException(valuesFile + ":" + (i + 1) + ": a # -- comment above "
                                + String.join(".", path) + ", which is not a value (inside a list?)");
                    }
                    rows.add(new Row(path, type != null ? type : typeOf(node),
                            shownDefault != null ? shownDefault : "`" + JSON.writeValueAsString(node) + "`",
                            description.toString().trim()));
                }
                description = null;
            } else {
                description = null;
            }
        }
        rows.sort(Comparator.comparing(Row::key));
        return rows;
    }

    /** Leaf values (scalars, empty maps and lists, lists) that no row documents, itself or through a parent. */
    public static List<String> undocumented(Path valuesFile) {
        List<Row> rows = rows(valuesFile);
        List<String> missing = new ArrayList<>();
        collectUndocumented(Manifests.readYaml(valuesFile), new ArrayList<>(), rows, missing);
        return missing;
    }

    private static void collectUndocumented(JsonNode node, List<String> path, List<Row> rows, List<String> missing) {
        boolean documented = rows.stream().anyMatch(r -> path.size() >= r.path().size()
                && path.subList(0, r.path().size()).equals(r.path()));
        if (documented) {
            return;
        }
        if (node.isObject() && !node.isEmpty()) {
            node.propertyStream().forEach(e -> {
                List<String> child = new ArrayList<>(path);
                child.add(e.getKey());
                collectUndocumented(e.getValue(), child, rows, missing);
            });
        } else {
            missing.add(String.join(".", path));
        }
    }

    private static JsonNode at(JsonNode root, List<String> path) {
        JsonNode node = root;
        for (String name : path) {
            if (!node.isObject() || !node.has(name)) {
                return null;
            }
            node = node.get(name);
        }
        return node;
    }

    private static String typeOf(JsonNode node) {
        if (node.isObject()) {
            return "object";
        } else if (node.isArray()) {
            return "list";
        } else if (node.isBoolean()) {
            return "bool";
        } else if (node.isIntegralNumber()) {
            return "int";
        } else if (node.isNumber()) {
            return "float";
        } else if (node.isNull()) {
            return "string";
        }
        return "string";
    }

    private static String table(List<Row> rows) {
        StringBuilder out = new StringBuilder("| Key | Type | Default | Description |\n|-----|------|---------|-------------|\n");
        for (Row row : rows) {
            out.append("| ").append(row.key()).append(" | ").append(row.type()).append(" | ")
                    .append(row.defaultValue().replace("|", "\\|")).append(" | ")
                    .append(row.description().replace("|", "\\|")).append(" |\n");
        }
        return out.toString();
    }
}
