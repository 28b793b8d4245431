package ai.echo.defaultbackend.it.chart;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import tools.jackson.databind.JsonNode;

/**
 * A rendered {@code httpGet} probe, executed the way a kubelet executes it: a GET of the path on the port (by
 * name or number) over a new connection each time (the kubelet disables keep-alive for probes), with its
 * {@code User-Agent}, {@code timeoutSeconds} for the whole exchange, and success for a status from 200 to 399
 * (a redirect is not followed here; the kubelet follows one only to the same host, and counts it a success). Timings default to the Kubernetes API defaults when the probe leaves them out.
 */
record HttpGetProbe(String kind, String path, String port, String scheme, List<String[]> headers,
        int initialDelaySeconds, int periodSeconds, int timeoutSeconds, int successThreshold, int failureThreshold) {

    /** One execution: the status and body, or what went wrong, and how long it took. */
    record Outcome(int status, String body, String error, Duration took) {
        boolean success() {
            return error == null && status >= 200 && status < 400;
        }

        @Override
        public String toString() {
            return (error != null ? error : "HTTP " + status + " " + body.strip()) + " in " + took.toMillis() + " ms";
        }
    }

    static HttpGetProbe of(String kind, JsonNode probe) {
        JsonNode httpGet = probe.path("httpGet");
        if (httpGet.isMissingNode()) {
            throw new AssertionError(kind + " is not an httpGet probe: " + probe);
        }
        if (httpGet.has("host")) {
            throw new AssertionError(kind + " probes another host (" + httpGet.path("host") + "), not the pod");
        }
        List<String[]> headers = new ArrayList<>();
        for (JsonNode header : httpGet.path("httpHeaders")) {
            headers.add(new String[] {header.path("name").asString(), header.path("value").asString()});
        }
        return new HttpGetProbe(kind, httpGet.path("path").asString("/"), httpGet.path("port").asString(),
                httpGet.path("scheme").asString("HTTP"), headers,
                probe.path("initialDelaySeconds").asInt(0), probe.path("periodSeconds").asInt(10),
                probe.path("timeoutSeconds").asInt(1), probe.path("successThreshold").asInt(1),
                probe.path("failureThreshold").asInt(3));
    }

    /** The kubelet's {@code User-Agent}, for the Kubernetes release the chart is rendered for. */
    static String userAgent() {
        String[] version = HelmChart.KUBE_VERSION.replaceFirst("^v", "").split("\\.");
        return "kube-probe/" + version[0] + "." + version[1];
    }

    /** A GET of {@code path} with a probe's manners and a 5 s timeout, for checks that are not probes. */
    static Outcome get(int hostPort, String path) {
        return new HttpGetProbe("GET " + path, path, "", "HTTP", List.of(), 0, 1, 5, 1, 1).attempt(hostPort);
    }

    /** Executes the probe once against {@code 127.0.0.1:hostPort}. */
    Outcome attempt(int hostPort) {
        if (!scheme.equals("HTTP")) {
            throw new AssertionError(kind + " uses scheme " + scheme + ", which this test does not speak");
        }
        long start = System.nanoTime();
        long deadline = start + Duration.ofSeconds(timeoutSeconds).toNanos();
        StringBuilder request = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + hostPort
                + "\r\nUser-Agent: " + userAgent() + "\r\nAccept: */*\r\n");
        for (String[] header : headers) {
            request.append(header[0]).append(": ").append(header[1]).append("\r\n");
        }
        // What Go's client sends with keep-alive disabled, as the kubelet's prober has it.
        request.append("Connection: close\r\n\r\n");
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", hostPort), remainingMillis(deadline));
            socket.getOutputStream().write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream response = new ByteArrayOutputStream();
            byte[] buffer = new byte[4096];
            int read;
            do {
                socket.setSoTimeout(remainingMillis(deadline));
                read = in.read(buffer);
                if (read > 0) {
                    response.write(buffer, 0, read);
                }
            } while (read >= 0);
            String text = response.toString(StandardCharsets.ISO_8859_1);
            int headEnd = text.indexOf("\r\n\r\n");
            if (!text.startsWith("HTTP/1.") || headEnd < 0) {
                return new Outcome(0, "", "not an HTTP response: " + text, since(start));
            }
            int status = Integer.parseInt(text.substring(9, 12));
            return new Outcome(status, text.substring(headEnd + 4), null, since(start));
        } catch (SocketTimeoutException e) {
            return new Outcome(0, "", "no answer within timeoutSeconds " + timeoutSeconds, since(start));
        } catch (IOException e) {
            return new Outcome(0, "", e.getClass().getSimpleName() + ": " + e.getMessage(), since(start));
        }
    }

    private static int remainingMillis(long deadlineNanos) throws SocketTimeoutException {
        long millis = Duration.ofNanos(deadlineNanos - System.nanoTime()).toMillis();
        if (millis <= 0) {
            throw new SocketTimeoutException("deadline passed");
        }
        return (int) millis;
    }

    /**
     * The kubelet's loop for a probe that gates the container (the startup probe): wait
     * {@code initialDelaySeconds} from the container's start, then execute every {@code periodSeconds} until
     * {@code successThreshold} successes in a row, failing at {@code failureThreshold} failures (where the
     * kubelet would kill the container). Fails early, with {@code diagnostics}, if the container stops.
     *
     * @return the time from the container's start to the success
     */
    Duration awaitSuccess(int hostPort, long containerStartedNanos, BooleanSupplier running,
            Supplier<String> diagnostics) {
        long next = containerStartedNanos + Duration.ofSeconds(initialDelaySeconds).toNanos();
        List<Outcome> failures = new ArrayList<>();
        int successes = 0;
        while (true) {
            LockSupport.parkNanos(next - System.nanoTime());
            next += Duration.ofSeconds(periodSeconds).toNanos();
            Outcome outcome = attempt(hostPort);
            if (outcome.success()) {
                if (++successes >= successThreshold) {
                    return since(containerStartedNanos);
                }
                continue;
            }
            successes = 0;
            failures.add(outcome);
            if (failures.size() >= failureThreshold) {
                throw new AssertionError(kind + " failed " + failures.size() + " times (failureThreshold "
                        + failureThreshold + ", every " + periodSeconds + " s): a kubelet would kill the container. "
                        + "Attempts: " + failures + "\n" + diagnostics.get());
            }
            if (!running.getAsBoolean()) {
                throw new AssertionError("the container stopped while its " + kind + " was failing (" + failures
                        + ")\n" + diagnostics.get());
            }
        }
    }

    private static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }
}
