package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs each benchmark method as JMH would, briefly, so that the normal build catches a benchmark that no
 * longer measures what it says (wrong answer, nothing written, a leaked buffer under paranoid detection:
 * backend-server's {@link LeakDetection} fails the test).
 */
class PipelineBenchmarkTest {

    private static final int DATE_LINE = "Date: Thu, 26 Nov 2026 10:53:28 GMT\r\n".length();
    private static final int NOT_FOUND = response("404 Not Found", "default backend - 404");
    private static final int OK = response("200 OK", "ok");

    private final PipelineBenchmark benchmark = new PipelineBenchmark();

    private static int response(String status, String body) {
        return ("HTTP/1.1 " + status + "\r\n").length() + DATE_LINE
                + ("Content-Length: " + body.length() + "\r\n").length()
                + "Content-Type: text/plain; charset=utf-8\r\n\r\n".length() + body.length();
    }

    @BeforeEach
    void setUp() {
        benchmark.setUp();
    }

    @AfterEach
    void tearDown() {
        benchmark.tearDown();
        // A buffer leaked by the benchmark fails the test: backend-server's LeakDetection, on the test class
        // path from its test jar, checks after each test, with paranoid detection.
    }

    @Test
    void everyInvocationGetsItsWholeResponse() {
        int htmlPage = benchmark.customErrorHtml();
        assertThat(htmlPage).isGreaterThan(benchmark.customError() + 700);
        for (int i = 0; i < 1_000; i++) {
            assertThat(benchmark.notFoundMinimal()).isEqualTo(NOT_FOUND);
            assertThat(benchmark.notFoundProxied()).isEqualTo(NOT_FOUND);
            assertThat(benchmark.healthz()).isEqualTo(OK);
            assertThat(benchmark.pipelined16()).isEqualTo(PipelineBenchmark.PIPELINE_DEPTH * NOT_FOUND);
            assertThat(benchmark.notFoundServed()).isEqualTo(NOT_FOUND);
            assertThat(benchmark.customError()).isGreaterThan(NOT_FOUND);
            assertThat(benchmark.customErrorHtml()).isEqualTo(htmlPage);
        }
    }
}
