package ai.echo.defaultbackend;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything the server can be told, with every default in one place. Immutable; built from flags and
 * environment variables by {@link #parse}.
 *
 * @param port                 traffic port, where the ingress controller sends unroutable requests
 * @param svcPort              service port: {@code /healthz} and {@code /metrics} only
 * @param shutdownTimeout      how long a SIGTERM or SIGINT waits for in-flight responses ({@code --timeout})
 * @param bindAddress          address both ports bind; empty means every address, IPv4 and IPv6
 * @param readHeaderTimeout    from a request's first byte to the end of its head
 * @param readTimeout          from a request's first byte to the end of its body
 * @param writeTimeout         how long a response may wait for a client that does not read
 * @param idleTimeout          how long a keep-alive connection may wait for its next request
 * @param maxRequestLineBytes  longest request line; longer gets 414
 * @param maxHeaderBytes       largest request head after the request line; larger gets 431
 * @param maxConnections       open connections on the traffic port; more are closed at once; 0 means
 *                             {@link #effectiveMaxConnections(long) derived from the heap}
 * @param transport            the Netty transport
 * @param ioThreads            event-loop threads; 0 means one per CPU the JVM sees
 * @param errorFilesPath       directory of custom error pages ({@code ERROR_FILES_PATH}, as custom-error-pages)
 * @param defaultResponseFormat the error page format when negotiation finds nothing acceptable
 * @param honorXCode           whether a request's {@code X-Code} header selects an error page
 * @param debug                echo the custom-error {@code X-*} headers back, sanitised
 * @param accessLog            write a JSON access log line for sampled requests
 * @param accessLogSampleRate  share of requests considered for the access log, 0 to 1
 * @param accessLogMaxLinesPerSecond ceiling of access log lines per second
 * @param metrics              record metrics and serve them on the service port's {@code /metrics}
 */
public record BackendConfig(
        int port,
        int svcPort,
        Duration shutdownTimeout,
        String bindAddress,
        Duration readHeaderTimeout,
        Duration readTimeout,
        Duration writeTimeout,
        Duration idleTimeout,
        int maxRequestLineBytes,
        int maxHeaderBytes,
        int maxConnections,
        Transport transport,
        int ioThreads,
        String errorFilesPath,
        Variant defaultResponseFormat,
        boolean honorXCode,
        boolean debug,
        boolean accessLog,
        double accessLogSampleRate,
        int accessLogMaxLinesPerSecond,
        boolean metrics) {

    /** The defaults: 1.5's ports, its 5 s shutdown deadline and its four 10 s timeouts. */
    public static final BackendConfig DEFAULTS = new BackendConfig(
            8080,
            10254,
            Duration.ofSeconds(5),
            "",
            Duration.ofSeconds(10),
            Duration.ofSeconds(10),
            Duration.ofSeconds(10),
            Duration.ofSeconds(10),
            8192,
            32768,
            0,
            Transport.AUTO,
            0,
            "/www",
            Variant.TEXT_HTML,
            true,
            false,
            false,
            1.0,
            100,
            true);

    /** The settings of the 1.5 contract alone; everything added since at its default. */
    public BackendConfig(int port, int svcPort, Duration shutdownTimeout, String bindAddress,
                         Duration readHeaderTimeout, Duration readTimeout, Duration writeTimeout,
                         Duration idleTimeout, int maxRequestLineBytes, int maxHeaderBytes, int maxConnections,
                         Transport transport, int ioThreads) {
        this(port, svcPort, shutdownTimeout, bindAddress, readHeaderTimeout, readTimeout, writeTimeout, idleTimeout,
                maxRequestLineBytes, maxHeaderBytes, maxConnections, transport, ioThreads, "/www",
                Variant.TEXT_HTML, true, false, false, 1.0, 100, true);
    }

    /**
     * Heap set aside per open connection when the limit is derived from the heap: a connection holds 2 to
     * 3 KiB of live heap (channel, pipeline, decoder state), measured with {@code bench/run.sh}; 4 KiB
     * leaves room for everything else. A flood of connections must meet the limit, not the heap's end.
     */
    public static final long HEAP_PER_CONNECTION = 4096;
    /** The derived limit never goes above this (the file-descriptor limits of a typical pod). */
    public static final int MAX_CONNECTIONS_CEILING = 16384;

    /** The connection limit in force: the flag's value, or one derived from {@code maxHeapBytes} for 0. */
    public int effectiveMaxConnections(long maxHeapBytes) {
        if (maxConnections > 0) {
            return maxConnections;
        }
        return (int) Math.max(64, Math.min(MAX_CONNECTIONS_CEILING, maxHeapBytes / HEAP_PER_CONNECTION));
    }

    /** What the command line asked for: run the server with a configuration, or print help or the version. */
    public sealed interface Command permits Run, Help, Version {
    }

    /** Run the server. */
    public record Run(BackendConfig config) implements Command {
    }

    /** Print the usage and exit 0. */
    public record Help() implements Command {
    }

    /** Print the version and exit 0. */
    public record Version() implements Command {
    }

    /**
     * Reads the command line and the environment.
     *
     * @throws Flags.InvalidFlagException with a one-line message naming the flag or variable at fault
     */
    public static Command parse(List<String> args, Map<String, String> env) {
        int command = FLAGS.firstCommand(args, List.of("h", "help", "version"));
        if (command >= 0) {
            FLAGS.refuseBadFlags(new Builder(DEFAULTS), args.subList(0, command));
            return Flags.name(args.get(command)).equals("version") ? new Version() : new Help();
        }
        Builder builder = new Builder(DEFAULTS);
        List<String> positional = FLAGS.apply(builder, args, env, builder.origins::put);
        if (!positional.isEmpty()) {
            throw new Flags.InvalidFlagException("unexpected argument: " + Flags.quote(positional.get(0)));
        }
        return new Run(builder.build());
    }

    /** The usage text that {@code --help} prints. */
    public static String usage() {
        StringBuilder out = new StringBuilder()
                .append("Usage: backend-server [flags]\n")
                .append("       backend-server healthcheck [flags]   (see backend-server healthcheck --help)\n\n")
                .append("Answers /healthz with 200 \"ok\" and everything else with 404 \"default backend - 404\".\n")
                .append("A request with X-Code (400-599) gets that status and an error page in the format its\n")
                .append("X-Format or Accept asks for. The service port also serves Prometheus metrics on /metrics.\n")
                .append("Every flag can also be set by the environment variable shown; a flag wins over its variable.\n")
                .append("Flags are accepted as -x v, --x v, -x=v and --x=v. Durations are Go durations (500ms, 5s, 1m).\n\n");
        for (Flags.Flag<Builder> flag : FLAGS.all()) {
            out.append(String.format("  --%s %s  (env %s, default %s)%n      %s%n", flag.name(),
                    flag.isSwitch() ? "" : flag.valueName(), flag.envName(),
                    flag.defaultValue().isEmpty() ? "\"\"" : flag.defaultValue(), flag.description()));
        }
        out.append("  --help\n      print this help and exit\n  --version\n      print the version and exit\n");
        return out.toString();
    }

    private static final Flags<Builder> FLAGS = new Flags<Builder>()
            .add("port", "int", Integer.toString(DEFAULTS.port),
                    "traffic port: /healthz and the catch-all 404",
                    (b, v) -> b.port = Flags.port(v))
            .add("svc-port", "int", Integer.toString(DEFAULTS.svcPort),
                    "service port: /healthz and /metrics (Prometheus), never exposed to clients",
                    (b, v) -> b.svcPort = Flags.port(v))
            .add("timeout", "duration", GoDuration.format(DEFAULTS.shutdownTimeout),
                    "on SIGTERM or SIGINT, how long to wait for in-flight requests before exiting",
                    (b, v) -> b.shutdownTimeout = Flags.duration(v))
            .add("bind-address", "address", DEFAULTS.bindAddress,
                    "address to listen on; empty means every address, IPv4 and IPv6 (dual stack)",
                    (b, v) -> b.bindAddress = bindAddress(v))
            .add("read-header-timeout", "duration", GoDuration.format(DEFAULTS.readHeaderTimeout),
                    "a request's head must arrive within this time of its first byte (pipelined: of the answer"
                            + " before it); 0 disables",
                    (b, v) -> b.readHeaderTimeout = Flags.duration(v))
            .add("read-timeout", "duration", GoDuration.format(DEFAULTS.readTimeout),
                    "a whole request, head and body, must arrive within this time of its first byte (pipelined:"
                            + " of the answer before it); 0 disables",
                    (b, v) -> b.readTimeout = Flags.duration(v))
            .add("write-timeout", "duration", GoDuration.format(DEFAULTS.writeTimeout),
                    "a client that does not read its responses for this long is closed; 0 disables",
                    (b, v) -> b.writeTimeout = Flags.duration(v))
            .add("idle-timeout", "duration", GoDuration.format(DEFAULTS.idleTimeout),
                    "a keep-alive connection with no request for this long is closed; 0 disables",
                    (b, v) -> b.idleTimeout = Flags.duration(v))
            .add("max-request-line-bytes", "int", Integer.toString(DEFAULTS.maxRequestLineBytes),
                    "longest request line accepted; a longer one gets 414 and the connection is closed",
                    (b, v) -> b.maxRequestLineBytes = atLeast(Flags.positive(v), 64))
            .add("max-header-bytes", "int", Integer.toString(DEFAULTS.maxHeaderBytes),
                    "largest request headers accepted; larger get 431 and the connection is closed",
                    (b, v) -> b.maxHeaderBytes = atLeast(Flags.positive(v), 64))
            .add("max-connections", "int", Integer.toString(DEFAULTS.maxConnections),
                    "open connections allowed on the traffic port; past it new ones are closed at once; 0 means"
                            + " one per " + HEAP_PER_CONNECTION / 1024 + " KiB of maximum heap, at most "
                            + MAX_CONNECTIONS_CEILING,
                    (b, v) -> b.maxConnections = nonNegative(v))
            .add("transport", "name", DEFAULTS.transport.flagValue(),
                    "auto (epoll when available, else nio), epoll, nio or io_uring",
                    (b, v) -> b.transport = Transport.fromFlag(v))
            .add("io-threads", "int", Integer.toString(DEFAULTS.ioThreads),
                    "event-loop threads; 0 means one per CPU available to the process",
                    (b, v) -> b.ioThreads = nonNegative(v))
            .add("error-files-path", "dir", DEFAULTS.errorFilesPath,
                    "directory of custom error pages (<code>.<ext>, then <d>xx.<ext>, ext html or htm, json, xml, "
                            + "txt); read at start and again whenever it changes; missing means built-in pages",
                    (b, v) -> b.errorFilesPath = directory(v))
            .add("default-response-format", "type", DEFAULTS.defaultResponseFormat.mediaType(),
                    "error page format when X-Format and Accept allow none: text/html, application/json, "
                            + "application/xml, text/xml or text/plain",
                    (b, v) -> b.defaultResponseFormat = Variant.fromFlag(v))
            .addSwitch("honor-x-code", DEFAULTS.honorXCode,
                    "answer a request carrying X-Code (400-599, as ingress-nginx sends for custom-http-errors) "
                            + "with that status and an error page; off: every such request gets the 1.5 404",
                    (b, v) -> b.honorXCode = v)
            .addSwitch("debug", DEFAULTS.debug,
                    "on error pages, echo the X-Code, X-Format, X-Original-URI, X-Namespace, X-Ingress-Name, "
                            + "X-Service-Name, X-Service-Port and X-Request-ID headers back, sanitised",
                    (b, v) -> b.debug = v)
            .addSwitch("access-log", DEFAULTS.accessLog,
                    "write one JSON line per sampled request on the traffic port to stdout",
                    (b, v) -> b.accessLog = v)
            .add("access-log-sample-rate", "ratio", "1",
                    "share of requests the access log considers, from 0 to 1",
                    (b, v) -> b.accessLogSampleRate = ratio(v))
            .add("access-log-max-lines-per-second", "int", Integer.toString(DEFAULTS.accessLogMaxLinesPerSecond),
                    "ceiling of access log lines per second, on average (a second's worth may go at once); lines over"
                            + " it are dropped and counted in /metrics",
                    (b, v) -> b.accessLogMaxLinesPerSecond = Flags.positive(v))
            .addSwitch("metrics", DEFAULTS.metrics,
                    "count requests and serve Prometheus metrics on the service port's /metrics; off: /metrics is "
                            + "a 404, nothing is counted and the JVM metrics are not set up",
                    (b, v) -> b.metrics = v);

    /** A directory's path; an empty one would be the working directory, which no one means. */
    private static String directory(String value) {
        if (value.isBlank()) {
            throw new IllegalArgumentException("must not be empty");
        }
        return value.trim();
    }

    private static double ratio(String value) {
        double ratio;
        try {
            ratio = Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number");
        }
        if (!(ratio >= 0 && ratio <= 1)) {
            throw new IllegalArgumentException("must be from 0 to 1");
        }
        return ratio;
    }

    private static int atLeast(int value, int minimum) {
        if (value < minimum) {
            throw new IllegalArgumentException("must be at least " + minimum);
        }
        return value;
    }

    private static int nonNegative(String value) {
        int number = Flags.integer(value);
        if (number < 0) {
            throw new IllegalArgumentException("must not be negative");
        }
        return number;
    }

    private static String bindAddress(String value) {
        String address = value.trim();
        if (address.startsWith("[") && address.endsWith("]")) {
            address = address.substring(1, address.length() - 1);
        }
        // Only literal addresses: resolving a host name would block start-up on DNS.
        if (!address.isEmpty() && !io.netty.util.NetUtil.isValidIpV4Address(address)
                && !io.netty.util.NetUtil.isValidIpV6Address(address)) {
            throw new IllegalArgumentException("must be an IPv4 or IPv6 address, or empty for all addresses");
        }
        return address;
    }

    /** Mutable while flags are applied; frozen into the record by {@link #build()}. */
    static final class Builder {
        int port;
        int svcPort;
        Duration shutdownTimeout;
        String bindAddress;
        Duration readHeaderTimeout;
        Duration readTimeout;
        Duration writeTimeout;
        Duration idleTimeout;
        int maxRequestLineBytes;
        int maxHeaderBytes;
        int maxConnections;
        Transport transport;
        int ioThreads;
        String errorFilesPath;
        Variant defaultResponseFormat;
        boolean honorXCode;
        boolean debug;
        boolean accessLog;
        double accessLogSampleRate;
        int accessLogMaxLinesPerSecond;
        boolean metrics;
        /** Where each setting given came from ({@code "flag"}, {@code "environment variable PORT"}), by flag name. */
        final Map<String, String> origins = new HashMap<>();

        Builder(BackendConfig from) {
            port = from.port;
            svcPort = from.svcPort;
            shutdownTimeout = from.shutdownTimeout;
            bindAddress = from.bindAddress;
            readHeaderTimeout = from.readHeaderTimeout;
            readTimeout = from.readTimeout;
            writeTimeout = from.writeTimeout;
            idleTimeout = from.idleTimeout;
            maxRequestLineBytes = from.maxRequestLineBytes;
            maxHeaderBytes = from.maxHeaderBytes;
            maxConnections = from.maxConnections;
            transport = from.transport;
            ioThreads = from.ioThreads;
            errorFilesPath = from.errorFilesPath;
            defaultResponseFormat = from.defaultResponseFormat;
            honorXCode = from.honorXCode;
            debug = from.debug;
            accessLog = from.accessLog;
            accessLogSampleRate = from.accessLogSampleRate;
            accessLogMaxLinesPerSecond = from.accessLogMaxLinesPerSecond;
            metrics = from.metrics;
        }

        private String origin(String flag) {
            return origins.getOrDefault(flag, "default");
        }

        BackendConfig build() {
            if (port != 0 && port == svcPort) {
                // Either may be a default the user never set (--port=10254 alone): name both, and say whence.
                throw new Flags.InvalidFlagException("--port (" + origin("port") + ") and --svc-port ("
                        + origin("svc-port") + ") are both " + port + "; they must differ");
            }
            return new BackendConfig(port, svcPort, shutdownTimeout, bindAddress, readHeaderTimeout, readTimeout,
                    writeTimeout, idleTimeout, maxRequestLineBytes, maxHeaderBytes, maxConnections, transport,
                    ioThreads, errorFilesPath, defaultResponseFormat, honorXCode, debug, accessLog,
                    accessLogSampleRate, accessLogMaxLinesPerSecond, metrics);
        }
    }
}
