package ai.echo.defaultbackend;

import io.netty.handler.codec.http.HttpMethod;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's Prometheus metrics, in a registry of its own (no global state: two servers in one JVM, as in
 * tests, count apart).
 *
 * <p>The 1.5 names keep 1.5's meaning exactly: {@code default_http_backend_http_request_count_total} and
 * {@code default_http_backend_http_request_duration_milliseconds} count and time only the catch-all 404
 * answers of the traffic port, labelled by protocol version, in real milliseconds with 1.5's buckets; a
 * {@code /healthz} answer or a custom error page is not counted there. The {@code defaultbackend_*} metrics
 * count every answer.
 *
 * <p>Every label value comes from a small fixed set, so each series is a slot in a fixed array. No text a
 * client sends is copied into a label, but a request does choose among the values: its method among nine and
 * {@code OTHER}, and for an error page its {@code X-Code} and {@code X-Format} or {@code Accept} among the
 * codes 400-599 and the four formats (800 series at most). Requests are counted in a {@link Tally} per event-loop thread, written by that
 * thread alone: a request costs a few array adds, with no atomic instruction and no cache line shared with
 * another thread. A scrape sums the tallies.
 */
final class Metrics {

    private static final Logger LOG = LoggerFactory.getLogger(Metrics.class);

    /** The methods counted by name; any other method is counted as {@code OTHER}. */
    static final HttpMethod[] KNOWN_METHODS = {
        HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE,
        HttpMethod.OPTIONS, HttpMethod.PATCH, HttpMethod.TRACE, HttpMethod.CONNECT,
    };
    static final String OTHER_METHOD = "OTHER";
    /** The slot of {@link #OTHER_METHOD}: any method not known, and a request whose method could not be read. */
    static final int OTHER_METHOD_INDEX = KNOWN_METHODS.length;
    /** 1.5's metric families, by their names without suffix. */
    static final Set<String> LEGACY_NAMES = Set.of("default_http_backend_http_request_count",
            "default_http_backend_http_request_duration_milliseconds");
    /** 1.5's buckets, in milliseconds. */
    static final double[] LEGACY_BUCKETS = {.001, .003, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

    /** Which listener answered. */
    enum Port {
        TRAFFIC("traffic"),
        SERVICE("service");

        final String label;

        Port(String label) {
            this.label = label;
        }
    }

    private static final String[] STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    private static final int METHODS = KNOWN_METHODS.length + 1;
    private static final int REQUEST_SERIES = Port.values().length * STATUS_CLASSES.length * METHODS;
    private static final PageFormat[] FORMATS = PageFormat.values();
    private static final int CUSTOM_ERROR_SERIES = (ErrorPages.LAST_CODE - ErrorPages.FIRST_CODE + 1) * FORMATS.length;
    /** A 1.5 duration histogram's buckets, one per bound and one over the last. */
    private static final int LEGACY_SLOTS = LEGACY_BUCKETS.length + 1;
    private static final double[] LEGACY_UPPER_BOUNDS = Arrays.copyOf(LEGACY_BUCKETS, LEGACY_SLOTS);
    /** The 1.5 series' protocol label, by minor version. */
    private static final Labels[] LEGACY_PROTO = {Labels.of("proto", "1.0"), Labels.of("proto", "1.1")};

    static {
        LEGACY_UPPER_BOUNDS[LEGACY_BUCKETS.length] = Double.POSITIVE_INFINITY;
    }

    private final PrometheusRegistry registry = new PrometheusRegistry();
    /** One per thread that has counted a request, never removed: a counter does not go back. */
    private final List<Tally> tallies = new ArrayList<>();
    private volatile boolean jvmMetrics;

    /** What the rest of the server counts by itself, read at scrape time. */
    record Sources(LongSupplier trafficConnections, LongSupplier serviceConnections, LongSupplier badRequests,
                   LongSupplier timeouts, LongSupplier idleClosed, LongSupplier refusedConnections,
                   AccessLog accessLog, ErrorPageStore errorPages) {
    }

    Metrics(Sources sources) {
        registry.register(new CountedRequests());
        GaugeWithCallback.builder()
                .name("defaultbackend_open_connections")
                .help("Connections open now, by listener.")
                .labelNames("port")
                .callback(callback -> {
                    callback.call(sources.trafficConnections().getAsLong(), Port.TRAFFIC.label);
                    callback.call(sources.serviceConnections().getAsLong(), Port.SERVICE.label);
                })
                .register(registry);
        CounterWithCallback.builder()
                .name("defaultbackend_connections_closed_total")
                .help("Connections the server closed itself: bad_request (malformed or oversized request), "
                        + "timeout (a request's head, body or answer not through in time), idle (a keep-alive "
                        + "connection idle for the idle timeout), limit (over --max-connections).")
                .labelNames("reason")
                .callback(callback -> {
                    callback.call(sources.badRequests().getAsLong(), "bad_request");
                    callback.call(sources.timeouts().getAsLong(), "timeout");
                    callback.call(sources.idleClosed().getAsLong(), "idle");
                    callback.call(sources.refusedConnections().getAsLong(), "limit");
                })
                .register(registry);
        if (sources.accessLog() != null) {
            AccessLog log = sources.accessLog();
            CounterWithCallback.builder()
                    .name("defaultbackend_access_log_lines_total")
                    .help("Access log lines written to stdout (counted once written).")
                    .callback(callback -> callback.call(log.written()))
                    .register(registry);
            CounterWithCallback.builder()
                    .name("defaultbackend_access_log_dropped_total")
                    .help("Sampled access log lines not written: rate_limit (over the lines-per-second ceiling), "
                            + "queue_full (the writer fell behind), write_error (stdout closed).")
                    .labelNames("reason")
                    .callback(callback -> {
                        callback.call(log.droppedByRateLimit(), "rate_limit");
                        callback.call(log.droppedQueueFull(), "queue_full");
                        callback.call(log.droppedWriteError(), "write_error");
                    })
                    .register(registry);
        }
        if (sources.errorPages() != null) {
            ErrorPageStore pages = sources.errorPages();
            CounterWithCallback.builder()
                    .name("defaultbackend_error_pages_reloads_total")
                    .help("Reads of the error files directory, the first included.")
                    .callback(callback -> callback.call(pages.reloads()))
                    .register(registry);
            CounterWithCallback.builder()
                    .name("defaultbackend_error_pages_load_errors_total")
                    .help("Error page files that could not be loaded (their previous version stays in use).")
                    .callback(callback -> callback.call(pages.reloadProblems()))
                    .register(registry);
            GaugeWithCallback.builder()
                    .name("defaultbackend_error_pages_files")
                    .help("Error page files in use from the error files directory.")
                    .callback(callback -> callback.call(pages.current().fileCount()))
                    .register(registry);
        }
        Info.builder()
                .name("defaultbackend_build_info")
                .help("The server's version.")
                .labelNames("version")
                .register(registry)
                .setLabelValues(BuildInfo.VERSION);
    }

    /**
     * The registry to scrape, with the JVM and process metrics set up on the first call. They go through
     * JMX, whose set-up was the largest single cost of start-up (about a sixth of the samples before the
     * first {@code /healthz}) and about 6 MiB of resident memory: an instance nobody scrapes never pays it.
     * The counters among them (GC time, allocated bytes) therefore count from the first scrape; Prometheus
     * takes a counter's first sample as its start, as after a restart. Tried once: should JMX fail, the
     * scrapes go on with the server's own metrics rather than fail on a half-registered set.
     */
    PrometheusRegistry scrapeRegistry() {
        if (!jvmMetrics) {
            synchronized (this) {
                if (!jvmMetrics) {
                    try {
                        JvmMetrics.builder().register(registry);
                    } catch (RuntimeException e) {
                        LOG.warn("JVM metrics not available: {}", Flags.quote(String.valueOf(e)));
                    } finally {
                        jvmMetrics = true;
                    }
                }
            }
        }
        return registry;
    }

    /** Whether {@link #scrapeRegistry()} has set up the JVM and process metrics yet. */
    boolean jvmMetricsSetUp() {
        return jvmMetrics;
    }

    /** Index of a method among {@link #KNOWN_METHODS}, or their count for any other. */
    static int methodIndex(HttpMethod method) {
        for (int i = 0; i < KNOWN_METHODS.length; i++) {
            // Netty hands out the constants for known names, so identity settles it; equals covers the rest.
            if (KNOWN_METHODS[i] == method) {
                return i;
            }
        }
        for (int i = 0; i < KNOWN_METHODS.length; i++) {
            if (KNOWN_METHODS[i].equals(method)) {
                return i;
            }
        }
        return OTHER_METHOD_INDEX;
    }

    /**
     * The calling thread's tally, made on its first call. An event loop's handlers look it up once and keep
     * it; only the thread that owns a tally may count in it ({@link Tally#owner}).
     */
    Tally tally() {
        Thread thread = Thread.currentThread();
        synchronized (tallies) {
            for (Tally tally : tallies) {
                if (tally.owner == thread) {
                    return tally;
                }
            }
            Tally tally = new Tally(thread);
            tallies.add(tally);
            return tally;
        }
    }

    private Tally[] tallies() {
        synchronized (tallies) {
            return tallies.toArray(new Tally[0]);
        }
    }

    /**
     * The requests one thread has counted. Only its {@link #owner} writes to it, with plain reads and opaque
     * writes, so a count costs no atomic instruction; a scrape on another thread reads each slot whole (opaque
     * reads, never a torn value) and sees a count as soon as the owner's write reaches memory, nanoseconds
     * after it is made: counts made before a scrape is asked for are in it, as they were with adders.
     */
    static final class Tally {

        private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(long[].class);

        final Thread owner;
        private final long[] requests = new long[REQUEST_SERIES];
        private final long[] customErrors = new long[CUSTOM_ERROR_SERIES];
        /** Index {@code minor * LEGACY_SLOTS + bucket}: the 1.5 histogram's buckets, not cumulated. */
        private final long[] legacyBuckets = new long[2 * LEGACY_SLOTS];
        /** The 1.5 histogram's sums, by minor version, in nanoseconds. */
        private final long[] legacyNanos = new long[2];

        private Tally(Thread owner) {
            this.owner = owner;
        }

        /** Counts one answered request. */
        void request(Port port, int status, int methodIndex) {
            int statusClass = Math.min(Math.max(status / 100, 1), 5) - 1;
            add(requests, (port.ordinal() * STATUS_CLASSES.length + statusClass) * METHODS + methodIndex, 1);
        }

        /** Counts and times one catch-all 404, under 1.5's names. */
        void legacyNotFound(boolean http10, long nanos) {
            int minor = http10 ? 0 : 1;
            double millis = nanos / 1e6;
            int bucket = 0;
            while (bucket < LEGACY_BUCKETS.length && millis > LEGACY_BUCKETS[bucket]) {
                bucket++;
            }
            add(legacyBuckets, minor * LEGACY_SLOTS + bucket, 1);
            add(legacyNanos, minor, nanos);
        }

        /** Counts one error page served for X-Code. */
        void customError(int code, PageFormat format) {
            add(customErrors, (code - ErrorPages.FIRST_CODE) * FORMATS.length + format.ordinal(), 1);
        }

        private static void add(long[] slots, int index, long amount) {
            SLOTS.setOpaque(slots, index, (long) SLOTS.get(slots, index) + amount);
        }

        private static void sumInto(long[] slots, long[] sums) {
            for (int i = 0; i < slots.length; i++) {
                sums[i] += (long) SLOTS.getOpaque(slots, i);
            }
        }
    }

    /** The counted requests, summed over the tallies at each scrape, under the names and labels they had. */
    private final class CountedRequests implements MultiCollector {

        @Override
        public MetricSnapshots collect() {
            long[] requests = new long[REQUEST_SERIES];
            long[] customErrors = new long[CUSTOM_ERROR_SERIES];
            long[] legacyBuckets = new long[2 * LEGACY_SLOTS];
            long[] legacyNanos = new long[2];
            for (Tally tally : tallies()) {
                Tally.sumInto(tally.requests, requests);
                Tally.sumInto(tally.customErrors, customErrors);
                Tally.sumInto(tally.legacyBuckets, legacyBuckets);
                Tally.sumInto(tally.legacyNanos, legacyNanos);
            }
            CounterSnapshot.Builder legacyCount = CounterSnapshot.builder()
                    .name("default_http_backend_http_request_count")
                    .help("Counter of HTTP requests made.");
            HistogramSnapshot.Builder legacyDuration = HistogramSnapshot.builder()
                    .name("default_http_backend_http_request_duration_milliseconds")
                    .help("Histogram of the time (in milliseconds) each request took.");
            for (int minor = 0; minor < 2; minor++) {
                long[] counts = Arrays.copyOfRange(legacyBuckets, minor * LEGACY_SLOTS, (minor + 1) * LEGACY_SLOTS);
                legacyCount.dataPoint(CounterDataPointSnapshot.builder()
                        .labels(LEGACY_PROTO[minor]).value(Arrays.stream(counts).sum()).build());
                legacyDuration.dataPoint(HistogramDataPointSnapshot.builder()
                        .labels(LEGACY_PROTO[minor])
                        .classicHistogramBuckets(ClassicHistogramBuckets.of(LEGACY_UPPER_BOUNDS, counts))
                        .sum(legacyNanos[minor] / 1e6)
                        .build());
            }
            return MetricSnapshots.of(legacyCount.build(), legacyDuration.build(),
                    counter("defaultbackend_http_requests",
                            "HTTP requests answered, by listener, status class and method (OTHER for a method "
                                    + "not known or not readable).",
                            requests, CountedRequests::requestLabels),
                    counter("defaultbackend_custom_error_responses",
                            "Error pages served for an X-Code request, by status code and format.",
                            customErrors, CountedRequests::customErrorLabels));
        }

        /** A counter with a series for each slot counted at least once, as labelled counters show. */
        private static CounterSnapshot counter(String name, String help, long[] counts, IntFunction<Labels> labels) {
            CounterSnapshot.Builder counter = CounterSnapshot.builder().name(name).help(help);
            for (int i = 0; i < counts.length; i++) {
                if (counts[i] > 0) {
                    counter.dataPoint(CounterDataPointSnapshot.builder()
                            .labels(labels.apply(i)).value(counts[i]).build());
                }
            }
            return counter.build();
        }

        private static Labels requestLabels(int slot) {
            int method = slot % METHODS;
            return Labels.of("port", Port.values()[slot / METHODS / STATUS_CLASSES.length].label,
                    "code_class", STATUS_CLASSES[slot / METHODS % STATUS_CLASSES.length],
                    "method", method < KNOWN_METHODS.length ? KNOWN_METHODS[method].name() : OTHER_METHOD);
        }

        private static Labels customErrorLabels(int slot) {
            return Labels.of("code", Integer.toString(ErrorPages.FIRST_CODE + slot / FORMATS.length),
                    "format", FORMATS[slot % FORMATS.length].label);
        }

        @Override
        public List<String> getPrometheusNames() {
            return List.of("default_http_backend_http_request_count",
                    "default_http_backend_http_request_duration_milliseconds", "defaultbackend_http_requests",
                    "defaultbackend_custom_error_responses");
        }
    }
}
