package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

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
            """)
    void gzipOnlyWhenAccepted(String acceptEncoding, boolean gzip) {
        assertThat(MetricsEndpoint.acceptsGzip(acceptEncoding)).isEqualTo(gzip);
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
