package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MetricsEndpointTest {

    @ParameterizedTest(name = "[{index}] Accept-Encoding \"{0}\" -> gzip {1}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            NULL                  | false
            ''                    | false
            gzip                  | true
            'GZIP'                | true
            'deflate, gzip'       | true
            'gzip;q=0'            | false
            'gzip; q=0.000'       | false
            'gzip;q=0.001'        | true
            'x-gzip'              | true
            '*'                   | true
            '*;q=0'               | false
            'gzip;q=0, *'         | false
            '*, gzip;q=0'         | false
            'x-gzip;q=0, *'       | false
            'gzip;q=0, x-gzip'    | true
            '*;q=0, gzip'         | true
            'br;q=0, *'           | true
            'identity'            | false
            'br, deflate'         | false
            'gzipped'             | false
            'gzip;q=0.0001'       | false
            'gzip;q=2'            | false
            'gzip;q=x'            | false
            'gzip;q=1.000'        | true
            'gzip;q=0.0001, *'    | true
            'gzip;q=1.5, x-gzip;q=0' | false
            """)
    void gzipOnlyWhenAccepted(String acceptEncoding, boolean gzip) {
        assertThat(MetricsEndpoint.acceptsGzip(acceptEncoding)).isEqualTo(gzip);
    }

    /**
     * The text format 0.0.4, 1.5's, whenever the scraper accepts it, even where it ranks OpenMetrics first, as
     * Prometheus 2 does by default: 1.5 could not write OpenMetrics, so Prometheus stored 1.5's series from the
     * text format, {@code le="10"}, and OpenMetrics would write {@code le="10.0"}. OpenMetrics only to a
     * scraper that accepts it and not the text format; q-values read as RFC 9110 reads them, names in any case.
     */
    @ParameterizedTest(name = "[{index}] Accept \"{0}\" -> {1}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            NULL                                                                                 | text
            ''                                                                                   | text
            '*/*'                                                                                | text
            'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' | text
            'text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4,*/*;q=0.3' | text
            'application/openmetrics-text;q=0, text/plain;version=0.0.4'                          | text
            'application/openmetrics-text, */*;q=0.1'                                            | text
            'application/openmetrics-text, text/*'                                               | text
            'application/openmetrics-text;q=0'                                                   | text
            'application/json'                                                                   | text
            'application/openmetrics-text'                                                       | openmetrics
            'APPLICATION/OpenMetrics-Text; version=1.0.0'                                        | openmetrics
            'application/openmetrics-text, text/plain;q=0'                                       | openmetrics
            'application/openmetrics-text;version=1.0.0, */*;q=0'                                | openmetrics
            'application/*'                                                                      | openmetrics
            """)
    void theTextFormatWheneverItIsAcceptedOpenMetricsOnlyWhereItIsNot(String accept, String format) {
        MetricsEndpoint.Scrape scrape = new MetricsEndpoint(new Metrics(new Metrics.Sources(() -> 0, () -> 0,
                () -> 0, () -> 0, () -> 0, () -> 0, null, null))).scrape(accept, null);
        String body = new String(scrape.body(), StandardCharsets.UTF_8);
        if (format.equals("text")) {
            assertThat(scrape.contentType()).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
            assertThat(body).contains("default_http_backend_http_request_duration_milliseconds_bucket{proto=\"1.1\","
                    + "le=\"10\"} 0\n").doesNotContain("# EOF");
        } else {
            assertThat(scrape.contentType()).isEqualTo("application/openmetrics-text; version=1.0.0; charset=utf-8");
            assertThat(body).contains("le=\"10.0\"").endsWith("# EOF\n");
        }
    }

    /** Go's {@code strconv.FormatFloat(v, 'g', -1, 64)}, as Go's client writes {@code le} in the text format. */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            0.001                  | 0.001
            0.0001                 | 0.0001
            0.00001                | 1e-05
            0.5                    | 0.5
            1                      | 1
            2.5                    | 2.5
            10                     | 10
            100000                 | 100000
            123456                 | 123456
            1000000                | 1e+06
            1234567                | 1.234567e+06
            1.5e300                | 1.5e+300
            1e-300                 | 1e-300
            0                      | 0
            -0.0                   | -0
            -2.5                   | -2.5
            -1000000               | -1e+06
            Infinity               | +Inf
            -Infinity              | -Inf
            NaN                    | NaN
            """)
    void floatsAreWrittenAsGoWritesThem(double value, String go) {
        assertThat(MetricsEndpoint.goFloat(value)).isEqualTo(go);
    }
}
