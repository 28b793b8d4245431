package ai.echo.defaultbackend;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.atomic.AtomicReferenceArray;
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
 * <p>Recording is cheap and lock-free: every label value comes from a small fixed set (nothing a client
 * sends becomes a label), and each labelled data point is looked up once and then kept in an array slot, so
 * a request costs an array read and an add, never a label lookup.
 */
final class Metrics {

    private static final Logger LOG = LoggerFactory.getLogger(Metrics.class);

    /** The methods counted by name; any other method is counted as {@code OTHER}. */
    static final HttpMethod[] KNOWN_METHODS = {
        HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE,
        HttpMethod.OPTIONS, HttpMethod.PATCH, HttpMethod.TRACE, HttpMethod.CONNECT,
    };
    static final String OTHER_METHOD = "OTHER";
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

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests;
    private final Counter customErrors;
    private final AtomicReferenceArray<CounterDataPoint> requestPoints =
            new AtomicReferenceArray<>(Port.values().length * STATUS_CLASSES.length * (KNOWN_METHODS.length + 1));
    private final AtomicReferenceArray<CounterDataPoint> customErrorPoints = new AtomicReferenceArray<>(
            (ErrorPages.LAST_CODE - ErrorPages.FIRST_CODE + 1) * PageFormat.values().length);
    /** Index 0: HTTP/1.0, 1: HTTP/1.1. */
    private final CounterDataPoint[] legacyCount = new CounterDataPoint[2];
    private final DistributionDataPoint[] legacyDuration = new DistributionDataPoint[2];
    private volatile boolean jvmMetrics;

    /** What the rest of the server counts by itself, read at scrape time. */
    record Sources(LongSupplier trafficConnections, LongSupplier serviceConnections, LongSupplier badRequests,
                   LongSupplier timeouts, LongSupplier refusedConnections, AccessLog accessLog,
                   ErrorPageStore errorPages) {
    }

    Metrics(Sources sources) {
        Counter legacyCounter = Counter.builder()
                .name("default_http_backend_http_request_count_total")
                .help("Counter of HTTP requests made.")
                .labelNames("proto")
                .withoutExemplars()
                .register(registry);
        Histogram legacyHistogram = Histogram.builder()
                .name("default_http_backend_http_request_duration_milliseconds")
                .help("Histogram of the time (in milliseconds) each request took.")
                .labelNames("proto")
                .classicOnly()
                .classicUpperBounds(LEGACY_BUCKETS)
                .withoutExemplars()
                .register(registry);
        for (int minor = 0; minor < 2; minor++) {
            legacyCount[minor] = legacyCounter.labelValues("1." + minor);
            legacyDuration[minor] = legacyHistogram.labelValues("1." + minor);
        }
        requests = Counter.builder()
                .name("defaultbackend_http_requests_total")
                .help("HTTP requests answered, by listener, status class and method (unknown methods as OTHER).")
                .labelNames("port", "code_class", "method")
                .withoutExemplars()
                .register(registry);
        customErrors = Counter.builder()
                .name("defaultbackend_custom_error_responses_total")
                .help("Error pages served for an X-Code request, by status code and format.")
                .labelNames("code", "format")
                .withoutExemplars()
                .register(registry);
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
                        + "timeout (one of the four timeouts), limit (over --max-connections).")
                .labelNames("reason")
                .callback(callback -> {
                    callback.call(sources.badRequests().getAsLong(), "bad_request");
                    callback.call(sources.timeouts().getAsLong(), "timeout");
                    callback.call(sources.refusedConnections().getAsLong(), "limit");
                })
                .register(registry);
        if (sources.accessLog() != null) {
            AccessLog log = sources.accessLog();
            CounterWithCallback.builder()
                    .name("defaultbackend_access_log_lines_total")
                    .help("Access log lines written.")
                    .callback(callback -> callback.call(log.written()))
                    .register(registry);
            CounterWithCallback.builder()
                    .name("defaultbackend_access_log_dropped_total")
                    .help("Sampled access log lines not written: rate_limit (over the lines-per-second ceiling), "
                            + "queue_full (the writer fell behind).")
                    .labelNames("reason")
                    .callback(callback -> {
                        callback.call(log.droppedByRateLimit(), "rate_limit");
                        callback.call(log.droppedQueueFull(), "queue_full");
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
        return KNOWN_METHODS.length;
    }

    /** Counts one answered request. */
    void request(Port port, int status, int methodIndex) {
        int statusClass = Math.min(Math.max(status / 100, 1), 5) - 1;
        int index = (port.ordinal() * STATUS_CLASSES.length + statusClass) * (KNOWN_METHODS.length + 1) + methodIndex;
        CounterDataPoint point = requestPoints.get(index);
        if (point == null) {
            point = requests.labelValues(port.label, STATUS_CLASSES[statusClass],
                    methodIndex < KNOWN_METHODS.length ? KNOWN_METHODS[methodIndex].name() : OTHER_METHOD);
            requestPoints.set(index, point);
        }
        point.inc();
    }

    /** Counts and times one catch-all 404, under 1.5's names. */
    void legacyNotFound(HttpVersion version, long nanos) {
        int minor = version.minorVersion() == 0 ? 0 : 1;
        legacyCount[minor].inc();
        legacyDuration[minor].observe(nanos / 1e6);
    }

    /** Counts one error page served for X-Code. */
    void customError(int code, PageFormat format) {
        int index = (code - ErrorPages.FIRST_CODE) * PageFormat.values().length + format.ordinal();
        CounterDataPoint point = customErrorPoints.get(index);
        if (point == null) {
            point = customErrors.labelValues(Integer.toString(code), format.label);
            customErrorPoints.set(index, point);
        }
        point.inc();
    }
}
