package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The server in process, on a real socket: what the accepted connections are set up with. */
class BackendServerTest {

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    void acceptedConnectionsHaveNagleOff(String transport) throws IOException {
        // A pipelined client's second answer must not wait for the ACK of the first (Nagle's algorithm).
        BackendConfig config = ((BackendConfig.Run) BackendConfig.parse(List.of("--port=0", "--svc-port=0",
                "--bind-address=127.0.0.1", "--transport=" + transport, "--error-files-path=/nonexistent"),
                Map.of())).config();
        try (BackendServer server = BackendServer.start(config);
             Socket client = new Socket("127.0.0.1", server.port())) {
            client.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = client.getInputStream();
            byte[] head = in.readNBytes(15);
            assertThat(new String(head, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200 OK");
            assertThat(server.connections().size()).isEqualTo(1);
            for (Channel accepted : server.connections()) {
                assertThat(accepted.config().getOption(ChannelOption.TCP_NODELAY)).as(transport).isTrue();
            }
        }
    }
}
