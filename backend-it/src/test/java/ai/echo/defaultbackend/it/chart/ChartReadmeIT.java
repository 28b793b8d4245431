package ai.echo.defaultbackend.it.chart;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The chart README is generated from the values' {@code # --} comments, and every value has one. */
class ChartReadmeIT {

    private static final Path CHART = ProjectPaths.chart();

    @Test
    void everyValueHasAHelmDocsComment() {
        assertThat(ChartReadme.undocumented(CHART.resolve("values.yaml")))
                .as("values without a # -- comment (on themselves or a parent)").isEmpty();
    }

    @Test
    void readmeIsCurrent() throws IOException {
        String expected = ChartReadme.render(CHART);
        if (Boolean.getBoolean("chart.readme.write")) {
            Files.writeString(CHART.resolve("README.md"), expected);
            System.out.println("wrote " + CHART.resolve("README.md"));
        }
        String committed = Files.exists(CHART.resolve("README.md")) ? Files.readString(CHART.resolve("README.md")) : "";

        assertThat(committed).as("charts/kubernetes-ingress-defaultbackend/README.md is stale; regenerate it with%n  %s%n",
                ChartReadme.REGENERATE).isEqualTo(expected);
    }

    @Test
    void readmeDocumentsTheValuesThatMatterMost() {
        // Guards the generator: the table must carry rows, types and defaults read from values.yaml.
        assertThat(ChartReadme.rows(CHART.resolve("values.yaml")))
                .anySatisfy(row -> {
                    assertThat(row.key()).isEqualTo("replicaCount");
                    assertThat(row.type()).isEqualTo("int");
                    assertThat(row.defaultValue()).isEqualTo("`1`");
                })
                .anySatisfy(row -> {
                    assertThat(row.key()).isEqualTo("image.tag");
                    assertThat(row.defaultValue()).isEqualTo("the chart's `appVersion`");
                });
    }
}
