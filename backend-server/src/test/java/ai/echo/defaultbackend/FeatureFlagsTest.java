package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The flags of error pages, metrics and the access log, and the variables custom-error-pages users set. */
class FeatureFlagsTest {

    private static BackendConfig parse(List<String> args, Map<String, String> env) {
        return ((BackendConfig.Run) BackendConfig.parse(args, env)).config();
    }

    @Test
    void defaults() {
        BackendConfig config = parse(List.of(), Map.of());
        assertThat(config.errorFilesPath()).isEqualTo("/www");
        assertThat(config.defaultResponseFormat()).isEqualTo(Variant.TEXT_HTML);
        assertThat(config.honorXCode()).isTrue();
        assertThat(config.debug()).isFalse();
        assertThat(config.accessLog()).isFalse();
        assertThat(config.accessLogSampleRate()).isEqualTo(1.0);
        assertThat(config.accessLogMaxLinesPerSecond()).isEqualTo(100);
        assertThat(config.metrics()).isTrue();
        assertThat(config).isEqualTo(BackendConfig.DEFAULTS);
    }

    @Test
    void customErrorPagesVariablesWorkUnchanged() {
        BackendConfig config = parse(List.of(), Map.of("ERROR_FILES_PATH", "/etc/pages", "DEFAULT_RESPONSE_FORMAT",
                "application/json", "DEBUG", "true"));
        assertThat(config.errorFilesPath()).isEqualTo("/etc/pages");
        assertThat(config.defaultResponseFormat()).isEqualTo(Variant.APPLICATION_JSON);
        assertThat(config.debug()).isTrue();
    }

    /**
     * A variable set to nothing is as if unset, as custom-error-pages read its three ({@code os.Getenv != ""}):
     * a manifest rendering {@code value: ""} gets the defaults, not the working directory or exit code 2.
     */
    @Test
    void variablesSetToNothingAreUnset() {
        Map<String, String> empty = Map.of("ERROR_FILES_PATH", "", "DEFAULT_RESPONSE_FORMAT", " ", "DEBUG", "",
                "PORT", "", "TIMEOUT", "", "ACCESS_LOG", "");
        assertThat(parse(List.of(), empty)).isEqualTo(BackendConfig.DEFAULTS);
    }

    /** DEBUG takes a boolean; custom-error-pages took any other value as on, which is refused, not guessed. */
    @ParameterizedTest(name = "DEBUG={0}")
    @CsvSource(delimiter = '|', textBlock = """
            true  | true
            TRUE  | true
            t     | true
            1     | true
            false | false
            0     | false
            f     | false
            """)
    void debugTakesBooleans(String value, boolean on) {
        assertThat(parse(List.of(), Map.of("DEBUG", value)).debug()).isEqualTo(on);
    }

    @Test
    void debugSetToAnythingElseIsNamedAndRefused() {
        assertThatThrownBy(() -> BackendConfig.parse(List.of(), Map.of("DEBUG", "yes")))
                .isInstanceOf(Flags.InvalidFlagException.class)
                .hasMessage("invalid value \"yes\" for environment variable DEBUG: must be true or false");
    }

    @Test
    void flagsWinOverVariablesInEveryForm() {
        BackendConfig config = parse(List.of("--error-files-path=/a", "-default-response-format", "text/plain",
                "--honor-x-code=false", "--access-log", "--access-log-sample-rate", "0.25",
                "-access-log-max-lines-per-second=7", "--metrics=false"), Map.of("ERROR_FILES_PATH", "/b",
                "HONOR_X_CODE", "true", "ACCESS_LOG", "false"));
        assertThat(config.errorFilesPath()).isEqualTo("/a");
        assertThat(config.defaultResponseFormat()).isEqualTo(Variant.TEXT_PLAIN);
        assertThat(config.honorXCode()).isFalse();
        assertThat(config.accessLog()).isTrue();
        assertThat(config.accessLogSampleRate()).isEqualTo(0.25);
        assertThat(config.accessLogMaxLinesPerSecond()).isEqualTo(7);
        assertThat(config.metrics()).isFalse();
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            text/html                 | TEXT_HTML
            'application/json; charset=utf-8' | APPLICATION_JSON
            TEXT/XML                  | TEXT_XML
            application/xml           | APPLICATION_XML
            text/plain                | TEXT_PLAIN
            json                      | APPLICATION_JSON
            html                      | TEXT_HTML
            xml                       | APPLICATION_XML
            text                      | TEXT_PLAIN
            plain                     | TEXT_PLAIN
            """)
    void defaultResponseFormats(String value, Variant variant) {
        assertThat(parse(List.of("--default-response-format=" + value), Map.of()).defaultResponseFormat())
                .isEqualTo(variant);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            --default-response-format=*/*              | invalid value "*/*" for flag --default-response-format
            --default-response-format=image/png        | invalid value "image/png" for flag --default-response-format
            --access-log-sample-rate=1.5               | must be from 0 to 1
            --access-log-sample-rate=-0.1              | must be from 0 to 1
            --access-log-sample-rate=NaN               | must be from 0 to 1
            --access-log-sample-rate=x                 | not a number
            --access-log-max-lines-per-second=0        | must be a positive number
            --honor-x-code=maybe                       | must be true or false
            --debug=yes                                | must be true or false
            --error-files-path=                        | invalid value "" for flag --error-files-path: must not be empty
            '--error-files-path=  '                    | must not be empty
            """)
    void badValuesAreRefusedWithTheFlagNamed(String arg, String message) {
        assertThatThrownBy(() -> BackendConfig.parse(List.of(arg), Map.of()))
                .isInstanceOf(Flags.InvalidFlagException.class).hasMessageContaining(message);
    }

    @Test
    void helpDescribesEveryNewFlag() {
        String usage = BackendConfig.usage();
        for (String flag : List.of("error-files-path", "default-response-format", "honor-x-code", "debug",
                "access-log", "access-log-sample-rate", "access-log-max-lines-per-second", "metrics")) {
            assertThat(usage).contains("--" + flag + " ");
        }
        assertThat(usage).contains("(env ERROR_FILES_PATH, default /www)", "(env DEFAULT_RESPONSE_FORMAT, default "
                + "text/html)", "(env DEBUG, default false)", "(env METRICS, default true)");
    }
}
