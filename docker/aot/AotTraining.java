import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The AOT cache's training run, executed at image build time by the full JDK in source-file mode:
 * {@code java AotTraining.java <cache file> <server command...>}.
 *
 * <p>It starts the server exactly as the image's ENTRYPOINT will (same runtime, same jar path, same
 * {@code jvm.options}), on port 0 of 127.0.0.1 so that a build never collides with anything else on the
 * machine, sends it the traffic every pod serves (health checks, 404s, HEAD, HTTP/1.0, keep-alive,
 * pipelining, ingress-nginx's X-Code requests, malformed requests, both ports; not a metrics scrape, see
 * {@link #serviceRound}), then stops it with SIGTERM: the JVM writes the cache when it exits. The build fails if the server does not come up on epoll, does not drain and exit 0, or leaves no
 * cache, so a broken native-library setup cannot slip into an image.
 */
public final class AotTraining {

    private static final Pattern STARTED =
            Pattern.compile("started: transport (\\S+), traffic port (\\d+), service port (\\d+)");
    private static final int ROUNDS = 300;

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: AotTraining <cache file> <server command...>");
        }
        Path cache = Path.of(args[0]);
        List<String> command = new ArrayList<>(List.of(args).subList(1, args.length));
        command.addAll(List.of("--bind-address=127.0.0.1", "--port=0", "--svc-port=0"));
        Process server = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        int[] ports = awaitStart(out);
        Thread echo = new Thread(() -> echo(out), "server-stdout");
        echo.start();

        long started = System.nanoTime();
        for (int round = 0; round < ROUNDS; round++) {
            trafficRound(ports[0]);
            serviceRound(ports[1]);
        }
        System.out.printf("training traffic: %d rounds in %d ms%n", ROUNDS,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));

        server.destroy(); // SIGTERM: the server drains and exits 0, and the JVM writes the cache on exit.
        if (!server.waitFor(120, TimeUnit.SECONDS)) {
            server.destroyForcibly();
            throw new IllegalStateException("the training server did not exit within 120 s of SIGTERM");
        }
        echo.join(5_000);
        if (server.exitValue() != 0) {
            throw new IllegalStateException("the training server exited " + server.exitValue() + ", not 0");
        }
        if (!Files.isRegularFile(cache) || Files.size(cache) == 0) {
            throw new IllegalStateException("no AOT cache was written at " + cache);
        }
        System.out.printf("AOT cache %s: %d bytes%n", cache, Files.size(cache));
    }

    private static int[] awaitStart(BufferedReader out) throws IOException {
        String line;
        while ((line = out.readLine()) != null) {
            System.out.println(line);
            Matcher matcher = STARTED.matcher(line);
            if (matcher.find()) {
                if (!matcher.group(1).equals("epoll")) {
                    throw new IllegalStateException("the server started on " + matcher.group(1)
                            + ", not epoll: Netty's native library did not load from java.library.path");
                }
                return new int[] {Integer.parseInt(matcher.group(2)), Integer.parseInt(matcher.group(3))};
            }
        }
        throw new IllegalStateException("the training server exited before it started");
    }

    private static void echo(BufferedReader out) {
        try {
            String line;
            while ((line = out.readLine()) != null) {
                System.out.println(line);
            }
        } catch (IOException e) {
            // The JDK closes the pipe once the process has exited, which can end a blocked read this way;
            // whether the server stopped well is judged by its exit code, not by this stream.
        }
    }

    private static void trafficRound(int port) throws IOException {
        // One keep-alive connection, pipelined, the last request closing it.
        exchange(port, "GET /healthz HTTP/1.1\r\nHost: training\r\n\r\n"
                + "GET / HTTP/1.1\r\nHost: training\r\nUser-Agent: aot\r\nAccept: */*\r\n\r\n"
                + "HEAD /missing?q=1 HTTP/1.1\r\nHost: training\r\n\r\n"
                + "POST /form HTTP/1.1\r\nHost: training\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
                + "GET http://training/healthz?probe=1 HTTP/1.1\r\nHost: training\r\n\r\n"
                + "GET /healthz/ HTTP/1.1\r\nHost: training\r\nConnection: close\r\n\r\n");
        exchange(port, "GET /healthz HTTP/1.0\r\n\r\n");
        exchange(port, "GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /y HTTP/1.0\r\n\r\n");
        // ingress-nginx's custom errors: X-Code with the format asked in X-Format or Accept.
        exchange(port, "GET / HTTP/1.1\r\nHost: training\r\nX-Code: 503\r\nX-Format: application/json\r\n"
                + "X-Original-URI: /api?q=1\r\nX-Namespace: shop\r\nX-Ingress-Name: shop\r\n"
                + "X-Service-Name: api\r\nX-Service-Port: 80\r\nX-Request-ID: 0123456789abcdef\r\n\r\n"
                + "GET / HTTP/1.1\r\nHost: training\r\nX-Code: 404\r\nAccept: text/html,*/*;q=0.8\r\n"
                + "Connection: close\r\n\r\n");
        exchange(port, "GET / HTTP/1.1\r\n\r\n"); // no Host: 400
        exchange(port, "NOT A REQUEST\r\n\r\n");
        exchange(port, "GET / HTTP/1.1\r\nHost: training\r\nX-Folded: a\r\n b\r\n\r\n");
        exchange(port, "GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: training\r\n\r\n");
    }

    /**
     * Probes on the service port, and no {@code /metrics}: every class in the cache is loaded at start and
     * resident in every pod, and a scrape's (the exposition format, gzip, the JVM's JMX beans) were 4 MiB
     * of an idle pod's memory, most pods of a default backend never being scraped. A scraped pod loads
     * them at its first scrape instead: about 0.1 s more for that one scrape, and the same memory after it
     * (measured with and without, on the host: 58 against 54 MiB idle, 63 MiB after a scrape either way).
     */
    private static void serviceRound(int port) throws IOException {
        exchange(port, "GET /healthz HTTP/1.1\r\nHost: training\r\n\r\n"
                + "GET /other HTTP/1.1\r\nHost: training\r\nConnection: close\r\n\r\n");
    }

    /** Sends the bytes and reads until the server closes the connection. */
    private static void exchange(int port, String request) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout(15_000);
            OutputStream send = socket.getOutputStream();
            send.write(request.getBytes(StandardCharsets.ISO_8859_1));
            send.flush();
            InputStream receive = socket.getInputStream();
            byte[] buffer = new byte[8192];
            int total = 0;
            try {
                int read;
                while ((read = receive.read(buffer)) != -1) {
                    total += read;
                }
            } catch (IOException e) {
                // A server that answers a malformed request and closes may reset the rest: fine once answered.
                if (total == 0) {
                    throw e;
                }
            }
            if (total == 0) {
                throw new IOException("no response to " + request.lines().findFirst().orElse(""));
            }
        }
    }
}
