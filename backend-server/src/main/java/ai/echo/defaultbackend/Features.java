package ai.echo.defaultbackend;

/**
 * What one listener's {@link RoutingHandler}s add to the 1.5 answers; shared by all its connections. A null
 * part is a feature that is off.
 *
 * @param port            which listener this is
 * @param metrics         where answers are counted
 * @param metricsEndpoint serves {@code /metrics}; only ever set on the service port
 * @param errorPages      the error pages for {@code X-Code}; null when {@code X-Code} is not honoured
 * @param defaultVariant  the error page format when negotiation finds nothing acceptable
 * @param debug           echo the custom-error {@code X-*} headers on error pages
 * @param accessLog       the access log, or null when it is off
 */
record Features(Metrics.Port port, Metrics metrics, MetricsEndpoint metricsEndpoint, ErrorPageStore errorPages,
                Variant defaultVariant, boolean debug, AccessLog accessLog) {

    /** The 1.5 behaviour alone: nothing counted, no error pages, no log. */
    static final Features NONE = new Features(Metrics.Port.TRAFFIC, null, null, null, Variant.TEXT_HTML, false, null);
}
