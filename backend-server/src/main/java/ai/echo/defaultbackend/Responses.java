package ai.echo.defaultbackend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Ticker;
import java.nio.charset.StandardCharsets;
import java.util.function.LongSupplier;

/**
 * Every response the server sends, pre-encoded byte for byte as 1.5 sends them: status line, {@code Date},
 * {@code Content-Length}, {@code Content-Type}, then {@code Connection} when there is one to say, in Go's
 * order, and no {@code Server}. Only the {@code Date} changes, once a second, so each event-loop thread keeps
 * the encoded responses of the current second and hands out retained duplicates of them: answering a
 * request allocates no buffer and encodes nothing.
 *
 * <p>Nor does it read the wall clock. The caller passes the time it read anyway for the request (on its
 * event loop's {@link Ticker}), and the wall clock is read once a second: when that time reaches the end
 * of the second last read, or when the ticker is another one. The end is reckoned on the safe side of the
 * wall clock's millisecond, so a response never carries the previous second's {@code Date} once the next
 * has begun; in the last millisecond of a second the clock is read for each response. With the idle
 * timeout taking its start from the same read, a keep-alive request reads a clock three times instead of
 * five, at about 24 ns each: under keep-alive load the clock's share of the server's core went from
 * 1.3-1.5 % to 0.9-1.0 % ({@code perf record} on that core, three alternating runs each).
 */
final class Responses {

    /** The fixed answers: status, reason phrase and body. */
    enum Kind {
        OK(200, "OK", "ok"),
        NOT_FOUND(404, "Not Found", "default backend - 404"),
        BAD_REQUEST(400, "Bad Request", "400 Bad Request"),
        URI_TOO_LONG(414, "URI Too Long", "414 URI Too Long"),
        HEADERS_TOO_LARGE(431, "Request Header Fields Too Large", "431 Request Header Fields Too Large"),
        /**
         * Go's answer to an {@code Expect} it does not know ({@code sendExpectationFailed}): its handler sets
         * {@code Connection: close} in the header map, which Go writes first, before the {@code Date},
         * {@code Content-Length} and sniffed {@code Content-Type} it adds itself; no body, and for a
         * {@code HEAD} no {@code Content-Length} either (Go sets it only once a handler is done, and for a
         * {@code HEAD} only if it wrote something).
         */
        EXPECTATION_FAILED(417, "Expectation Failed", "", true);

        final int status;
        final String reason;
        final String body;
        /** Whether {@code Connection} comes right after the status line, as a Go handler's own header. */
        final boolean connectionFirst;

        Kind(int status, String reason, String body) {
            this(status, reason, body, false);
        }

        Kind(int status, String reason, String body, boolean connectionFirst) {
            this.status = status;
            this.reason = reason;
            this.body = body;
            this.connectionFirst = connectionFirst;
        }
    }

    /** What the response says of the connection. */
    enum Connection {
        /** Nothing: the protocol's default applies (HTTP/1.1 keeps the connection, HTTP/1.0 closes it). */
        DEFAULT(""),
        CLOSE("Connection: close\r\n"),
        /** Only for an HTTP/1.0 client that asked for keep-alive. */
        KEEP_ALIVE("Connection: keep-alive\r\n");

        final String header;
        final byte[] bytes;

        Connection(String header) {
            this.header = header;
            this.bytes = ascii(header);
        }
    }

    private static final String[] DAYS = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    private static final String[] MONTHS = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    };
    private static final byte[] CONTENT_LENGTH = ascii("\r\nContent-Length: ");
    private static final short CRLF = ('\r' << 8) | '\n';
    private static final int VARIANTS = Kind.values().length * 2 * Connection.values().length * 2;

    /** Status line up to and including {@code "Date: "}, per variant. */
    private final byte[][] heads = new byte[VARIANTS][];
    /** Everything after the date value, per variant. */
    private final byte[][] tails = new byte[VARIANTS][];
    /** Milliseconds since the epoch: the system clock, or a test's. */
    private final LongSupplier wallClock;

    private final FastThreadLocal<SecondCache> caches = new FastThreadLocal<>() {
        @Override
        protected SecondCache initialValue() {
            return new SecondCache();
        }

        @Override
        protected void onRemoval(SecondCache cache) {
            cache.clear();
        }
    };

    Responses() {
        this(System::currentTimeMillis);
    }

    Responses(LongSupplier wallClock) {
        this.wallClock = wallClock;
        for (Kind kind : Kind.values()) {
            for (int http10 = 0; http10 < 2; http10++) {
                for (Connection connection : Connection.values()) {
                    for (int head = 0; head < 2; head++) {
                        int index = index(kind, http10 == 1, connection, head == 1);
                        if (kind.connectionFirst) {
                            heads[index] = ascii(statusLineText(kind.status, kind.reason, http10 == 1)
                                    + connection.header + "Date: ");
                            tails[index] = ascii((head == 1 && kind.body.isEmpty() ? ""
                                    : "\r\nContent-Length: " + kind.body.length())
                                    + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                                    + (head == 1 ? "" : kind.body));
                            continue;
                        }
                        heads[index] = statusLine(kind.status, kind.reason, http10 == 1);
                        tails[index] = ascii("\r\nContent-Length: " + kind.body.length()
                                + "\r\nContent-Type: text/plain; charset=utf-8\r\n" + connection.header + "\r\n"
                                + (head == 1 ? "" : kind.body));
                    }
                }
            }
        }
    }

    /**
     * The complete response, as a buffer the caller owns (and must write or release).
     *
     * @param ticker the event loop's ticker
     * @param now    the ticker's time, read for this request
     * @param head   true for a HEAD request: same headers, including Content-Length, and no body
     */
    ByteBuf get(ByteBufAllocator alloc, Ticker ticker, long now, Kind kind, boolean http10, Connection connection,
                boolean head) {
        SecondCache cache = caches.get();
        cache.date(this, ticker, now);
        return cache.get(this, alloc, index(kind, http10, connection, head));
    }

    /**
     * A response made for one request (an error page, a scrape), laid out as the fixed ones: status line,
     * {@code Date}, {@code Content-Length}, {@code Content-Type}, the extra headers, {@code Connection}.
     *
     * @param status          200, or a code from 400 to 599; its reason phrase is the server's own
     * @param contentTypeLine from {@link #contentTypeLine}
     * @param extraHeaders    complete header lines, each ending in CRLF, already safe to send; or empty
     * @param head            true for a HEAD request: the same headers and no body
     */
    ByteBuf build(ByteBufAllocator alloc, Ticker ticker, long now, int status, boolean http10, Connection connection,
                  boolean head, byte[] contentTypeLine, CharSequence extraHeaders, byte[] body) {
        ByteBuf buf = start(alloc, ticker, now, status, http10, connection, head, contentTypeLine, extraHeaders,
                body.length);
        if (!head) {
            buf.writeBytes(body);
        }
        return buf;
    }

    /**
     * As {@link #build(ByteBufAllocator, Ticker, long, int, boolean, Connection, boolean, byte[], CharSequence,
     * byte[])}, without the body: the status line and headers, in a buffer with room for the
     * {@code bodyLength} bytes that the caller writes next (unless {@code head}).
     */
    ByteBuf start(ByteBufAllocator alloc, Ticker ticker, long now, int status, boolean http10, Connection connection,
                  boolean head, byte[] contentTypeLine, CharSequence extraHeaders, int bodyLength) {
        SecondCache cache = caches.get();
        byte[] date = cache.date(this, ticker, now);
        byte[] statusLine = cache.statusLine(status, http10);
        ByteBuf buf = alloc.buffer(statusLine.length + date.length + CONTENT_LENGTH.length + 10
                + contentTypeLine.length + extraHeaders.length() + connection.bytes.length + 2
                + (head ? 0 : bodyLength));
        buf.writeBytes(statusLine).writeBytes(date).writeBytes(CONTENT_LENGTH);
        writeDecimal(buf, bodyLength).writeBytes(contentTypeLine);
        if (extraHeaders.length() > 0) {
            ByteBufUtil.writeAscii(buf, extraHeaders);
        }
        return buf.writeBytes(connection.bytes).writeShort(CRLF);
    }

    /** The bytes that follow the Content-Length value for a response of this type. */
    static byte[] contentTypeLine(String contentType) {
        return ascii("\r\nContent-Type: " + contentType + "\r\n");
    }

    /** A response's status line and the start of its Date header, up to {@code "Date: "}. */
    private static byte[] statusLine(int status, String reason, boolean http10) {
        return ascii(statusLineText(status, reason, http10) + "Date: ");
    }

    /** {@code HTTP/1.x <status> <reason>} and its CRLF. */
    private static String statusLineText(int status, String reason, boolean http10) {
        return (http10 ? "HTTP/1.0 " : "HTTP/1.1 ") + status + " " + reason + "\r\n";
    }

    private static ByteBuf writeDecimal(ByteBuf buf, int value) {
        int digits = 1;
        for (int rest = value / 10; rest > 0; rest /= 10) {
            digits++;
        }
        int end = buf.writerIndex() + digits;
        buf.ensureWritable(digits);
        for (int i = end - 1, rest = value; i >= end - digits; i--, rest /= 10) {
            buf.setByte(i, '0' + rest % 10);
        }
        return buf.writerIndex(end);
    }

    private static int index(Kind kind, boolean http10, Connection connection, boolean head) {
        return ((kind.ordinal() * 2 + (http10 ? 1 : 0)) * Connection.values().length + connection.ordinal()) * 2
                + (head ? 1 : 0);
    }

    /**
     * The IMF-fixdate of RFC 9110 (Go's {@code http.TimeFormat}), e.g. {@code Sun, 06 Nov 1994 08:49:37 GMT},
     * for a second from 1970 on. Computed by hand, without java.time: a locale-aware formatter would load
     * the JDK's locale data on the first request, and java.time alone is about a hundred classes (loaded,
     * or mapped from the AOT cache, in every pod) for what is arithmetic on whole days.
     */
    static String httpDate(long epochSecond) {
        long days = Math.floorDiv(epochSecond, 86_400L);
        int secondOfDay = (int) Math.floorMod(epochSecond, 86_400L);
        // Day 0, 1970-01-01, was a Thursday (index 3 of DAYS, which starts on Monday).
        StringBuilder date = new StringBuilder(29).append(DAYS[(int) Math.floorMod(days + 3, 7L)]).append(", ");
        // Civil date from a day count in the proleptic Gregorian calendar, with March as the first month of
        // the computed year so that the leap day falls last (H. Hinnant, "chrono-compatible low-level date
        // algorithms", days_from_civil's inverse).
        long shifted = days + 719_468L; // days from 0000-03-01
        long era = Math.floorDiv(shifted, 146_097L); // 400-year cycles
        long dayOfEra = shifted - era * 146_097L;
        long yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long monthFromMarch = (5 * dayOfYear + 2) / 153;
        int dayOfMonth = (int) (dayOfYear - (153 * monthFromMarch + 2) / 5 + 1);
        int month = (int) (monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9);
        long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
        twoDigits(date, dayOfMonth).append(' ').append(MONTHS[month - 1]).append(' ').append(year).append(' ');
        twoDigits(date, secondOfDay / 3_600).append(':');
        twoDigits(date, secondOfDay / 60 % 60).append(':');
        return twoDigits(date, secondOfDay % 60).append(" GMT").toString();
    }

    private static StringBuilder twoDigits(StringBuilder text, int value) {
        return text.append((char) ('0' + value / 10)).append((char) ('0' + value % 10));
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** One thread's responses for one second. Used only by its own thread. */
    private static final class SecondCache {
        private final ByteBuf[] encoded = new ByteBuf[VARIANTS];
        /** The status lines of the responses made per request, up to {@code "Date: "}, by status and version. */
        private byte[][] statusLines;
        private long second = Long.MIN_VALUE;
        private byte[] date;
        /** The ticker of the last caller, and the time on it until which {@link #second} is sure to hold. */
        private Ticker ticker;
        private long validUntil;

        /** The Date of the second {@code now} falls in, reading the wall clock only when it may have moved on. */
        byte[] date(Responses responses, Ticker ticker, long now) {
            if (ticker != this.ticker || now - validUntil >= 0) {
                long millis = responses.wallClock.getAsLong();
                long second = Math.floorDiv(millis, 1000);
                if (second != this.second) {
                    clear();
                    this.second = second;
                    date = ascii(httpDate(second));
                }
                // The clock read came after now and counts whole milliseconds, so the second may end up to a
                // millisecond before (999 - ms) ms from now, never after.
                this.ticker = ticker;
                validUntil = now + (999 - Math.floorMod(millis, 1000)) * 1_000_000L;
            }
            return date;
        }

        /**
         * A response of the current second; {@link #date} must have been called for this request.
         *
         * <p>With Netty's pooled allocator (the image's) the duplicate handed out is a recycled object, so a
         * response allocates nothing at all; with any other it is a new duplicate per response.
         */
        ByteBuf get(Responses responses, ByteBufAllocator alloc, int index) {
            ByteBuf buf = encoded[index];
            if (buf == null) {
                byte[] head = responses.heads[index];
                byte[] tail = responses.tails[index];
                buf = alloc.directBuffer(head.length + date.length + tail.length)
                        .writeBytes(head).writeBytes(date).writeBytes(tail);
                encoded[index] = buf;
            }
            return buf.retainedDuplicate();
        }

        /** The status line up to {@code "Date: "} of a status that {@link #build} and {@link #start} take. */
        byte[] statusLine(int status, boolean http10) {
            if (status != 200 && (status < 400 || status > 599)) {
                throw new IllegalArgumentException("no status line for status " + status);
            }
            if (statusLines == null) {
                statusLines = new byte[2 * 600][];
            }
            int index = 2 * status + (http10 ? 1 : 0);
            byte[] line = statusLines[index];
            if (line == null) {
                line = Responses.statusLine(status, status == 200 ? "OK" : StatusText.reason(status), http10);
                statusLines[index] = line;
            }
            return line;
        }

        void clear() {
            for (int i = 0; i < encoded.length; i++) {
                if (encoded[i] != null) {
                    encoded[i].release();
                    encoded[i] = null;
                }
            }
        }
    }
}
