package ai.echo.defaultbackend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.AsciiString;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Ticker;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers each request: {@code /healthz} gets 200 {@code ok}, everything else 404, and bad input 400, 414, 417 or
 * 431 with the connection closed. On top of that, per listener ({@link Features}): on the traffic port a
 * request with a valid {@code X-Code} gets that status and a negotiated error page; on the service port
 * {@code /metrics} gets a scrape (and only there: on the traffic port it is the plain 404). Every answer is
 * counted, and a sample of the traffic port's is handed to the access log.
 *
 * <p>Bodies are dropped as they stream in and never read: the answer goes out once the request has been
 * read to its end, so that pipelined requests are answered in order and the connection is ready for the
 * next one. A request that waits for {@code 100 Continue} gets its final answer at once instead, and the
 * connection is then closed rather than left holding a body nobody will read.
 *
 * <p>One instance per connection; all methods run on its event loop. It extends {@link InboundPassThrough}
 * rather than Netty's adapter, for the reason given there.
 */
final class RoutingHandler extends InboundPassThrough implements ChannelFutureListener {

    private static final Logger LOG = LoggerFactory.getLogger(RoutingHandler.class);
    private static final String HEALTHZ = "/healthz";
    /** How long a closing connection keeps draining what the client still sends, as Go's rstAvoidanceDelay. */
    private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private static final String METRICS = "/metrics";
    // The decoder's own constants: a lookup by one neither hashes the name again nor, when the client
    // spelled the name the usual way, compares its characters (the stored name is the same object).
    private static final AsciiString X_CODE = StrictRequestDecoder.knownName("X-Code");
    private static final AsciiString X_FORMAT = StrictRequestDecoder.knownName("X-Format");
    private static final AsciiString X_REQUEST_ID = StrictRequestDecoder.knownName("X-Request-ID");
    private static final AsciiString X_ORIGINAL_URI = StrictRequestDecoder.knownName("X-Original-URI");
    private static final AsciiString X_NAMESPACE = StrictRequestDecoder.knownName("X-Namespace");
    private static final AsciiString X_INGRESS_NAME = StrictRequestDecoder.knownName("X-Ingress-Name");
    private static final AsciiString X_SERVICE_NAME = StrictRequestDecoder.knownName("X-Service-Name");
    private static final AsciiString ACCEPT = StrictRequestDecoder.knownName("Accept");
    private static final AsciiString ACCEPT_ENCODING = StrictRequestDecoder.knownName("Accept-Encoding");
    private static final AsciiString USER_AGENT = StrictRequestDecoder.knownName("User-Agent");
    private static final AsciiString EXPECT = StrictRequestDecoder.knownName("Expect");
    private static final String CONTINUE = "100-continue";
    /**
     * The most of a request's body read before its answer, as Go's server reads it after a handler that read
     * none ({@code maxPostHandlerReadBytes}): a {@code Content-Length} of this or more, or a chunked body
     * longer, is answered at once with {@code Connection: close}, the rest unread.
     */
    static final long MAX_BODY_READ = 256 * 1024;
    /** The headers ingress-nginx sends with X-Code, echoed back by {@code --debug}. */
    private static final String[] DEBUG_HEADERS = {
        "X-Code", "X-Format", "X-Original-URI", "X-Namespace", "X-Ingress-Name", "X-Service-Name",
        "X-Service-Port", "X-Request-ID",
    };

    private static final PageTemplate.Placeholder[] PLACEHOLDER_LIST = PageTemplate.Placeholder.values();
    private static final int PLACEHOLDERS = PLACEHOLDER_LIST.length;
    /** The request header each placeholder shows, by ordinal; null for those that show no header. */
    private static final AsciiString[] PAGE_HEADERS = new AsciiString[PLACEHOLDERS];

    static {
        PAGE_HEADERS[PageTemplate.Placeholder.REQUEST_ID.ordinal()] = X_REQUEST_ID;
        PAGE_HEADERS[PageTemplate.Placeholder.ORIGINAL_URI.ordinal()] = X_ORIGINAL_URI;
        PAGE_HEADERS[PageTemplate.Placeholder.NAMESPACE.ordinal()] = X_NAMESPACE;
        PAGE_HEADERS[PageTemplate.Placeholder.INGRESS.ordinal()] = X_INGRESS_NAME;
        PAGE_HEADERS[PageTemplate.Placeholder.SERVICE.ordinal()] = X_SERVICE_NAME;
    }

    /** Each event loop's scratch for error pages. */
    private static final FastThreadLocal<PageTemplate.Scratch> PAGE = new FastThreadLocal<>() {
        @Override
        protected PageTemplate.Scratch initialValue() {
            return new PageTemplate.Scratch();
        }
    };

    /** How the pending request is answered. */
    private enum Route {
        /** A pre-encoded response of {@link Responses}: the 1.5 bytes. */
        FIXED,
        ERROR_PAGE,
        METRICS
    }

    private final Responses responses;
    private final ServerState state;
    private final ConnectionGuard guard;
    private final Features features;
    /** The event loop's clock: read when a request is answered, and at its head for the metrics or the log. */
    private Ticker ticker;
    /** Where this connection's requests are counted: its event loop's, when metrics are on. */
    private Metrics.Tally tally;

    /** The answer to the request being read, sent when its last content arrives; null between requests. */
    private Responses.Kind pending;
    private boolean pendingHead;
    private boolean pendingHttp10;
    private boolean pendingKeepAlive;
    /** The answer says {@code Connection: close} whatever the version: the body was too long to wait for. */
    private boolean pendingCloseHeader;
    /** Bytes of the pending request's body read so far. */
    private long bodyRead;
    private Route pendingRoute;
    private long pendingStart;
    private int pendingMethod;
    private int pendingCode;
    private Variant pendingVariant;
    /** The page of the pending error page, chosen with its values. */
    private PageTemplate pendingTemplate;
    /** Placeholder values of the pending error page, or the Accept and Accept-Encoding of a scrape. */
    private String[] pendingValues;
    /** The values an error page shows, for {@link #pendingValues}; made on the first X-Code request. */
    private String[] pageValues;
    private String pendingDebugHeaders;
    /** The pending request's access log fields, or null when it is not in the sample. */
    private String[] pendingLog;
    private long pendingLogMillis;
    /** The last X-Format or Accept negotiated on this connection, and its outcome. */
    private String lastAsked;
    private Variant lastVariant;
    /** Set once the connection is to be closed: anything read after that is dropped. */
    private boolean closing;
    private boolean needsFlush;

    /** The 1.5 behaviour alone. */
    RoutingHandler(Responses responses, ServerState state, ConnectionGuard guard) {
        this(responses, state, guard, Features.NONE);
    }

    RoutingHandler(Responses responses, ServerState state, ConnectionGuard guard, Features features) {
        this.responses = responses;
        this.state = state;
        this.guard = guard;
        this.features = features;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ticker = ctx.executor().ticker();
        guard.attach(ctx);
        if (features.metrics() != null) {
            // Added on the connection's event loop, which counts its requests from now on.
            tally = features.metrics().tally();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        guard.start();
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        guard.cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        guard.cancel();
    }

    /**
     * On {@link ConnectionGuard#DRAIN}, an idle connection is closed, and one that has sent nothing once it
     * is 5 s old (now, or by the guard's timer); a busy one ends after its answer.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ConnectionGuard.DRAIN && guard.drain()) {
            ConnectionGuard.closeOnceWritten(ctx);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (closing) {
                return;
            }
            if (msg instanceof HttpRequest) {
                onHead(ctx, (HttpRequest) msg);
            }
            if (!closing && msg instanceof HttpContent) {
                DecoderResult result = ((HttpContent) msg).decoderResult();
                if (result.isFailure()) {
                    // A broken body (bad chunk size, truncated chunk): the head was fine, the request is not.
                    reject(ctx, result.cause(), pendingMethod);
                } else if (msg instanceof LastHttpContent && pending != null) {
                    answer(ctx, true);
                } else if (pending != null
                        && (bodyRead += ((HttpContent) msg).content().readableBytes()) > MAX_BODY_READ) {
                    answerWithoutTheBody(ctx); // chunked, and more than Go reads
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHead(ChannelHandlerContext ctx, HttpRequest request) {
        guard.headReceived();
        DecoderResult result = request.decoderResult();
        if (result.isFailure()) {
            // The head could not be read: what method it has, if any, is not known.
            reject(ctx, result.cause(), Metrics.OTHER_METHOD_INDEX);
            return;
        }
        HttpVersion version = request.protocolVersion();
        if (version.majorVersion() != 1) {
            reject(ctx, null, Metrics.methodIndex(request.method()));
            return;
        }
        boolean http10 = version.minorVersion() == 0;
        if (!StrictRequestDecoder.RequestHeaders.hasValidHost(request.headers(), !http10)) {
            // RFC 9112 3.2: exactly one Host in HTTP/1.1, never two in any version, and a valid one (as Go)
            reject(ctx, null, Metrics.methodIndex(request.method()));
            return;
        }
        String uri = request.uri();
        if (!isValidTarget(uri)) {
            reject(ctx, null, Metrics.methodIndex(request.method()));
            return;
        }
        String expect = request.headers().get(EXPECT);
        if (expect != null && !expect.isEmpty() && !hasToken(expect, CONTINUE)) {
            // Go's server (1.5) answers an expectation it does not know 417 and closes (sendExpectationFailed),
            // as RFC 9110 (10.1.1) allows, before its handler sees the request.
            refuse(ctx, Responses.Kind.EXPECTATION_FAILED, http10, HttpMethod.HEAD.equals(request.method()),
                    Metrics.methodIndex(request.method()));
            return;
        }
        boolean healthz = isHealthz(uri);
        pending = healthz ? Responses.Kind.OK : Responses.Kind.NOT_FOUND;
        pendingRoute = Route.FIXED;
        if (!healthz) {
            if (features.metricsEndpoint() != null && hasPath(uri, METRICS)) {
                pendingRoute = Route.METRICS;
                pendingValues = new String[] {
                    listValue(request.headers(), ACCEPT),
                    listValue(request.headers(), ACCEPT_ENCODING),
                };
            } else if (features.errorPages() != null) {
                prepareErrorPage(request);
            }
        }
        if (features.metrics() != null || features.accessLog() != null) {
            pendingStart = ticker.nanoTime();
            pendingMethod = Metrics.methodIndex(request.method());
        }
        // The ceiling is checked before anything is captured, so a flood past it costs a draw and a CAS.
        if (features.accessLog() != null && features.accessLog().sample() && features.accessLog().tryAcquire()) {
            pendingLogMillis = System.currentTimeMillis();
            pendingLog = new String[] {
                remoteAddress(ctx.channel().remoteAddress()),
                request.method().name(),
                uri,
                request.headers().get(USER_AGENT),
                request.headers().get(X_REQUEST_ID),
                request.headers().get(X_CODE),
            };
        }
        pendingHead = HttpMethod.HEAD.equals(request.method());
        pendingHttp10 = http10;
        pendingKeepAlive = HttpUtil.isKeepAlive(request) && !state.isDraining();
        // Netty's HttpUtil.is100ContinueExpected, from the value already read: HTTP/1.0 has no 100 Continue.
        if (expect != null && !http10 && CONTINUE.equalsIgnoreCase(expect)
                && (HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0)) {
            // Answer now, without 100 Continue; the body the client may still send is not worth reading.
            pendingKeepAlive = false;
            answer(ctx, false);
            return;
        }
        bodyRead = 0;
        pendingCloseHeader = false;
        // A simple head (a full request) has no body; one Netty read may, announced by its Content-Length.
        if (!(request instanceof LastHttpContent) && HttpUtil.getContentLength(request, 0L) >= MAX_BODY_READ) {
            answerWithoutTheBody(ctx);
        }
    }

    /**
     * Answers now, with {@code Connection: close}, and leaves the rest of the body unread: as Go's server
     * (1.5) does for a body of {@link #MAX_BODY_READ} or more ({@code requestTooLarge}), which it does not
     * read before answering.
     */
    private void answerWithoutTheBody(ChannelHandlerContext ctx) {
        pendingKeepAlive = false;
        pendingCloseHeader = true;
        answer(ctx, false);
    }

    /** @param requestRead whether the request has been read to its end (no body is still on its way) */
    private void answer(ChannelHandlerContext ctx, boolean requestRead) {
        // The one clock read of the answer: the Date, the metrics' duration and the idle timeout's start.
        long now = ticker.nanoTime();
        Responses.Connection connection;
        if (pendingKeepAlive && state.isDraining()) {
            pendingKeepAlive = false;
        }
        if (pendingKeepAlive) {
            connection = pendingHttp10 ? Responses.Connection.KEEP_ALIVE : Responses.Connection.DEFAULT;
        } else {
            connection = pendingHttp10 && !pendingCloseHeader ? Responses.Connection.DEFAULT
                    : Responses.Connection.CLOSE;
        }
        ByteBuf response;
        int status;
        switch (pendingRoute) {
            case ERROR_PAGE -> {
                response = errorPage(ctx, now, connection);
                status = pendingCode;
            }
            case METRICS -> {
                MetricsEndpoint.Scrape scrape = scrape();
                status = scrape != null ? 200 : 500;
                response = scrape != null ? scrapeResponse(ctx, now, connection, scrape)
                        : responses.build(ctx.alloc(), ticker, now, 500, pendingHttp10, connection, pendingHead,
                                Variant.TEXT_PLAIN.contentTypeLine, "",
                                "metrics scrape failed".getBytes(StandardCharsets.US_ASCII));
            }
            default -> {
                response = responses.get(ctx.alloc(), ticker, now, pending, pendingHttp10, connection, pendingHead);
                status = pending.status;
            }
        }
        if (features.metrics() != null || pendingLog != null) {
            record(now, status, response.readableBytes());
        }
        pending = null;
        pendingValues = null;
        pendingTemplate = null;
        pendingDebugHeaders = null;
        if (pendingKeepAlive) {
            guard.requestComplete(now);
            ctx.write(response, ctx.voidPromise());
            needsFlush = true;
        } else {
            // Linger only when unread input is known, as Go does: a body not read, or a pipelined request.
            closeAfter(ctx, response, !requestRead || hasBufferedInput(ctx));
        }
    }

    private static boolean hasBufferedInput(ChannelHandlerContext ctx) {
        StrictRequestDecoder decoder = ctx.pipeline().get(StrictRequestDecoder.class);
        return decoder != null && decoder.hasBufferedInput();
    }

    /**
     * A list field's value, its lines joined with ", " as RFC 9110 (5.3) reads a field sent on several lines:
     * {@code Accept: application/json;q=0.1} then {@code Accept: text/plain} asks for text. The one line
     * nearly every client sends is read as it is, with no list made.
     *
     * @param name one of the decoder's kept names ({@link StrictRequestDecoder#knownName}), whose second line
     *             the decoder's headers note
     */
    private static String listValue(HttpHeaders headers, AsciiString name) {
        if (headers instanceof StrictRequestDecoder.RequestHeaders
                && !((StrictRequestDecoder.RequestHeaders) headers).sentTwice(name)) {
            return headers.get(name);
        }
        List<String> lines = headers.getAll(name);
        return lines.isEmpty() ? null : lines.size() == 1 ? lines.get(0) : String.join(", ", lines);
    }

    private void prepareErrorPage(HttpRequest request) {
        HttpHeaders headers = request.headers();
        int code = StatusText.parseErrorCode(headers.get(X_CODE));
        if (code == 0) {
            return;
        }
        pendingRoute = Route.ERROR_PAGE;
        pendingCode = code;
        String format = headers.get(X_FORMAT);
        String asked = format != null && !format.isBlank() ? format : listValue(headers, ACCEPT);
        if (asked == null || !asked.equals(lastAsked)) {
            // A connection from ingress-nginx sends the same Accept again and again: negotiate it once.
            lastAsked = asked;
            lastVariant = ContentNegotiation.choose(asked, features.defaultVariant());
        }
        pendingVariant = lastVariant;
        PageTemplate template = features.errorPages().current().find(code, lastVariant.format);
        pendingTemplate = template;
        if (template.fixed() == null) {
            String[] values = pageValues;
            if (values == null) {
                // One array per connection that asks for error pages, refilled for each: answer() reads it
                // before the next request's head is handled.
                values = new String[PLACEHOLDERS];
                pageValues = values;
            }
            values[PageTemplate.Placeholder.CODE.ordinal()] = StatusText.code(code);
            values[PageTemplate.Placeholder.REASON.ordinal()] = StatusText.reason(code);
            // Only the headers the page shows are looked up and sanitised: the built-in pages show the
            // request ID alone.
            for (PageTemplate.Placeholder placeholder : PLACEHOLDER_LIST) {
                AsciiString header = PAGE_HEADERS[placeholder.ordinal()];
                if (header != null) {
                    values[placeholder.ordinal()] = template.shows(placeholder) ? pageValue(headers, header) : null;
                }
            }
            pendingValues = values;
        }
        if (features.debug()) {
            StringBuilder echo = new StringBuilder();
            for (String name : DEBUG_HEADERS) {
                String value = headers.get(name);
                if (value != null) {
                    echo.append(name).append(": ").append(Escape.headerValue(value)).append("\r\n");
                }
            }
            pendingDebugHeaders = echo.toString();
        }
    }

    private static String pageValue(HttpHeaders headers, AsciiString name) {
        return Escape.sanitize(headers.get(name), Escape.MAX_VALUE_CHARS);
    }

    private ByteBuf errorPage(ChannelHandlerContext ctx, long now, Responses.Connection connection) {
        PageTemplate template = pendingTemplate;
        CharSequence extraHeaders = pendingDebugHeaders == null ? "" : pendingDebugHeaders;
        byte[] fixed = template.fixed();
        if (fixed != null) {
            return responses.build(ctx.alloc(), ticker, now, pendingCode, pendingHttp10, connection, pendingHead,
                    pendingVariant.negotiatedContentTypeLine, extraHeaders, fixed);
        }
        // The request's values are escaped into this event loop's scratch, then the page is written from its
        // encoded parts and those values straight into the response.
        PageTemplate.Scratch scratch = PAGE.get();
        int length = template.prepare(pendingValues, scratch);
        ByteBuf response = responses.start(ctx.alloc(), ticker, now, pendingCode, pendingHttp10, connection,
                pendingHead, pendingVariant.negotiatedContentTypeLine, extraHeaders, length);
        if (!pendingHead) {
            template.writeTo(response, scratch);
        }
        if (!scratch.worthKeeping()) {
            PAGE.remove();
        }
        return response;
    }

    /**
     * Encodes a scrape here, on the service port's own event loop: a few milliseconds, never on traffic.
     *
     * @return the scrape, or null when it failed (logged here, answered and counted as a 500)
     */
    private MetricsEndpoint.Scrape scrape() {
        try {
            return features.metricsEndpoint().scrape(pendingValues[0], pendingValues[1]);
        } catch (RuntimeException e) {
            LOG.warn("metrics scrape failed: {}", Flags.quote(String.valueOf(e)));
            return null;
        }
    }

    private ByteBuf scrapeResponse(ChannelHandlerContext ctx, long now, Responses.Connection connection,
                                   MetricsEndpoint.Scrape scrape) {
        return responses.build(ctx.alloc(), ticker, now, 200, pendingHttp10, connection, pendingHead,
                Responses.contentTypeLine(scrape.contentType()),
                scrape.gzip() ? "Content-Encoding: gzip\r\nVary: Accept, Accept-Encoding\r\n"
                        : "Vary: Accept, Accept-Encoding\r\n", scrape.body());
    }

    private void record(long now, int status, int bytes) {
        long nanos = now - pendingStart;
        if (features.metrics() != null) {
            Metrics.Tally counts = tally();
            counts.request(features.port(), status, pendingMethod);
            if (pendingRoute == Route.FIXED && pending == Responses.Kind.NOT_FOUND
                    && features.port() == Metrics.Port.TRAFFIC) {
                counts.legacyNotFound(pendingHttp10, nanos);
            } else if (pendingRoute == Route.ERROR_PAGE) {
                counts.customError(pendingCode, pendingVariant.format);
            }
        }
        String[] log = pendingLog;
        if (log != null) {
            pendingLog = null;
            features.accessLog().submit(new AccessLog.Entry(pendingLogMillis, log[0], log[1], log[2], status, bytes,
                    nanos, log[3], log[4], log[5]));
        }
    }

    /** Where this connection counts: its event loop's tally. */
    private Metrics.Tally tally() {
        Metrics.Tally counts = tally;
        if (counts.owner != Thread.currentThread()) {
            // Answered off the thread that built the pipeline: only in tests, and counted all the same.
            counts = tally = features.metrics().tally();
        }
        return counts;
    }

    /**
     * The client's address as people write it: IPv6 compressed ({@code ::1}, {@code 2001:db8::1}), where
     * getHostAddress spells out every group ({@code 0:0:0:0:0:0:0:1}); a scope is left out.
     */
    static String remoteAddress(SocketAddress address) {
        if (address instanceof InetSocketAddress && ((InetSocketAddress) address).getAddress() != null) {
            return NetUtil.toAddressString(((InetSocketAddress) address).getAddress());
        }
        return String.valueOf(address);
    }

    /**
     * Answers 400, 414 or 431 and closes. Counted as answered, by the request's method when its head could be
     * read ({@code methodIndex}), but neither under 1.5's names nor in the access log: 1.5 counted its
     * catch-all 404s only, and the log has no reliable method or path to show.
     */
    private void reject(ChannelHandlerContext ctx, Throwable cause, int methodIndex) {
        Responses.Kind kind = Responses.Kind.BAD_REQUEST;
        if (cause instanceof TooLongHttpLineException) {
            kind = Responses.Kind.URI_TOO_LONG;
        } else if (cause instanceof TooLongHttpHeaderException) {
            kind = Responses.Kind.HEADERS_TOO_LARGE;
        }
        refuse(ctx, kind, false, false, methodIndex);
    }

    /**
     * Answers {@code kind} with {@code Connection: close} and closes, lingering: counted as {@link #reject}
     * counts, a connection closed for a bad request. Go writes its 400s as HTTP/1.1 whatever the request's
     * version, and its 417 in the request's version.
     */
    private void refuse(ChannelHandlerContext ctx, Responses.Kind kind, boolean http10, boolean head,
                        int methodIndex) {
        state.badRequest();
        if (features.metrics() != null) {
            tally().request(features.port(), kind.status, methodIndex);
        }
        pending = null;
        closeAfter(ctx, responses.get(ctx.alloc(), ticker, ticker.nanoTime(), kind, http10, Responses.Connection.CLOSE,
                head), true);
    }

    /**
     * Whether {@code value} holds {@code token} (lower case) as Go's {@code hasToken} finds it: without regard
     * to case, between the value's ends, spaces, tabs or commas. Go asks it of the first {@code Expect} value
     * to tell 100-continue from an expectation it does not know.
     */
    static boolean hasToken(String value, String token) {
        for (int at = 0; at + token.length() <= value.length(); at++) {
            int end = at + token.length();
            if ((at == 0 || isTokenBoundary(value.charAt(at - 1)))
                    && (end == value.length() || isTokenBoundary(value.charAt(end)))
                    && value.regionMatches(true, at, token, 0, token.length())) {
                return true;
            }
        }
        return false;
    }

    private static boolean isTokenBoundary(char c) {
        return c == ' ' || c == ',' || c == '\t';
    }

    /**
     * Sends the last response and closes. With {@code linger}, the way Go and nginx do ("lingering close"):
     * half-close first, then drop whatever the client still sends for a moment. Closing a socket that has
     * unread bytes makes the kernel send a reset, which can destroy the response before the client reads
     * it, exactly when it matters most: after a 400 for a request whose rest is still arriving. Lingering
     * is for when unread input is known or likely: after a 400, a body not waited for, or a pipelined
     * request behind a {@code Connection: close}; a plain last request is closed at once (half-closing
     * costs Netty an exception and the connection a timer).
     */
    private void closeAfter(ChannelHandlerContext ctx, ByteBuf response, boolean linger) {
        closing = true;
        needsFlush = false;
        if (!linger) {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.channel().config().setAutoRead(true);
        ctx.writeAndFlush(response).addListener(this);
    }

    /** The last response is written (or failed): half-close, and let the guard's timer end the linger. */
    @Override
    public void operationComplete(ChannelFuture future) {
        Channel channel = future.channel();
        if (!future.isSuccess() || !(channel instanceof DuplexChannel)) {
            channel.close();
            return;
        }
        ((DuplexChannel) channel).shutdownOutput();
        guard.closeAfterLinger(LINGER_NANOS);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        guard.readComplete();
        if (needsFlush) {
            needsFlush = false;
            ctx.flush();
            if (!ctx.channel().isWritable()) {
                // The client is not reading what it asked for: stop reading its requests until it does.
                ctx.channel().config().setAutoRead(false);
            }
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        boolean writable = ctx.channel().isWritable();
        guard.writabilityChanged(writable);
        if (writable && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof IOException)) {
            LOG.warn("closing a connection after an unexpected error: {}", cause.getClass().getName());
        }
        ctx.close();
    }

    /**
     * The request target, checked for what can reach here: Netty has split the request line on whitespace,
     * so what is left to refuse is control characters and bytes outside US-ASCII.
     */
    static boolean isValidTarget(String uri) {
        if (uri.isEmpty()) {
            return false;
        }
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                return false;
            }
        }
        return true;
    }

    /** Whether the target's path is exactly {@code /healthz}, whatever the query, in origin or absolute form. */
    static boolean isHealthz(String uri) {
        return hasPath(uri, HEALTHZ);
    }

    /**
     * Whether the target's path is exactly {@code path}, whatever the query, in origin or absolute form. The
     * path of an absolute-form target is what RFC 3986 (3) makes of it, as Go's URL parser does: after
     * {@code scheme://}, the authority runs to the first {@code /}, {@code ?} or {@code #}, and the path from
     * there to the first {@code ?}; in {@code http://a?/healthz} it is empty, {@code /healthz} the query. A
     * request's target has no fragment (RFC 9112, 3.2), and Go's server reads it so ({@code ParseRequestURI}):
     * a {@code #} is part of the path, and {@code /healthz#x} is not {@code /healthz}, as in 1.5.
     */
    static boolean hasPath(String uri, String path) {
        int pathStart = 0;
        if (uri.charAt(0) != '/') {
            pathStart = authorityStart(uri);
            if (pathStart < 0) {
                return false; // "*" or authority form
            }
            while (pathStart < uri.length() && uri.charAt(pathStart) != '/' && uri.charAt(pathStart) != '?'
                    && uri.charAt(pathStart) != '#') {
                pathStart++;
            }
            if (pathStart == uri.length() || uri.charAt(pathStart) != '/') {
                return false; // an empty path
            }
        }
        if (!uri.startsWith(path, pathStart)) {
            return false;
        }
        int end = pathStart + path.length();
        return end == uri.length() || uri.charAt(end) == '?';
    }

    /**
     * Where the authority of an absolute-form target begins: past its scheme (RFC 3986, 3.1: a letter, then
     * letters, digits, {@code +}, {@code -} and {@code .}) and {@code ://}; -1 if the target does not begin so.
     */
    private static int authorityStart(String uri) {
        int i = 0;
        while (i < uri.length() && isSchemeChar(uri.charAt(i), i == 0)) {
            i++;
        }
        return i > 0 && uri.startsWith("://", i) ? i + 3 : -1;
    }

    private static boolean isSchemeChar(char c, boolean first) {
        boolean letter = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
        return letter || !first && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.');
    }
}
