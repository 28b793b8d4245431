package ai.echo.defaultbackend.it.chart;

import com.marcnuri.helm.DryRun;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.LintCommand;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Iterator;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** The real Helm library (through helm-java, no CLI) run against a chart directory. */
public final class HelmChart {

    public static final String RELEASE = "edge";
    public static final String NAMESPACE = "ingress";
    /**
     * Helm as a library assumes Kubernetes 1.20 unless told otherwise; render for the oldest release the chart's
     * {@code kubeVersion} admits, so nothing newer slips in unnoticed.
     */
    public static final String KUBE_VERSION = "v1.25.0";

    private final Path directory;

    public HelmChart(Path directory) {
        this.directory = directory;
    }

    public static HelmChart ours() {
        return new HelmChart(ProjectPaths.chart());
    }

    public Path directory() {
        return directory;
    }

    /**
     * {@code helm lint --strict} with a values file over the chart's defaults. helm-java's lint takes no values
     * file, so the chart is copied and its {@code values.yaml} replaced by the two merged the way Helm merges
     * them: what {@code helm lint --strict -f values} would check, including the values schema.
     */
    public LintResult lintStrict(Path valuesFile, Path scratch) {
        if (valuesFile == null) {
            return lint(directory);
        }
        Path copy = scratch.resolve(directory.getFileName());
        copyTree(directory, copy);
        ObjectNode merged = (ObjectNode) Manifests.readYaml(directory.resolve("values.yaml"));
        coalesce(merged, Manifests.readYaml(valuesFile));
        try {
            Files.writeString(copy.resolve("values.yaml"), Manifests.YAML.writeValueAsString(merged));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return lint(copy);
    }

    private static LintResult lint(Path chart) {
        LintCommand lint = new Helm(chart).lint().strict();
        return lint.call();
    }

    /** {@code helm template edge <chart> --namespace ingress -f <values>...}, with {@code --set key=value} pairs. */
    public String template(Map<String, Object> sets, Path... valuesFiles) {
        TemplateCommand template = new Helm(directory).template().withName(RELEASE).withNamespace(NAMESPACE)
                .withKubeVersion(KUBE_VERSION);
        for (Path valuesFile : valuesFiles) {
            template = template.withValuesFile(valuesFile);
        }
        for (Map.Entry<String, Object> set : sets.entrySet()) {
            template = template.set(set.getKey(), set.getValue());
        }
        return template.call();
    }

    /** The install notes, from a client-only dry-run install: what {@code helm install} prints after installing. */
    public String notes(Path... valuesFiles) {
        InstallCommand install = new Helm(directory).install().withName(RELEASE).withNamespace(NAMESPACE)
                .withKubeVersion(KUBE_VERSION).withDryRunOption(DryRun.CLIENT).clientOnly();
        for (Path valuesFile : valuesFiles) {
            install = install.withValuesFile(valuesFile);
        }
        String output = install.call().getOutput();
        int notes = output.indexOf("NOTES:\n");
        if (notes < 0) {
            throw new AssertionError("no NOTES in the dry-run output:\n" + output);
        }
        return output.substring(notes + "NOTES:\n".length());
    }

    public Manifests render(Path... valuesFiles) {
        return Manifests.parse(template(Map.of(), valuesFiles));
    }

    /**
     * The release with its {@code helm test} pod. Helm as a library returns the manifest without hooks, so a copy
     * of the chart gets one more template that renders the hook's named template with its hook annotation moved
     * to {@code HOOK_ANNOTATION}, which makes it an ordinary object of the manifest.
     */
    public Manifests renderWithTestHook(Path scratch, Path... valuesFiles) {
        Path copy = scratch.resolve(directory.getFileName());
        copyTree(directory, copy);
        try {
            Files.writeString(copy.resolve("templates/zz-test-hook-as-manifest.yaml"), String.join("\n",
                    "{{- if .Values.tests.enabled }}",
                    "{{- $pod := include \"defaultbackend.testPod\" . | fromYaml }}",
                    "{{- $_ := set $pod.metadata.annotations \"" + HOOK_ANNOTATION
                            + "\" (get $pod.metadata.annotations \"helm.sh/hook\") }}",
                    "{{- $_ := unset $pod.metadata.annotations \"helm.sh/hook\" }}",
                    "{{ toYaml $pod }}",
                    "{{- end }}", ""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Manifests.parse(new HelmChart(copy).template(Map.of(), valuesFiles));
    }

    public static final String HOOK_ANNOTATION = "chart-test.echo.ai/helm-hook";

    /** Helm's coalescing: maps merge key by key, anything else is replaced, and null deletes the key. */
    static void coalesce(ObjectNode base, JsonNode overrides) {
        for (Iterator<Map.Entry<String, JsonNode>> it = overrides.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            JsonNode current = base.get(entry.getKey());
            JsonNode value = entry.getValue();
            if (value.isNull()) {
                base.remove(entry.getKey());
            } else if (current != null && current.isObject() && value.isObject()) {
                coalesce((ObjectNode) current, value);
            } else {
                base.set(entry.getKey(), value);
            }
        }
    }

    /** Copies a directory tree, for tests that need a chart in a place of their own. */
    public static void copyTree(Path from, Path to) {
        try {
            Files.walkFileTree(from, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.copy(file, to.resolve(from.relativize(file).toString()));
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
