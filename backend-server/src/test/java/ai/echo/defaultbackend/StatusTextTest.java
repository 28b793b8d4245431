package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StatusTextTest {

    @ParameterizedTest(name = "[{index}] X-Code \"{0}\" -> {1}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            404       | 404
            503       | 503
            400       | 400
            599       | 599
            ' 502 '   | 502
            '\t429'   | 429
            399       | 0
            600       | 0
            200       | 0
            0404      | 0
            40        | 0
            +404      | 0
            -404      | 0
            4O4       | 0
            '404 503' | 0
            404.0     | 0
            0x1F4     | 0
            ''        | 0
            NULL      | 0
            99999999999999999999 | 0
            """)
    void parsesOnlyThreeDigitErrorCodes(String value, int code) {
        assertThat(StatusText.parseErrorCode(value)).isEqualTo(code);
    }

    @Test
    void everyErrorCodeHasAReason() {
        assertThat(StatusText.reason(503)).isEqualTo("Service Unavailable");
        assertThat(StatusText.reason(404)).isEqualTo("Not Found");
        assertThat(StatusText.reason(499)).isEqualTo("Client Error");
        assertThat(StatusText.reason(599)).isEqualTo("Server Error");
        for (int code = 400; code <= 599; code++) {
            assertThat(StatusText.reason(code)).matches("[A-Za-z' ]+");
        }
    }

    @Test
    void everyErrorCodeAsTextIsOneStringMadeOnce() {
        for (int code = 400; code <= 599; code++) {
            String text = StatusText.code(code);
            assertThat(text).isEqualTo(Integer.toString(code));
            assertThat(StatusText.code(code)).isSameAs(text);
        }
    }
}
