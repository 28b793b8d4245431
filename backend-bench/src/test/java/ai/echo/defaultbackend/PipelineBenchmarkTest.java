package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs each benchmark method as JMH would, briefly, so that the normal build catches a benchmark that no
 * longer measures what it says (wrong answer, nothing written, a leaked buffer under paranoid detection).
 */
class PipelineBenchmarkTest {

    /** Leaks Netty reports; installed before any buffer class creates its detector. */
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    static {
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
            @Override
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
                                                                       long maxActive) {
                return new ResourceLeakDetector<T>(resource, samplingInterval) {
                    @Override
                    protected void reportTracedLeak(String resourceType, String records) {
                        LEAKS.add(resourceType + records);
                    }

                    @Override
                    protected void reportUntracedLeak(String resourceType) {
                        LEAKS.add(resourceType);
                    }
                };
            }
        });
    }

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
    void tearDown() throws InterruptedException {
        benchmark.tearDown();
        // A leak is reported when a later allocation finds the collected, unreleased buffer. Collected
        // buffers reach the detector on the JDK's reference-handler thread, asynchronously; when nothing
        // leaked there is no condition to wait for, so each round gives that thread a moment.
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(20);
            ByteBuf probe = PooledByteBufAllocator.DEFAULT.directBuffer(16);
            probe.release();
        }
        assertThat(LEAKS).as("buffers leaked (run with -Dio.netty.leakDetection.level=paranoid)").isEmpty();
    }

    @Test
    void everyInvocationGetsItsWholeResponse() {
        for (int i = 0; i < 1_000; i++) {
            assertThat(benchmark.notFoundMinimal()).isEqualTo(NOT_FOUND);
            assertThat(benchmark.notFoundProxied()).isEqualTo(NOT_FOUND);
            assertThat(benchmark.healthz()).isEqualTo(OK);
            assertThat(benchmark.pipelined16()).isEqualTo(PipelineBenchmark.PIPELINE_DEPTH * NOT_FOUND);
        }
    }
}
