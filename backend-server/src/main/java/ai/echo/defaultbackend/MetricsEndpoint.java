package ai.echo.defaultbackend;

import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

/**
 * {@code /metrics} on the service port: a scrape of the registry in the Prometheus text format 0.0.4, as 1.5
 * served it, whenever the scraper's {@code Accept} allows it, and OpenMetrics 1.0 only to one that accepts
 * OpenMetrics and not the text format; gzipped when its {@code Accept-Encoding} allows gzip. Runs on the
 * service port's own event loop, so a scrape never delays traffic.
 *
 * <p>In the text format, 1.5's two families are written with their {@code le} values as 1.5's Go client
 * wrote them, {@code "1"} and {@code "10"} where the Java client writes {@code "1.0"} and {@code "10.0"}:
 * Prometheus 2 stores a label value as it comes, so a dashboard or alert on {@code le="10"} would lose its
 * series on the swap. That is also why the text format wins where the scraper ranks OpenMetrics first, as
 * Prometheus 2 does by default: 1.5's client could not write OpenMetrics, so Prometheus scraped 1.5 in the
 * text format, whatever it preferred. OpenMetrics is left as the Java client writes it, {@code le="1.0"}, the
 * canonical form that format requires.
 */
final class MetricsEndpoint {

    /** One encoded scrape. */
    record Scrape(String contentType, boolean gzip, byte[] body) {
    }

    private static final Pattern LE = Pattern.compile("le=\"([^\"]+)\"");

    private final Metrics metrics;
    private final ExpositionFormatWriter text = PrometheusTextFormatWriter.create();
    private final ExpositionFormatWriter openMetrics = OpenMetricsTextFormatWriter.create();

    MetricsEndpoint(Metrics metrics) {
        this.metrics = metrics;
    }

    Scrape scrape(String accept, String acceptEncoding) {
        ExpositionFormatWriter writer = ContentNegotiation.quality(accept, "text", "plain") <= 0
                && ContentNegotiation.quality(accept, "application", "openmetrics-text") > 0 ? openMetrics : text;
        boolean gzip = acceptsGzip(acceptEncoding);
        PrometheusRegistry registry = metrics.scrapeRegistry();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 * 1024);
        try {
            if (gzip) {
                try (GZIPOutputStream out = new GZIPOutputStream(bytes, 8192)) {
                    write(writer, out, registry.scrape());
                }
            } else {
                write(writer, bytes, registry.scrape());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return new Scrape(writer.getContentType(), gzip, bytes.toByteArray());
    }

    private void write(ExpositionFormatWriter writer, OutputStream out, MetricSnapshots snapshots)
            throws IOException {
        if (writer != text) {
            writer.write(out, snapshots);
            return;
        }
        List<MetricSnapshot> legacy = new ArrayList<>(Metrics.LEGACY_NAMES.size());
        List<MetricSnapshot> rest = new ArrayList<>(snapshots.size());
        for (MetricSnapshot snapshot : snapshots) {
            (Metrics.LEGACY_NAMES.contains(snapshot.getMetadata().getName()) ? legacy : rest).add(snapshot);
        }
        // 1.5's names sort before every other (the writer sorts by name): written first, the order is the same.
        ByteArrayOutputStream legacyText = new ByteArrayOutputStream(4096);
        text.write(legacyText, new MetricSnapshots(legacy));
        String goStyle = LE.matcher(legacyText.toString(StandardCharsets.UTF_8)).replaceAll(bound -> {
            String javaStyle = bound.group(1);
            return "le=\"" + (javaStyle.equals("+Inf") ? javaStyle : goFloat(Double.parseDouble(javaStyle))) + "\"";
        });
        out.write(goStyle.getBytes(StandardCharsets.UTF_8));
        text.write(out, new MetricSnapshots(rest));
    }

    /**
     * {@code value} as Go's {@code strconv.FormatFloat(value, 'g', -1, 64)} writes it, and so 1.5's client
     * its {@code le} values in the text format: the shortest digits that read back as the value, in
     * exponent form when the exponent is below -4 or at least 6 ({@code 1e-05}, {@code 1e+06}), plain
     * otherwise ({@code 0.0001}, {@code 10}, {@code 123456}); {@code +Inf}, {@code -Inf} and {@code NaN}.
     * The digits are Java's {@link Double#toString}, shortest for the bounds written here (JDK 17's is not
     * for some doubles; none of them a bucket bound anyone uses).
     */
    static String goFloat(double value) {
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "+Inf" : "-Inf";
        }
        String sign = value < 0 || value == 0 && 1 / value < 0 ? "-" : "";
        if (value == 0) {
            return sign + "0";
        }
        BigDecimal decimal = new BigDecimal(Double.toString(Math.abs(value))).stripTrailingZeros();
        String digits = decimal.unscaledValue().toString();
        int exponent = digits.length() - 1 - decimal.scale(); // of the first digit
        StringBuilder out = new StringBuilder(sign);
        if (exponent < -4 || exponent >= 6) {
            out.append(digits.charAt(0));
            if (digits.length() > 1) {
                out.append('.').append(digits, 1, digits.length());
            }
            int magnitude = Math.abs(exponent);
            out.append(exponent < 0 ? "e-" : "e+").append(magnitude < 10 ? "0" : "").append(magnitude);
        } else if (exponent < 0) {
            out.append("0.").append("0".repeat(-exponent - 1)).append(digits);
        } else if (digits.length() <= exponent + 1) {
            out.append(digits).append("0".repeat(exponent + 1 - digits.length()));
        } else {
            out.append(digits, 0, exponent + 1).append('.').append(digits, exponent + 1, digits.length());
        }
        return out.toString();
    }

    /**
     * Whether gzip is acceptable (RFC 9110, 12.5.3): listed, as {@code gzip} or {@code x-gzip}, with a non-zero
     * q-value; or not listed and {@code *} is, which stands only for the codings not listed. An element whose
     * q-value is no qvalue ({@code q=0.0001}, {@code q=2}, {@code q=x}) is skipped, not guessed at, as the
     * error pages' {@code Accept} is read.
     */
    static boolean acceptsGzip(String acceptEncoding) {
        if (acceptEncoding == null) {
            return false;
        }
        Boolean listed = null;
        boolean anyCoding = false;
        for (String element : acceptEncoding.split(",")) {
            String[] parts = element.split(";");
            String coding = parts[0].trim();
            boolean gzip = coding.equalsIgnoreCase("gzip") || coding.equalsIgnoreCase("x-gzip");
            if (!gzip && !coding.equals("*")) {
                continue;
            }
            boolean refused = false;
            boolean valid = true;
            for (int i = 1; i < parts.length; i++) {
                String parameter = parts[i].trim();
                if (parameter.regionMatches(true, 0, "q=", 0, 2)) {
                    int q = ContentNegotiation.qvalue(parameter, 2, parameter.length());
                    valid = q >= 0;
                    refused = q == 0;
                }
            }
            if (!valid) {
                continue;
            }
            if (gzip) {
                listed = Boolean.TRUE.equals(listed) || !refused;
            } else {
                anyCoding |= !refused;
            }
        }
        return listed != null ? listed : anyCoding;
    }
}
