package ai.echo.defaultbackend.it.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.LintResult;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code helm lint --strict}: with the defaults and with every {@code ci/*-values.yaml}. */
class ChartLintIT {

    @ParameterizedTest(name = "{0}")
    @MethodSource("ai.echo.defaultbackend.it.chart.ChartFixtures#valuesCases")
    void lintsCleanUnderStrict(String name, Path valuesFile, @TempDir Path scratch) {
        LintResult result = HelmChart.ours().lintStrict(valuesFile, scratch);

        // Strict turns warnings into failures; an INFO (such as the missing icon) is advice, not a defect.
        assertThat(result.isFailed()).as("helm lint --strict (%s): %s", name, result.getMessages()).isFalse();
        assertThat(result.getMessages()).as("helm lint --strict (%s)", name)
                .noneMatch(m -> m.startsWith("[WARNING]") || m.startsWith("[ERROR]"));
    }
}
