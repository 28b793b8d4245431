package ai.echo.defaultbackend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What recording metrics (and the access log, when on) costs the hot path: the same pipelined 1.5 404s
 * through the whole pipeline, without and with the features, in alternating rounds of one run, printed
 * side by side as nanoseconds and bytes allocated per request, with medians and ratios. Not a test; run it with
 * {@code backend-server/src/test/bench/metrics-overhead.sh}.
 *
 * <p>The pipeline runs on an {@link EmbeddedChannel}, so the figures are the server's own work per request
 * (decode, route, count, answer) without the kernel, which is where a difference would show most.
 */
public final class MetricsOverheadBenchmark {

    private static final int REQUESTS_PER_BATCH = 500;
    private static final int BATCHES_PER_ROUND = 40;
    /** Bytes allocated by this thread: the pipeline runs on it, so this is what a request allocates. */
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    private MetricsOverheadBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 61;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        Path empty = Files.createTempDirectory("bench-pages");
        ErrorPageStore pages = new ErrorPageStore(empty, Duration.ofMinutes(10)).start();
        ServerState state = new ServerState();
        Metrics metrics = new Metrics(new Metrics.Sources(() -> 0, () -> 0, state::badRequests, state::timeouts,
                state::idleClosed, state::refusedConnections, null, pages));
        AccessLog accessLog = new AccessLog(1.0, 100, AccessLog.QUEUE_CAPACITY,
                new Stdout(OutputStream.nullOutputStream()), System::nanoTime);

        Map<String, Features> variants = new LinkedHashMap<>();
        variants.put("1.5 only (no metrics)", Features.NONE);
        variants.put("X-Code only", new Features(Metrics.Port.TRAFFIC, null, null, pages, Variant.TEXT_HTML, false,
                null));
        variants.put("metrics only", new Features(Metrics.Port.TRAFFIC, metrics, null, null, Variant.TEXT_HTML, false,
                null));
        variants.put("metrics + X-Code (default)", new Features(Metrics.Port.TRAFFIC, metrics, null, pages,
                Variant.TEXT_HTML, false, null));
        variants.put("default + access log", new Features(Metrics.Port.TRAFFIC, metrics, null, pages,
                Variant.TEXT_HTML, false, accessLog));

        byte[] batch = "GET /some/path HTTP/1.1\r\nHost: x\r\nUser-Agent: bench\r\n\r\n".repeat(REQUESTS_PER_BATCH)
                .getBytes(StandardCharsets.US_ASCII);
        Map<String, List<Double>> results = new LinkedHashMap<>();
        Map<String, List<Double>> ratios = new LinkedHashMap<>();
        Map<String, List<Double>> allocated = new LinkedHashMap<>();
        variants.keySet().forEach(name -> {
            results.put(name, new ArrayList<>());
            ratios.put(name, new ArrayList<>());
            allocated.put(name, new ArrayList<>());
        });
        List<String> names = new ArrayList<>(variants.keySet());
        for (int round = 0; round < warmup + rounds; round++) {
            // Each round runs every variant once, starting with a different one, so that drift on a shared
            // machine falls on all of them alike; ratios are taken within a round.
            Map<String, Double> thisRound = new LinkedHashMap<>();
            Map<String, Double> bytes = new LinkedHashMap<>();
            for (int i = 0; i < names.size(); i++) {
                String name = names.get((round + i) % names.size());
                long before = THREADS.getCurrentThreadAllocatedBytes();
                thisRound.put(name, round(variants.get(name), state, batch));
                bytes.put(name, (double) (THREADS.getCurrentThreadAllocatedBytes() - before)
                        / (REQUESTS_PER_BATCH * BATCHES_PER_ROUND));
            }
            if (round >= warmup) {
                double base = thisRound.get(names.get(0));
                for (String name : names) {
                    results.get(name).add(thisRound.get(name));
                    ratios.get(name).add(thisRound.get(name) / base);
                    allocated.get(name).add(bytes.get(name));
                }
            }
        }

        System.out.printf(Locale.ROOT, "%d rounds of %d pipelined requests per variant, after %d warm-up rounds; "
                + "JVM %s%n", rounds, REQUESTS_PER_BATCH * BATCHES_PER_ROUND, warmup, Runtime.version());
        System.out.printf(Locale.ROOT, "%-28s %11s %11s %11s %14s %16s%n", "variant", "median", "min", "max",
                "median ratio", "bytes/request");
        for (Map.Entry<String, List<Double>> result : results.entrySet()) {
            List<Double> values = result.getValue();
            System.out.printf(Locale.ROOT, "%-28s %8.1f ns %8.1f ns %8.1f ns %14.3f %16.1f%n", result.getKey(),
                    median(values), values.stream().mapToDouble(d -> d).min().orElse(0),
                    values.stream().mapToDouble(d -> d).max().orElse(0), median(ratios.get(result.getKey())),
                    median(allocated.get(result.getKey())));
        }
        System.out.printf(Locale.ROOT, "access log: %d written, %d dropped by the ceiling%n", accessLog.written(),
                accessLog.droppedByRateLimit());
        accessLog.close();
        pages.close();
    }

    /** Nanoseconds per request for one round. */
    private static double round(Features features, ServerState state, byte[] batch) {
        BackendInitializer initializer = new BackendInitializer(BackendConfig.DEFAULTS, new Responses(), state,
                new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE), Integer.MAX_VALUE, features);
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.pipeline().addLast(initializer);
        long start = System.nanoTime();
        for (int i = 0; i < BATCHES_PER_ROUND; i++) {
            channel.writeInbound(channel.alloc().buffer(batch.length).writeBytes(batch));
            ByteBuf out;
            while ((out = channel.readOutbound()) != null) {
                out.release();
            }
        }
        long elapsed = System.nanoTime() - start;
        channel.finishAndReleaseAll();
        return (double) elapsed / (REQUESTS_PER_BATCH * BATCHES_PER_ROUND);
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(d -> d).toArray();
        Arrays.sort(sorted);
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }
}
