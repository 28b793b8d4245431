package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ContentNegotiationTest {

    @ParameterizedTest(name = "[{index}] {0} (default {1}) -> {2}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            # header                                                   | default          | chosen
            NULL                                                       | TEXT_HTML        | TEXT_HTML
            ''                                                         | APPLICATION_JSON | APPLICATION_JSON
            application/json                                           | TEXT_HTML        | APPLICATION_JSON
            APPLICATION/JSON                                           | TEXT_HTML        | APPLICATION_JSON
            text/plain                                                 | TEXT_HTML        | TEXT_PLAIN
            text/xml                                                   | TEXT_HTML        | TEXT_XML
            application/xml                                            | TEXT_HTML        | APPLICATION_XML
            */*                                                        | APPLICATION_JSON | APPLICATION_JSON
            */*                                                        | TEXT_PLAIN       | TEXT_PLAIN
            # q-values: the highest wins, whatever the order
            'text/html;q=0.5, application/json'                        | TEXT_HTML        | APPLICATION_JSON
            'application/json;q=0.9, text/html;q=0.1'                  | TEXT_HTML        | APPLICATION_JSON
            'text/plain; q=0.001, application/xml; q=0.002'            | TEXT_HTML        | APPLICATION_XML
            'application/json;q=1.000, text/html;q=0.999'              | TEXT_HTML        | APPLICATION_JSON
            # q=0 refuses, even when a wildcard would accept
            'application/json;q=0, */*'                                | APPLICATION_JSON | TEXT_HTML
            'text/html;q=0, text/*'                                    | TEXT_HTML        | TEXT_PLAIN
            'text/*;q=0, */*;q=0.1'                                    | TEXT_HTML        | APPLICATION_JSON
            # the most specific range decides a type's quality
            'text/*;q=0.9, text/plain;q=0.1, application/json;q=0.5'   | TEXT_HTML        | TEXT_HTML
            'text/plain;q=0.1, */*;q=0.9'                              | TEXT_PLAIN       | TEXT_HTML
            # ties: more specific range, then the default, then header order, then our order
            'text/*, application/json'                                 | TEXT_HTML        | APPLICATION_JSON
            'application/json, text/html'                              | TEXT_HTML        | TEXT_HTML
            'application/json, text/html'                              | TEXT_PLAIN       | APPLICATION_JSON
            'text/plain, application/json'                             | TEXT_HTML        | TEXT_PLAIN
            text/*                                                     | APPLICATION_JSON | TEXT_HTML
            text/*                                                     | TEXT_PLAIN       | TEXT_PLAIN
            application/*                                              | TEXT_HTML        | APPLICATION_JSON
            # a browser
            'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' | APPLICATION_JSON | TEXT_HTML
            # curl
            '*/*'                                                      | TEXT_HTML        | TEXT_HTML
            # nothing acceptable: the default
            image/png                                                  | APPLICATION_JSON | APPLICATION_JSON
            'application/json;q=0'                                     | TEXT_PLAIN       | TEXT_PLAIN
            # parameters: charset=utf-8 matches (and is more specific), anything else does not
            'application/json;charset=utf-8'                           | TEXT_HTML        | APPLICATION_JSON
            'application/json; charset="UTF-8"; q=0.5, text/html;q=0.4' | TEXT_PLAIN      | APPLICATION_JSON
            'text/html;level=1, application/json;q=0.2'                | TEXT_PLAIN       | APPLICATION_JSON
            'text/plain;charset=iso-8859-1'                            | APPLICATION_JSON | APPLICATION_JSON
            # q=1 and whitespace around the parameters' separators
            'application/json;q=1, text/html;q=0.9'                    | TEXT_HTML        | APPLICATION_JSON
            'application/json ;q=0.5, text/plain;q=0.1'                | TEXT_HTML        | APPLICATION_JSON
            'application/json;	q=0.5, text/plain;q=0.1'              | TEXT_HTML        | APPLICATION_JSON
            # a more specific range overrides a wildcard listed before it
            '*/*;q=0.1, text/*'                                        | APPLICATION_JSON | TEXT_HTML
            # a subtype matches only itself, not another of the same length
            'text/json'                                                | APPLICATION_XML  | APPLICATION_XML
            'text/h, text/plain;q=0.1'                                 | APPLICATION_JSON | TEXT_PLAIN
            # a quoted parameter value may hold an escaped quote (and the range is not JSON's: foo is not charset)
            'application/json;foo="a\\"b", text/plain;q=0.1'           | TEXT_HTML        | TEXT_PLAIN
            # accept extensions after q are ignored
            'application/json;q=0.5;foo=bar, text/plain;q=0.4'         | TEXT_HTML        | APPLICATION_JSON
            # junk: invalid ranges are skipped, valid ones around them still count
            'garbage, application/json'                                | TEXT_HTML        | APPLICATION_JSON
            '*/json, text/plain'                                       | TEXT_HTML        | TEXT_PLAIN
            'application/json;q=2'                                     | TEXT_PLAIN       | TEXT_PLAIN
            'application/json;q=1.5'                                   | TEXT_PLAIN       | TEXT_PLAIN
            'application/json;q=0.1234'                                | TEXT_PLAIN       | TEXT_PLAIN
            'application/json;q=-1'                                    | TEXT_PLAIN       | TEXT_PLAIN
            'application/json;q=abc, text/plain;q=0.1'                 | TEXT_HTML        | TEXT_PLAIN
            'application/json;q="0.5"'                                 | TEXT_PLAIN       | TEXT_PLAIN
            'text/html;q'                                              | TEXT_PLAIN       | TEXT_PLAIN
            ',,, ;;; //, text/plain'                                   | TEXT_HTML        | TEXT_PLAIN
            'text/html;x="a,b", application/json;q=0.5'                | TEXT_PLAIN       | APPLICATION_JSON
            'text/html;x="unterminated, application/json'              | TEXT_PLAIN       | TEXT_PLAIN
            '<script>alert(1)</script>'                                | TEXT_HTML        | TEXT_HTML
            """)
    void choosesTheServedType(String header, Variant defaultVariant, Variant chosen) {
        assertThat(ContentNegotiation.choose(header, defaultVariant)).isEqualTo(chosen);
    }

    @org.junit.jupiter.api.Test
    void readsAtMostAFixedNumberOfRanges() {
        StringBuilder header = new StringBuilder();
        for (int i = 0; i < ContentNegotiation.MAX_RANGES; i++) {
            header.append("image/png").append(i).append(", ");
        }
        header.append("application/json");
        assertThat(ContentNegotiation.choose(header, Variant.TEXT_PLAIN)).isEqualTo(Variant.TEXT_PLAIN);
    }
}
