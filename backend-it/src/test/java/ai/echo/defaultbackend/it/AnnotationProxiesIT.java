package ai.echo.defaultbackend.it;

import static org.assertj.core.api.Assertions.assertThat;

import ai.echo.defaultbackend.it.image.LocalImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Starting and serving traffic reads no annotation through reflection. The JDK answers such a read with a
 * proxy class per annotation type, generated at run time, which an AOT cache cannot hold: with Netty's
 * {@code ServerBootstrap} and handler adapters, four of them cost 17 ms of the first {@code /healthz} and
 * about 0.5 MiB of resident memory (bench/RESULTS.md). A handler that extends one of Netty's adapters again
 * brings them back, and this fails. The JVM logs every class it loads; a proxy's is named {@code $Proxy}
 * and comes from {@code java.lang.reflect.Proxy}.
 *
 * <p>A {@code /metrics} scrape is left out: its first one registers the JVM's metrics through JMX, which
 * reads annotations of its own, once.
 */
class AnnotationProxiesIT {

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void servingMakesNoProxyClass(Jdk jdk, @TempDir Path dir) throws IOException {
        Path home = jdk.requireHome();
        Path log = dir.resolve("classes.log");
        List<String> jvm = new ArrayList<>(List.of("@" + LocalImage.projectRoot().resolve("docker/jvm.options")));
        if (jdk.readsJvm25Options()) {
            jvm.add("@" + LocalImage.projectRoot().resolve("docker/jvm25.options"));
        }
        jvm.add("-Xlog:class+load=info:file=" + log);
        try (ServerProcess server = ServerProcess.launch(home, jvm,
                List.of("--port=0", "--svc-port=0", "--bind-address=127.0.0.1"), Map.of()).awaitStarted()) {
            assertThat(RawConnection.exchange(server.port(), "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"))
                    .startsWith("HTTP/1.1 200 ");
            assertThat(RawConnection.exchange(server.port(), "GET /x HTTP/1.0\r\n\r\n")).startsWith("HTTP/1.0 404 ");
            assertThat(RawConnection.exchange(server.port(),
                    "GET /x HTTP/1.1\r\nHost: a\r\nX-Code: 503\r\nAccept: application/json\r\n\r\n"))
                    .startsWith("HTTP/1.1 503 ");
            assertThat(RawConnection.exchange(server.port(), "GET /x HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 400 ");
            assertThat(RawConnection.exchange(server.svcPort(), "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"))
                    .startsWith("HTTP/1.1 200 ");
            server.terminate();
            assertThat(server.awaitExit(Duration.ofSeconds(30))).as(server.stdout()).isZero();
        }
        List<String> classes = Files.readAllLines(log);
        assertThat(classes).as("classes loaded while starting, serving and stopping")
                .noneMatch(line -> line.contains("$Proxy") || line.contains(" java.lang.reflect.Proxy "));
        assertThat(classes).as("the class-load log").anyMatch(line -> line.contains(" ai.echo.defaultbackend.Main "));
    }
}
