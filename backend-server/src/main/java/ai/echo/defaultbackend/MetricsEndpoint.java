package ai.echo.defaultbackend;

import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.zip.GZIPOutputStream;

/**
 * {@code /metrics} on the service port: a scrape of the registry in the Prometheus text format 0.0.4, or
 * OpenMetrics 1.0 when the scraper's {@code Accept} names {@code application/openmetrics-text}, gzipped when
 * its {@code Accept-Encoding} allows gzip. Runs on the service port's own event loop, so a scrape never
 * delays traffic.
 */
final class MetricsEndpoint {

    /** One encoded scrape. */
    record Scrape(String contentType, boolean gzip, byte[] body) {
    }

    private final Metrics metrics;
    private final ExpositionFormatWriter text = PrometheusTextFormatWriter.create();
    private final ExpositionFormatWriter openMetrics = OpenMetricsTextFormatWriter.create();

    MetricsEndpoint(Metrics metrics) {
        this.metrics = metrics;
    }

    Scrape scrape(String accept, String acceptEncoding) {
        ExpositionFormatWriter writer = accept != null && accept.contains("application/openmetrics-text")
                ? openMetrics : text;
        boolean gzip = acceptsGzip(acceptEncoding);
        PrometheusRegistry registry = metrics.scrapeRegistry();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 * 1024);
        try {
            if (gzip) {
                try (GZIPOutputStream out = new GZIPOutputStream(bytes, 8192)) {
                    writer.write(out, registry.scrape());
                }
            } else {
                writer.write(bytes, registry.scrape());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return new Scrape(writer.getContentType(), gzip, bytes.toByteArray());
    }

    /** Whether gzip (or {@code *}) is listed with a non-zero q-value. */
    static boolean acceptsGzip(String acceptEncoding) {
        if (acceptEncoding == null) {
            return false;
        }
        for (String element : acceptEncoding.split(",")) {
            String[] parts = element.split(";");
            String coding = parts[0].trim();
            if (!coding.equalsIgnoreCase("gzip") && !coding.equalsIgnoreCase("x-gzip") && !coding.equals("*")) {
                continue;
            }
            boolean refused = false;
            for (int i = 1; i < parts.length; i++) {
                String parameter = parts[i].trim();
                if (parameter.regionMatches(true, 0, "q=", 0, 2)) {
                    refused = parameter.substring(2).trim().matches("0(\\.0{0,3})?");
                }
            }
            if (!refused) {
                return true;
            }
        }
        return false;
    }
}
