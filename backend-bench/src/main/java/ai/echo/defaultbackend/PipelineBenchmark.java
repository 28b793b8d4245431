package ai.echo.defaultbackend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one request through the real per-connection pipeline, built by {@link BackendInitializer} on
 * an {@link EmbeddedChannel}: request bytes in, response bytes out, no socket. What it leaves out is the
 * kernel and the transport's read and write, which the wrk runs of {@code bench/run.sh} include.
 *
 * <p>The request is handed in as a retained duplicate of one direct buffer, so the figures (run with
 * {@code -prof gc}) count what the pipeline allocates per request, not what building the input costs.
 * Every benchmark reads back and releases each response, and {@link #checkAnswers} fails the run if the
 * pipeline stops answering as expected, so a broken pipeline cannot produce a fast figure.
 *
 * <p>Run: {@code java -jar backend-bench/target/benchmarks.jar -prof gc} (add {@code -f 1 -wi 2 -i 3} for a
 * quick look).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m"})
public class PipelineBenchmark {

    static final int PIPELINE_DEPTH = 16;

    /** What wrk sends. */
    static final String MINIMAL = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

    /** What a browser (Firefox) accepts. */
    static final String BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    /** What a default backend really receives: a request forwarded by ingress-nginx, with its proxy headers. */
    static final String PROXIED = "GET /api/v1/unknown?page=2 HTTP/1.1\r\n"
            + "Host: shop.example.com\r\n"
            + "X-Request-ID: 3f2a9c8e1b7d4e6f9a0b1c2d3e4f5a6b\r\n"
            + "X-Real-IP: 203.0.113.7\r\n"
            + "X-Forwarded-For: 203.0.113.7\r\n"
            + "X-Forwarded-Host: shop.example.com\r\n"
            + "X-Forwarded-Port: 443\r\n"
            + "X-Forwarded-Proto: https\r\n"
            + "X-Scheme: https\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
            + "Accept: " + BROWSER_ACCEPT + "\r\n"
            + "Accept-Encoding: gzip, deflate, br\r\n"
            + "\r\n";

    static final String HEALTHZ = "GET /healthz HTTP/1.1\r\nHost: 10.0.0.12:8080\r\nUser-Agent: kube-probe/1.31\r\n"
            + "Accept: */*\r\nConnection: keep-alive\r\n\r\n";

    /** A custom-error request as ingress-nginx sends it (custom-http-errors), asking for JSON. */
    static final String CUSTOM_ERROR = "GET / HTTP/1.1\r\n"
            + "Host: shop.example.com\r\n"
            + "X-Code: 503\r\n"
            + "X-Format: application/json\r\n"
            + "X-Original-URI: /api/v1/orders?page=2\r\n"
            + "X-Namespace: shop\r\n"
            + "X-Ingress-Name: shop\r\n"
            + "X-Service-Name: orders\r\n"
            + "X-Service-Port: 8080\r\n"
            + "X-Request-ID: 3f2a9c8e1b7d4e6f9a0b1c2d3e4f5a6b\r\n"
            + "Accept: application/json\r\n"
            + "\r\n";

    /**
     * The same from a browser's request: ingress-nginx passes on its Accept, so the page is the built-in
     * HTML one, about 800 bytes of text around the request's values.
     */
    static final String CUSTOM_ERROR_HTML = CUSTOM_ERROR
            .replace("X-Format: application/json", "X-Format: " + BROWSER_ACCEPT)
            .replace("Accept: application/json", "Accept: " + BROWSER_ACCEPT);

    private EmbeddedChannel channel;
    /** The traffic listener as the server builds it by default: answers counted, X-Code honoured. */
    private EmbeddedChannel served;
    private ErrorPageStore errorPages;
    private ByteBuf customError;
    private ByteBuf customErrorHtml;
    private ByteBuf minimal;
    private ByteBuf proxied;
    private ByteBuf healthz;
    private ByteBuf pipelined;

    @Setup(Level.Trial)
    public void setUp() {
        BackendConfig config = BackendConfig.DEFAULTS;
        channel = new EmbeddedChannel(new BackendInitializer(config, new Responses(), new ServerState(),
                new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), Integer.MAX_VALUE));
        minimal = direct(MINIMAL);
        proxied = direct(PROXIED);
        healthz = direct(HEALTHZ);
        pipelined = direct(MINIMAL.repeat(PIPELINE_DEPTH));
        // No error-page directory: the built-in pages, as in the image without a mounted ConfigMap.
        errorPages = new ErrorPageStore(Path.of(config.errorFilesPath()), Duration.ofMinutes(10)).start();
        Metrics metrics = new Metrics(new Metrics.Sources(() -> 1, () -> 0, () -> 0, () -> 0, () -> 0, () -> 0, null,
                errorPages));
        served = new EmbeddedChannel(new BackendInitializer(config, new Responses(), new ServerState(),
                new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), Integer.MAX_VALUE,
                new Features(Metrics.Port.TRAFFIC, metrics, null, errorPages, config.defaultResponseFormat(),
                        false, null)));
        customError = direct(CUSTOM_ERROR);
        customErrorHtml = direct(CUSTOM_ERROR_HTML);
        checkAnswers();
    }

    private void checkAnswers() {
        expect(channel, minimal, 1, "HTTP/1.1 404 Not Found\r\n", "default backend - 404");
        expect(channel, proxied, 1, "HTTP/1.1 404 Not Found\r\n", "default backend - 404");
        expect(channel, healthz, 1, "HTTP/1.1 200 OK\r\n", "ok");
        expect(channel, pipelined, PIPELINE_DEPTH, "HTTP/1.1 404 Not Found\r\n", "default backend - 404");
        expect(served, minimal, 1, "HTTP/1.1 404 Not Found\r\n", "default backend - 404");
        expect(served, customError, 1, "HTTP/1.1 503 Service Unavailable\r\n",
                text -> text.contains("\r\nContent-Type: application/json") && text.endsWith("}\n"));
        expect(served, customErrorHtml, 1, "HTTP/1.1 503 Service Unavailable\r\n",
                text -> text.contains("\r\nContent-Type: text/html") && text.endsWith("</html>\n"));
    }

    private static void expect(EmbeddedChannel channel, ByteBuf request, int responses, String statusLine,
                               String body) {
        expect(channel, request, responses, statusLine, text -> text.endsWith("\r\n\r\n" + body));
    }

    private static void expect(EmbeddedChannel channel, ByteBuf request, int responses, String statusLine,
                               Predicate<String> rest) {
        channel.writeInbound(request.retainedDuplicate());
        for (int i = 0; i < responses; i++) {
            ByteBuf response = channel.readOutbound();
            if (response == null) {
                throw new IllegalStateException("no response " + (i + 1) + " of " + responses + " to "
                        + request.toString(StandardCharsets.US_ASCII).lines().findFirst().orElse(""));
            }
            try {
                String text = response.toString(StandardCharsets.US_ASCII);
                if (!text.startsWith(statusLine) || !rest.test(text)) {
                    throw new IllegalStateException("unexpected response: " + text.lines().findFirst().orElse(""));
                }
            } finally {
                response.release();
            }
        }
        if (channel.outboundMessages().size() != 0 || !channel.isOpen()) {
            throw new IllegalStateException("the connection did not stay open with nothing more to send");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        channel.finishAndReleaseAll();
        served.finishAndReleaseAll();
        errorPages.close();
        customError.release();
        customErrorHtml.release();
        minimal.release();
        proxied.release();
        healthz.release();
        pipelined.release();
    }

    private static ByteBuf direct(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        // Read-only, so that a decoder which ever wrote into its input would copy instead of corrupting it.
        return Unpooled.directBuffer(bytes.length).writeBytes(bytes).asReadOnly();
    }

    /** A 404 for the smallest request a client can send (wrk's). */
    @Benchmark
    public int notFoundMinimal() {
        return roundTrip(channel, minimal, 1);
    }

    /** A 404 for a request carrying the headers ingress-nginx adds. */
    @Benchmark
    public int notFoundProxied() {
        return roundTrip(channel, proxied, 1);
    }

    /** A kubelet probe. */
    @Benchmark
    public int healthz() {
        return roundTrip(channel, healthz, 1);
    }

    /** Sixteen requests in one read, sixteen responses in one flush; the figure is per request. */
    @Benchmark
    @OperationsPerInvocation(PIPELINE_DEPTH)
    public int pipelined16() {
        return roundTrip(channel, pipelined, PIPELINE_DEPTH);
    }

    /** wrk's request through the traffic listener as the server builds it: counted, X-Code looked for. */
    @Benchmark
    public int notFoundServed() {
        return roundTrip(served, minimal, 1);
    }

    /** An ingress-nginx custom-error request: a JSON error page for X-Code 503, counted. */
    @Benchmark
    public int customError() {
        return roundTrip(served, customError, 1);
    }

    /** The same for a browser: the built-in HTML error page. */
    @Benchmark
    public int customErrorHtml() {
        return roundTrip(served, customErrorHtml, 1);
    }

    private static int roundTrip(EmbeddedChannel channel, ByteBuf request, int responses) {
        channel.writeInbound(request.retainedDuplicate());
        int bytes = 0;
        for (int i = 0; i < responses; i++) {
            ByteBuf response = channel.readOutbound();
            bytes += response.readableBytes();
            response.release();
        }
        return bytes;
    }
}
