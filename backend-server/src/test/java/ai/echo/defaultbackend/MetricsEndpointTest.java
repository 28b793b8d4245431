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
            'identity'            | false
            'br, deflate'         | false
            'gzipped'             | false
            """)
    void gzipOnlyWhenAccepted(String acceptEncoding, boolean gzip) {
        assertThat(MetricsEndpoint.acceptsGzip(acceptEncoding)).isEqualTo(gzip);
    }
}
