package ai.echo.defaultbackend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.CharSequenceValueConverter;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.DefaultHeaders;
import io.netty.handler.codec.DefaultHeaders.NameValidator;
import io.netty.handler.codec.DefaultHeaders.ValueValidator;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ByteProcessor;
import io.netty.util.concurrent.FastThreadLocal;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Netty's request decoder, made to refuse obsolete line folding. Netty joins a header line that starts with
 * a space or tab onto the previous one, which RFC 9112 (section 5.2) tells a server to reject or rewrite:
 * a proxy in front may have read the same bytes differently, so a default backend that accepts them is a
 * request-smuggling oracle. Everything else (request-line and header syntax, {@code Content-Length} with
 * {@code Transfer-Encoding}, conflicting lengths, sizes) Netty 4.2 already rejects by itself.
 *
 * <p>Netty consumes the head a whole line at a time, so at the start of each call the readable bytes begin
 * at a line boundary; the check therefore looks for a line break followed by a space or tab anywhere in the
 * unread part of the head, and for a space or tab at the very start once the request line is consumed.
 *
 * <p>It also allocates less per request than Netty's: one request object and one set of headers per
 * connection (per event loop for simple heads, below), cleared and refilled for each request, the names of
 * the headers ingress-nginx and browsers send returned as constants instead of copied and their header
 * entries kept for the next request ({@link EntryReusingHeaders}), and the previous request's target string
 * kept for the next request that asks for the same one (for simple heads, the previous value of each of
 * those names too). A decoded request is therefore only valid until the next one is decoded.
 * {@link io.netty.handler.codec.ByteToMessageDecoder} hands each request to the next handler before it
 * decodes the next, as {@link #channelRead} does with a read's first head, and {@link RoutingHandler} keeps
 * nothing of it but strings.
 *
 * <p>A whole head in the simple form nearly every client sends (a known method, a visible-ASCII target,
 * HTTP/1.1 or 1.0, token names, plain values, CRLF line ends, no body) is read here, from one copy of its
 * bytes into a scratch array of the event loop, into a request like the one Netty would make, which the
 * event loop's connections share ({@link SimpleHead}), and a read's first such head handed on without
 * Netty's decode loop ({@link #channelRead}); any other head, or one that arrives in pieces, is Netty's, as
 * are bodies and everything after a bad request. {@code SimpleHeadTest} decodes generated requests both
 * ways, on one connection and on several sharing a scratch, and compares what comes out.
 *
 * <p>The headers are cleared when decoding resumes after a request was handed on, not in
 * {@link #createMessage}: there, Netty's array of the request line's three words is still in use, and the
 * clear's branch (it skips headers that hold nothing) kept the JIT from eliding that array, 32 bytes a
 * request ({@code bench/run.sh --parts alloc}: 301 bytes a custom-error request with the clear there, 265
 * with it here). It is elided only while {@link #createMessage} is inlined into Netty's decode method; a
 * recompilation may call it instead (without tiers C2 inlines an already compiled method only under 1000
 * bytes of code), as under a /healthz load here: 111 bytes a request. {@code -XX:InlineSmallCode=2500}
 * made that 80, but cost 1.1 MiB at the keep-alive peak for no CPU measured, and was not kept.
 */
final class StrictRequestDecoder extends HttpRequestDecoder {

    /**
     * Names looked up or commonly sent, in the spelling clients send: each is one constant, and its header
     * entry is kept from one request to the next ({@link EntryReusingHeaders}), where a name's index here is
     * its slot. Netty keeps {@code Host}, {@code Accept}, {@code Connection}, {@code Content-Type} and
     * {@code Content-Length} as constants of its own, which it does not share; the four that are stored are
     * here too, so that their entries can be kept. Any other name is copied into a new {@link AsciiString}
     * for every request.
     */
    private static final AsciiString[] KEPT_NAMES = Stream.of(
            "Accept", "Connection", "Content-Type", "Content-Length",
            "Accept-Encoding", "Accept-Language", "User-Agent", "Cookie", "Referer",
            "Transfer-Encoding", "Expect", "Cache-Control", "Upgrade",
            "X-Code", "X-Format", "X-Original-URI", "X-Namespace", "X-Ingress-Name", "X-Service-Name",
            "X-Service-Port", "X-Request-ID", "X-Real-IP", "X-Forwarded-For", "X-Forwarded-Host",
            "X-Forwarded-Port", "X-Forwarded-Proto", "X-Forwarded-Scheme", "X-Scheme")
            .map(AsciiString::cached).toArray(AsciiString[]::new);
    /**
     * The slot of each of {@link #KEPT_NAMES}, plus one (0 where there is none), at the {@link #bytesHash} of
     * its bytes, in open addressing: a simple head hashes each name as it checks its bytes, and finds the
     * constant with one comparison ({@link #keptSlot}); a name Netty splits off is hashed for it.
     */
    private static final int[] SLOT_BY_HASH = new int[128];

    static {
        for (int slot = 0; slot < KEPT_NAMES.length; slot++) {
            AsciiString name = KEPT_NAMES[slot];
            int hash = 0;
            for (int i = 0; i < name.length(); i++) {
                hash = bytesHash(hash, name.byteAt(i));
            }
            int i = hash & (SLOT_BY_HASH.length - 1);
            while (SLOT_BY_HASH[i] != 0) {
                i = (i + 1) & (SLOT_BY_HASH.length - 1);
            }
            SLOT_BY_HASH[i] = slot + 1;
        }
    }

    /** The names kept as constants, in the spelling clients send them (for tests). */
    static List<AsciiString> keptNames() {
        return List.of(KEPT_NAMES);
    }

    /** The hash of a name's bytes, as far as {@code hash} and then {@code b}: exact bytes, case and all. */
    private static int bytesHash(int hash, byte b) {
        return 31 * hash + b;
    }

    /**
     * The slot of the name of {@code length} bytes at {@code start} of {@code b}, whose {@link #bytesHash} is
     * {@code hash}, if it is one of {@link #KEPT_NAMES} in the same spelling; -1 otherwise.
     */
    static int keptSlot(int hash, byte[] b, int start, int length) {
        for (int i = hash & (SLOT_BY_HASH.length - 1); SLOT_BY_HASH[i] != 0; i = (i + 1) & (SLOT_BY_HASH.length - 1)) {
            AsciiString name = KEPT_NAMES[SLOT_BY_HASH[i] - 1];
            if (name.length() == length && sameBytes(name, b, start)) {
                return SLOT_BY_HASH[i] - 1;
            }
        }
        return -1;
    }

    /**
     * The headers of the request being decoded, reused for every request of the connection. They count
     * their {@code Host} fields as they are added, which RFC 9112 (section 3.2) needs to know, and validate
     * them as any other and as a host ({@link #isValidHost}), but do not store them: nothing here reads a
     * Host's value, and not storing it saves an entry per request.
     */
    static final class RequestHeaders extends DefaultHttpHeaders {
        private final ValueValidator<CharSequence> valueValidator;
        private final EntryReusingHeaders entries;
        private int hosts;

        RequestHeaders(DefaultHttpHeadersFactory validation) {
            this(new EntryReusingHeaders(validation.getNameValidator(), validation.getValueValidator()),
                    validation.getValueValidator());
        }

        private RequestHeaders(EntryReusingHeaders entries, ValueValidator<CharSequence> valueValidator) {
            super(entries);
            this.entries = entries;
            this.valueValidator = valueValidator;
        }

        /**
         * Whether {@code name}, one of the constants whose entries are kept, came on more than one line in this
         * request: false also for any other name, which the caller must then look up in full.
         */
        boolean sentTwice(AsciiString name) {
            return entries.sentTwice(name);
        }

        @Override
        public HttpHeaders add(CharSequence name, Object value) {
            if (HttpHeaderNames.HOST.contentEqualsIgnoreCase(name)) {
                hosts++;
                if (value instanceof CharSequence) { // always, from the decoder
                    valueValidator.validate((CharSequence) value);
                    if (!isValidHost((CharSequence) value)) {
                        throw new IllegalArgumentException("malformed Host header");
                    }
                    return this;
                }
            }
            return super.add(name, value);
        }

        @Override
        public HttpHeaders add(String name, Object value) {
            return add((CharSequence) name, value);
        }

        /**
         * A {@code Host} field whose value the caller has already checked as the validator and
         * {@link #isValidHost} would.
         */
        void addValidHost() {
            hosts++;
        }

        /**
         * A field other than {@code Host} whose name and value the caller has already checked as the
         * validators would (a simple head's form is checked before it is decoded): added without their
         * second pass over its characters.
         *
         * @param slot the name's slot ({@link #keptSlot}) if it is one of {@link #KEPT_NAMES}, that very
         *             object; -1 for any other name
         */
        void addChecked(AsciiString name, int slot, CharSequence value) {
            entries.addChecked(name, slot, value);
        }

        /**
         * Clears them for the next request, and does nothing when nothing was stored, as for a request with no
         * header but {@code Host}: at 1,000 connections the bucket array and list head that a clear would
         * write are rarely in the cache.
         */
        @Override
        public HttpHeaders clear() {
            hosts = 0;
            return isEmpty() ? this : super.clear();
        }

        /**
         * Whether the {@code Host} fields of {@code headers} are as RFC 9112 (section 3.2) and Go's server
         * want them: never more than one, whatever the version; exactly one when {@code required} (HTTP/1.1);
         * its value a host ({@link #isValidHost}, which an empty value is). Headers decoded here were counted
         * and their Host values checked as they were added; any others (Netty's, for a version other than
         * 1.0 and 1.1, or built by hand) are walked without collecting their values.
         */
        static boolean hasValidHost(HttpHeaders headers, boolean required) {
            if (headers instanceof RequestHeaders) {
                int hosts = ((RequestHeaders) headers).hosts;
                return hosts == 1 || hosts == 0 && !required;
            }
            Iterator<? extends CharSequence> hosts = headers.valueCharSequenceIterator(HttpHeaderNames.HOST);
            if (!hosts.hasNext()) {
                return !required;
            }
            return isValidHost(hosts.next()) && !hosts.hasNext();
        }
    }

    /**
     * The bytes a {@code Host} value may have, as Go's server allows them ({@code httpguts.ValidHostHeader},
     * which 1.5's Go had): those of a URI's host and port (RFC 3986: letters, digits, unreserved, sub-delims,
     * {@code %}, {@code :} and the brackets of an IPv6 address). Not {@code @}: a Host has no user info.
     */
    private static final boolean[] HOST_BYTE = new boolean[128];

    static {
        for (char c = '0'; c <= '9'; c++) {
            HOST_BYTE[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            HOST_BYTE[c] = true;
            HOST_BYTE[Character.toUpperCase(c)] = true;
        }
        for (char c : "!$%&'()*+,-.:;=[]_~".toCharArray()) {
            HOST_BYTE[c] = true;
        }
    }

    /**
     * Whether {@code value} (trimmed of its spaces and tabs, as a field value is) may be a {@code Host}'s:
     * each of its characters one of {@link #HOST_BYTE}, and the empty value too, as in Go. Anything else gets
     * the 400, as RFC 9112 (section 3.2) asks and Go answers ("malformed Host header").
     */
    static boolean isValidHost(CharSequence value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c >= HOST_BYTE.length || !HOST_BYTE[c]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Netty's header map as {@link DefaultHttpHeaders} builds it (case-insensitive names, values converted as
     * Netty converts them), which keeps the entry of each name in {@link #KEPT_NAMES} from one request to
     * the next instead of making a new one for every field: about 40 bytes a field, for two of the three
     * fields of an {@code X-Code} request with {@code Accept} (242 to 166 bytes a request,
     * {@code bench/run.sh --parts alloc}) and most of those of ingress-nginx's custom-error requests. An
     * entry's name and hash cannot change, so only these constant names can be reused; a second field of
     * the same name in one request, and any other name, get a new entry. An entry is taken again only after
     * the map was cleared: the request that filled it is done.
     */
    static final class EntryReusingHeaders
            extends DefaultHeaders<CharSequence, CharSequence, EntryReusingHeaders> {

        /**
         * Open addressing on the names' case-insensitive hash, the one the map computes anyway: a name's slot
         * is its index in {@link #KEPT_NAMES}.
         */
        private static final AsciiString[] TABLE = new AsciiString[64];
        private static final int[] SLOT = new int[TABLE.length];
        private static final int SLOTS = KEPT_NAMES.length;

        static {
            for (int slot = 0; slot < SLOTS; slot++) {
                int i = AsciiString.hashCode(KEPT_NAMES[slot]) & (TABLE.length - 1);
                while (TABLE[i] != null) {
                    i = (i + 1) & (TABLE.length - 1);
                }
                TABLE[i] = KEPT_NAMES[slot];
                SLOT[i] = slot;
            }
        }

        /**
         * This map's entries for the reused names, by slot; made at the first such field, and kept with the
         * connection (128 bytes; the entries themselves stayed until the next request before they were kept).
         */
        private ReusableEntry[] reusable;
        /** Advanced at every clear: an entry linked in the current generation is in use. */
        private int generation;
        /** True only inside {@link #addChecked}: the field being added needs no validation. */
        private boolean checked;
        /** Inside {@link #addChecked}: the slot of the field's name, which need not be looked up again. */
        private int checkedSlot;

        EntryReusingHeaders(NameValidator<CharSequence> names, ValueValidator<CharSequence> values) {
            super(AsciiString.CASE_INSENSITIVE_HASHER, ValueConverter.INSTANCE, names, 16, values);
        }

        /** The slot of {@code name} if it is one of the reused names (that very object), or -1. */
        static int slotOf(int hash, CharSequence name) {
            for (int i = hash & (TABLE.length - 1); TABLE[i] != null; i = (i + 1) & (TABLE.length - 1)) {
                if (TABLE[i] == name) {
                    return SLOT[i];
                }
            }
            return -1;
        }

        /**
         * Adds a field whose name and value were checked as this map's validators would check them; its name's
         * slot is {@code slot}, -1 for a name not kept.
         */
        void addChecked(CharSequence name, int slot, CharSequence value) {
            // A slot that is not the name's would give its kept entry another name for good.
            assert slot < 0 ? slotOf(AsciiString.hashCode(name), name) < 0 : KEPT_NAMES[slot] == name : name;
            checked = true;
            checkedSlot = slot;
            try {
                add(name, value);
            } finally {
                checked = false;
            }
        }

        @Override
        protected void validateName(NameValidator<CharSequence> validator, boolean forAdd, CharSequence name) {
            if (!checked) {
                super.validateName(validator, forAdd, name);
            }
        }

        @Override
        protected void validateValue(ValueValidator<CharSequence> validator, CharSequence name,
                                     CharSequence value) {
            if (!checked) {
                super.validateValue(validator, name, value);
            }
        }

        /** See {@link RequestHeaders#sentTwice}. */
        boolean sentTwice(AsciiString name) {
            if (reusable == null) {
                return false;
            }
            int slot = slotOf(AsciiString.hashCode(name), name);
            ReusableEntry entry = slot < 0 ? null : reusable[slot];
            return entry != null && entry.generation == generation && entry.sentAgain;
        }

        @Override
        protected HeaderEntry<CharSequence, CharSequence> newHeaderEntry(
                int hash, CharSequence name, CharSequence value, HeaderEntry<CharSequence, CharSequence> next) {
            int slot = checked ? checkedSlot : slotOf(hash, name);
            if (slot < 0) {
                return super.newHeaderEntry(hash, name, value, next);
            }
            if (reusable == null) {
                reusable = new ReusableEntry[SLOTS];
            }
            ReusableEntry entry = reusable[slot];
            if (entry != null && entry.generation == generation) {
                entry.sentAgain = true; // the kept entry holds the first line; this one needs an entry of its own
                return super.newHeaderEntry(hash, name, value, next);
            }
            if (entry == null) { // the slot is the name, so the hash is the same every time
                entry = new ReusableEntry(hash, name);
                reusable[slot] = entry;
            }
            entry.link(generation, value, next, head);
            return entry;
        }

        @Override
        public EntryReusingHeaders clear() {
            generation++;
            return super.clear();
        }

        /** A header entry that can be linked into its map again once the map was cleared. */
        private static final class ReusableEntry extends HeaderEntry<CharSequence, CharSequence> {
            int generation;
            /** A second field of this name came in the generation the entry is linked in. */
            boolean sentAgain;

            ReusableEntry(int hash, CharSequence name) {
                super(hash, name);
            }

            /** What Netty's constructor does for a new entry: its value, its bucket's chain, the list's end. */
            void link(int generation, CharSequence value, HeaderEntry<CharSequence, CharSequence> next,
                      HeaderEntry<CharSequence, CharSequence> head) {
                this.generation = generation;
                sentAgain = false;
                this.value = value;
                this.next = next;
                after = head;
                before = head.before();
                pointNeighborsToThis();
            }
        }
    }

    /** Header values as {@link DefaultHttpHeaders} converts them: text as is, dates in the HTTP format. */
    private static final class ValueConverter extends CharSequenceValueConverter {
        static final ValueConverter INSTANCE = new ValueConverter();

        @Override
        public CharSequence convertObject(Object value) {
            if (value instanceof CharSequence) {
                return (CharSequence) value;
            }
            if (value instanceof Date) {
                return DateFormatter.format((Date) value);
            }
            if (value instanceof Calendar) {
                return DateFormatter.format(((Calendar) value).getTime());
            }
            return value.toString();
        }
    }

    /**
     * The connection's one request. A successful decoding's result is kept as the shared
     * {@link DecoderResult#SUCCESS} rather than the record of the head's sizes that Netty makes for every
     * request ({@code HttpMessageDecoderResult}), which nothing here reads: stored nowhere, the record need
     * not be made at all once C2 inlines this method where Netty makes it.
     */
    private static final class ReusedRequest extends DefaultHttpRequest {
        ReusedRequest(HttpHeaders headers) {
            super(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", headers);
        }

        @Override
        public void setDecoderResult(DecoderResult result) {
            super.setDecoderResult(result.isSuccess() ? DecoderResult.SUCCESS : result);
        }
    }

    /**
     * A simple head's request: it has no body, so it is handed on as its head and its end in one message,
     * as a {@link io.netty.handler.codec.http.FullHttpRequest} with no content and no trailers. Netty hands
     * on two, and the router handles each in a call of its own, through the pipeline: one call less per
     * request was 0.86 of the time per request of {@code PipelineBenchmark.notFoundMinimal}
     * (bench/RESULTS.md). Its decoder result is the shared {@link DecoderResult#SUCCESS} it is made with:
     * only whole heads in the simple form are decoded into it, and nothing sets another.
     */
    private static final class SimpleRequest extends DefaultFullHttpRequest {
        SimpleRequest(HttpHeaders headers) {
            super(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", Unpooled.EMPTY_BUFFER, headers,
                    EmptyHttpHeaders.INSTANCE);
        }
    }

    /** Finds the first line that starts with whitespace, stopping at the empty line that ends a head. */
    private static final class FoldFinder implements ByteProcessor {
        boolean afterLineFeed;
        boolean afterCarriageReturnAtLineStart;
        boolean found;

        void reset(boolean atLineStart) {
            afterLineFeed = atLineStart;
            afterCarriageReturnAtLineStart = false;
            found = false;
        }

        @Override
        public boolean process(byte value) {
            if (afterLineFeed) {
                afterLineFeed = false;
                if (value == ' ' || value == '\t') {
                    found = true;
                    return false;
                }
                if (value == '\n') {
                    return false;
                }
                if (value == '\r') {
                    afterCarriageReturnAtLineStart = true;
                    return true;
                }
            } else if (afterCarriageReturnAtLineStart) {
                // "\r\n" on its own line: the end of the head; what follows is a body or the next request.
                return value != '\n';
            }
            afterCarriageReturnAtLineStart = false;
            afterLineFeed = value == '\n';
            return true;
        }
    }

    private FoldFinder foldFinder;
    private final DefaultHttpHeadersFactory headersFactory;
    /**
     * The connection's own request and headers, for the heads Netty reads: made at the first such head, so a
     * connection whose heads are all simple has none (they are its {@link SimpleHead}'s).
     */
    private RequestHeaders headers;
    private ReusedRequest request;
    /** The previous request's target: a client on a kept-alive connection mostly asks for the same one. */
    private String lastTarget = "/";
    /** Where the last word of the request line being split ends, in Netty's array of the line. */
    private int wordEnd;
    private boolean expectingHead = true;
    /** Netty has taken part of a head (its request line, perhaps some headers), not just blank lines before it. */
    private boolean headStarted;
    private boolean rejected;
    /** A request was handed on since the headers were last cleared: they are its, and go before the next. */
    private boolean headersHandedOn;
    /** Told of every read before it is decoded, or null for a decoder on its own. */
    private final ConnectionGuard guard;
    /** Where heads in the simple form are read ({@link #decodeSimpleHead}), or null to leave all to Netty. */
    private final HeadScratch scratch;
    private final int maxInitialLineLength;
    private final int maxHeaderSize;
    /**
     * Netty's decoder is between requests, in its initial state: true at first, and again once what Netty
     * last emitted was the successful end of a request. Only then may {@link #decodeSimpleHead} take the
     * next head without Netty: a head Netty began to read, a body, and the state Netty is left in by a bad
     * request (it discards everything after) stay Netty's.
     */
    private boolean nettyAtRest = true;
    /** While {@link #channelRead} hands on a read's first head: whether the read holds more after it. */
    private boolean moreInRead;

    /**
     * @param config  as Netty's decoder takes it, with a {@link DefaultHttpHeadersFactory} for headers
     * @param guard   the connection's timeouts, told when a read arrives (a request's first byte starts its
     *                deadlines), or null for none
     * @param scratch where heads in the simple form are read, shared by the decoders of a listener; null
     *                leaves every head to Netty's decoder (to compare the two in tests)
     */
    StrictRequestDecoder(HttpDecoderConfig config, ConnectionGuard guard, HeadScratch scratch) {
        super(config);
        this.guard = guard;
        this.scratch = scratch;
        this.maxInitialLineLength = config.getMaxInitialLineLength();
        this.maxHeaderSize = config.getMaxHeaderSize();
        this.headersFactory = (DefaultHttpHeadersFactory) config.getHeadersFactory();
        if (scratch != null && !scratch.validatesAs(headersFactory)) {
            throw new IllegalArgumentException("a head scratch validates headers as its decoders do");
        }
    }

    /**
     * A read that starts with a whole simple head, with nothing of an earlier read left over, has that head
     * handed on from here: at 1,000 connections nearly every read is one such head, and
     * {@code ByteToMessageDecoder}'s own {@code channelRead} (an output list from a thread-local, the
     * cumulation, the decode loop and its checks) was about a tenth of the time per request of
     * {@code PipelineBenchmark.notFoundMinimal} (bench/RESULTS.md). What the read holds after the head goes
     * to that method, as the rest of a read would; so does every read while the connection does not read by
     * itself, since that method counts what it hands on, to ask for another read when it handed on nothing.
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (guard != null) {
            guard.bytesReceived();
        }
        if (simpleHeadMayCome() && msg instanceof ByteBuf && actualReadableBytes() == 0
                && ctx.channel().config().isAutoRead()) {
            ByteBuf in = (ByteBuf) msg;
            HttpRequest request;
            try {
                request = readSimpleHead(in);
            } catch (RuntimeException e) {
                // Not expected (the head's form is checked before anything is decoded), but if it comes, the
                // read is released and the error passed on as Netty's decoder does.
                in.release();
                throw new DecoderException(e);
            }
            if (request != null) {
                moreInRead = in.isReadable();
                try {
                    ctx.fireChannelRead(request);
                } finally {
                    moreInRead = false;
                    if (!in.isReadable()) {
                        in.release();
                    } else if (ctx.isRemoved()) {
                        ctx.fireChannelRead(in); // as Netty's decoder hands on what it holds when removed
                    } else {
                        super.channelRead(ctx, in);
                    }
                }
                return;
            }
        }
        super.channelRead(ctx, msg);
    }

    // What follows passes events on as Netty's adapter does, declared here so that Netty does not read the
    // adapter's @Skip annotations to learn that the decoder passes them on: InboundPassThrough's methods,
    // which this class cannot inherit, since it extends Netty's decoder (see there for the cost).

    /** Not sharable: one decoder per connection. Said here so that Netty need not read the annotations. */
    @Override
    public boolean isSharable() {
        return false;
    }

    @Override
    public void channelRegistered(ChannelHandlerContext ctx) {
        ctx.fireChannelRegistered();
    }

    @Override
    public void channelUnregistered(ChannelHandlerContext ctx) {
        ctx.fireChannelUnregistered();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.fireChannelActive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.fireExceptionCaught(cause);
    }

    /**
     * HTTP/1.1 and HTTP/1.0 into this connection's one request; any other version to Netty, which parses it
     * strictly into a request of its own (and the router refuses what is not HTTP/1.x). The version's name is
     * case-sensitive (RFC 9112, 2.3: {@code %s"HTTP"}), and Go answers {@code http/1.1} with a 400 ("malformed
     * HTTP version"); Netty would upper-case it and serve the request, so it is refused here first.
     */
    @Override
    protected HttpMessage createMessage(String[] initialLine) throws Exception {
        HttpVersion version;
        if (HttpVersion.HTTP_1_1.text().equals(initialLine[2])) {
            version = HttpVersion.HTTP_1_1;
        } else if (HttpVersion.HTTP_1_0.text().equals(initialLine[2])) {
            version = HttpVersion.HTTP_1_0;
        } else if (!initialLine[2].startsWith(HTTP_NAME)) {
            throw new IllegalArgumentException("malformed HTTP version");
        } else {
            return super.createMessage(initialLine);
        }
        HttpMethod method = HttpMethod.valueOf(initialLine[0]);
        if (request == null) {
            headers = new RequestHeaders(headersFactory);
            request = new ReusedRequest(headers);
        }
        request.setProtocolVersion(version).setMethod(method).setUri(initialLine[1]);
        // A failed request before this one may have left its failure here.
        request.setDecoderResult(DecoderResult.SUCCESS);
        return request;
    }

    /**
     * A request with neither {@code Content-Length} nor {@code Transfer-Encoding} has no body (RFC 9112,
     * 6.3), as Go reads it. Netty gives a {@code GET} with both {@code Sec-WebSocket-Key1} and
     * {@code Sec-WebSocket-Key2} (the hixie-76 draft of WebSocket, 2010) an 8-byte body
     * ({@link io.netty.handler.codec.http.HttpUtil#getWebSocketContentLength}): its answer would wait for
     * 8 bytes that never come, and a request pipelined behind it would lose its first 8. Asked only of
     * heads Netty reads (a simple head has no body anyway); a {@code GET} without the first key costs one
     * lookup.
     */
    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
        if (msg instanceof HttpRequest && HttpMethod.GET.equals(((HttpRequest) msg).method())) {
            HttpHeaders headers = msg.headers();
            if (headers.contains(HttpHeaderNames.SEC_WEBSOCKET_KEY1)
                    && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)
                    && !headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
                return true;
            }
        }
        return super.isContentAlwaysEmpty(msg);
    }

    /**
     * The method; where it ends is kept, for {@link #splitSecondWordInitialLine} to check what separates the
     * words. Netty splits a request line on SP, HTAB, VT, FF and a bare CR alike (RFC 9112, 3, lets a
     * recipient); Go's server splits on single spaces only and answers anything else 400, and RFC 9112 (2.2)
     * asks a recipient to refuse or replace a bare CR: here the words are separated by one space, and anything
     * else between them is refused, so that a bare CR in the request line gets the 400 it gets elsewhere in
     * the head.
     */
    @Override
    protected String splitFirstWordInitialLine(byte[] line, int start, int length) {
        wordEnd = start + length;
        return super.splitFirstWordInitialLine(line, start, length);
    }

    /** The version, after one space (see {@link #splitFirstWordInitialLine}). */
    @Override
    protected String splitThirdWordInitialLine(byte[] line, int start, int length) {
        requireOneSpace(line, wordEnd, start);
        return super.splitThirdWordInitialLine(line, start, length);
    }

    /**
     * Refuses the request line unless what lies from {@code from} to {@code to}, between two words, is one
     * space: Go cuts the line at its first two spaces, so a second space made an empty word of the target or
     * a version beginning with a space, both refused.
     */
    private static void requireOneSpace(byte[] line, int from, int to) {
        if (to - from != 1 || line[from] != ' ') {
            throw new IllegalArgumentException("the request line's words are not separated by one SP");
        }
    }

    /**
     * The request target, after one space (see {@link #splitFirstWordInitialLine}): the previous one's
     * string again when the bytes are the same.
     */
    @Override
    protected String splitSecondWordInitialLine(byte[] line, int start, int length) {
        requireOneSpace(line, wordEnd, start);
        wordEnd = start + length;
        String last = lastTarget;
        if (holds(last, line, start, length)) {
            return last;
        }
        String target = super.splitSecondWordInitialLine(line, start, length);
        lastTarget = target;
        return target;
    }

    /**
     * Whether {@code text} is exactly the {@code length} bytes of {@code line} from {@code start}, read as
     * {@link #sameChars} reads them; false for no text.
     */
    private static boolean holds(CharSequence text, byte[] line, int start, int length) {
        return text != null && text.length() == length && sameChars(text, line, start);
    }

    /**
     * Whether {@code line} holds {@code text} at {@code start}, read as Netty reads it: one char per byte
     * (an {@link AsciiString}'s chars are its bytes).
     */
    private static boolean sameChars(CharSequence text, byte[] line, int start) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) != (char) (line[start + i] & 0xff)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether {@code line} holds the bytes of {@code text} at {@code start}: {@link #sameChars} for an
     * {@link AsciiString}, whose chars are its bytes, compared as arrays (many bytes at a time).
     */
    private static boolean sameBytes(AsciiString text, byte[] line, int start) {
        return Arrays.equals(text.array(), text.arrayOffset(), text.arrayOffset() + text.length(),
                line, start, start + text.length());
    }

    /** The constant of a kept name ({@link #keptSlot}), else Netty's own copy of the name. */
    @Override
    protected AsciiString splitHeaderName(byte[] line, int start, int length) {
        int hash = 0;
        for (int i = start; i < start + length; i++) {
            hash = bytesHash(hash, line[i]);
        }
        int slot = keptSlot(hash, line, start, length);
        return slot >= 0 ? KEPT_NAMES[slot] : super.splitHeaderName(line, start, length);
    }

    /**
     * The constant this decoder stores for a header name sent in this spelling. A lookup by it finds the
     * field by identity, where any other spelling of the name is compared character by character.
     *
     * @throws IllegalArgumentException if the name is not one of the decoder's constants
     */
    static AsciiString knownName(String name) {
        for (AsciiString known : KEPT_NAMES) {
            if (known.contentEquals(name)) {
                return known;
            }
        }
        throw new IllegalArgumentException("not a header name the decoder keeps as a constant: " + name);
    }

    /**
     * Whether the next bytes may be read as a simple head ({@link #decodeSimpleHead}): this decoder has a
     * scratch, nothing was refused, and Netty is at rest between requests with no head begun.
     */
    private boolean simpleHeadMayCome() {
        return scratch != null && !rejected && nettyAtRest && expectingHead && !headStarted;
    }

    /** Whether bytes already read from the socket are waiting here: the start of a pipelined request. */
    boolean hasBufferedInput() {
        return moreInRead || actualReadableBytes() > 0;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        if (headersHandedOn) {
            // The request that owned them has been handled (see the class comment): whatever comes next,
            // blank lines, a request line or a head in pieces, starts from no headers.
            headersHandedOn = false;
            if (headers != null) { // none when Netty made the request (a version other than 1.x)
                headers.clear();
            }
        }
        if (rejected) {
            buffer.skipBytes(buffer.readableBytes());
            return;
        }
        if (simpleHeadMayCome() && decodeSimpleHead(buffer, out)) {
            return;
        }
        if (expectingHead) {
            // Where the bytes to check begin: past the blank lines Netty skips before a request line, until a
            // head has begun.
            int start = headStarted ? buffer.readerIndex()
                    : afterBlankLines(buffer, buffer.readerIndex(), buffer.writerIndex());
            // A control character is looked for only where a request line may begin: inside a head, the blank
            // line here may be the one that ends it, and what follows it the next request, answered after.
            String refusal = hasObsoleteFold(buffer, start) ? "obsolete line folding in request head"
                    : !headStarted && startsWithControl(buffer, start) ? "a control character before a request line"
                    : null;
            if (refusal != null) {
                rejected = true;
                buffer.skipBytes(buffer.readableBytes());
                DefaultFullHttpRequest invalid =
                        new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/bad-request");
                invalid.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(refusal)));
                out.add(invalid);
                return;
            }
        }
        int readerIndex = buffer.readerIndex();
        int firstNew = out.size();
        super.decode(ctx, buffer, out);
        for (int i = firstNew; i < out.size(); i++) {
            Object message = out.get(i);
            if (message instanceof HttpRequest) {
                expectingHead = false;
                headStarted = false;
                headersHandedOn = true;
            }
            if (message instanceof LastHttpContent) {
                expectingHead = true;
            }
        }
        if (expectingHead && out.size() == firstNew) {
            // Where a request begins in what this read held, past blank lines; the end if nowhere.
            int begins = afterBlankLines(buffer, readerIndex, buffer.writerIndex());
            if (begins < buffer.readerIndex()) {
                headStarted = true; // Netty took more than the blank lines it skips before a request line
            }
            if (guard != null && begins < buffer.writerIndex()) {
                // A request has begun and is unfinished. If the guard holds the connection idle, it came in
                // the read that brought the request just answered: pipelined behind it.
                guard.requestBegun();
            }
        }
        Object last = out.size() > firstNew ? out.get(out.size() - 1) : null;
        nettyAtRest = last instanceof LastHttpContent && ((LastHttpContent) last).decoderResult().isSuccess();
    }

    /**
     * The index of the first byte from {@code start} that is not part of the blank lines which may come before
     * a request line (Netty skips them), or {@code end} if there is none: where a request begins, if it has.
     */
    private static int afterBlankLines(ByteBuf buffer, int start, int end) {
        int index = buffer.forEachByte(start, end - start, ByteProcessor.FIND_NON_CRLF);
        return index < 0 ? end : index;
    }

    /** The methods a simple head may have, each matched by its exact bytes. */
    private static final HttpMethod[] SIMPLE_METHODS = {
        HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE,
        HttpMethod.OPTIONS, HttpMethod.PATCH, HttpMethod.TRACE, HttpMethod.CONNECT,
    };
    /** How every HTTP version begins, in this case only. */
    private static final String HTTP_NAME = "HTTP/";
    private static final AsciiString HTTP_1_1_LINE_END = AsciiString.cached("HTTP/1.1\r\n");
    private static final AsciiString HTTP_1_0_LINE_END = AsciiString.cached("HTTP/1.0\r\n");
    /**
     * Headers that frame a body, read by Netty's decoder: their heads are left to it. Not the hixie-76
     * WebSocket keys, which frame none here ({@link #isContentAlwaysEmpty}).
     */
    private static final AsciiString[] BODY_FRAMING = {
        HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.TRANSFER_ENCODING,
    };
    /** The shortest whole head: {@code "GET / HTTP/1.1\r\n\r\n"}. */
    private static final int SHORTEST_HEAD = 18;
    /** The token characters of RFC 9110 (section 5.6.2), by byte value. */
    private static final boolean[] TCHAR = new boolean[128];

    static {
        for (char c = '0'; c <= '9'; c++) {
            TCHAR[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            TCHAR[c] = true;
            TCHAR[Character.toUpperCase(c)] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TCHAR[c] = true;
        }
    }

    /**
     * Where simple heads are read ({@link SimpleHead}): one per event loop, shared by the decoders of a
     * listener, so that reading a request touches no memory of its connection's but the decoder's flags.
     * Its headers validate names and values as Netty's default factory does, which is what the listener's
     * decoders are given; a simple head's fields skip that pass, their form having been checked already
     * ({@link RequestHeaders#addChecked}).
     */
    static final class HeadScratch extends FastThreadLocal<SimpleHead> {
        /** Heads longer than this are Netty's; ingress-nginx's custom-error requests are about 500 bytes. */
        static final int SIZE = 4096;
        private static final DefaultHttpHeadersFactory VALIDATING = DefaultHttpHeadersFactory.headersFactory();

        @Override
        protected SimpleHead initialValue() {
            return new SimpleHead(VALIDATING);
        }

        /** Whether headers from {@code factory} are validated as this scratch's are. */
        boolean validatesAs(DefaultHttpHeadersFactory factory) {
            return factory.getNameValidator() == VALIDATING.getNameValidator()
                    && factory.getValueValidator() == VALIDATING.getValueValidator();
        }
    }

    /**
     * An event loop's place to read simple heads: the bytes of a read are copied here once and parsed as an
     * array, into the one request and headers that every simple head on the loop is decoded into. A
     * request is handed to the next handler, which is done with it before the decoder returns
     * ({@link #channelRead} and {@link io.netty.handler.codec.ByteToMessageDecoder} hand on each request
     * before they decode the next one, and only this event loop decodes into these), so they are free
     * again for the next connection's head. At 1,000 connections a connection's own request and headers
     * were rarely in the core's caches when its next request came; these always are.
     */
    static final class SimpleHead {
        final byte[] bytes = new byte[HeadScratch.SIZE];
        /**
         * For each header line of the head in {@link #bytes}, where it has its colon and its CR and the
         * {@link #bytesHash} of its name, {@link #FIELD} entries a line, as the check of its form found them:
         * the fields are then read without a second scan. A header line is at least four bytes
         * ({@code "a:\r\n"}), so a head within {@link HeadScratch#SIZE} has at most a quarter as many lines.
         */
        final int[] fields = new int[HeadScratch.SIZE / 4 * FIELD];
        /** How many entries of {@link #fields} the last head checked filled. */
        int fieldEntries;
        final RequestHeaders headers;
        final SimpleRequest request;
        /** The last simple head's target, for the next head that asks for the same one. */
        final LastString target = new LastString();
        /** The last value of each of {@link #KEPT_NAMES}, by slot, made at the name's first field. */
        private final LastString[] values = new LastString[KEPT_NAMES.length];

        SimpleHead(DefaultHttpHeadersFactory factory) {
            headers = new RequestHeaders(factory);
            request = new SimpleRequest(headers);
        }

        /** The last value of the kept name in {@code slot}. */
        LastString value(int slot) {
            LastString value = values[slot];
            if (value == null) {
                value = new LastString();
                values[slot] = value;
            }
            return value;
        }
    }

    /** Entries of {@link SimpleHead#fields} a header line: its colon, its CR, its name's hash. */
    private static final int FIELD = 3;

    /**
     * The string last made of some bytes, kept with a copy of them: the same bytes again give the same
     * string, compared many bytes at a time ({@link Arrays#equals(byte[], int, int, byte[], int, int)}), where
     * comparing them with the string's characters was a loop of one char at a time. A client sends the same
     * target and the same {@code Accept} again and again, ingress-nginx the same {@code X-Code}. The copy
     * grows to the longest string kept, at most a head's {@link HeadScratch#SIZE}: beside the string, which
     * the header map kept before, as much again.
     */
    static final class LastString {
        private byte[] bytes = new byte[0];
        private int length;
        private String string;

        /** The string of {@code b[from, to)}, one char per byte: the last one again if it has those bytes. */
        String of(byte[] b, int from, int to) {
            int n = to - from;
            if (string != null && n == length && Arrays.equals(bytes, 0, n, b, from, to)) {
                return string;
            }
            String made = new String(b, from, n, StandardCharsets.ISO_8859_1);
            if (n > bytes.length) {
                bytes = new byte[n];
            }
            System.arraycopy(b, from, bytes, 0, n);
            length = n;
            string = made;
            return made;
        }
    }

    /**
     * Decodes a whole head in the form nearly every client sends, from a copy of the bytes read, into what
     * Netty's decoder makes of it: the same kind of request (the event loop's {@link SimpleHead}), the same
     * header names and values added in the same order, and the request's end, which Netty hands on as a
     * second message ({@link LastHttpContent#EMPTY_LAST_CONTENT}), in the same one ({@link SimpleRequest}).
     * Anything else is left untouched for Netty, and false returned; so is a head not yet whole.
     *
     * <p>The form: a method of {@link #SIMPLE_METHODS}, one space, a target of visible ASCII, one space,
     * {@code HTTP/1.1} or {@code HTTP/1.0}, CRLF; header lines of a token, a colon and a value of visible
     * ASCII, spaces and tabs, each ending in CRLF; an empty line; all within {@link HeadScratch#SIZE}. No
     * header that frames a body ({@link #BODY_FRAMING}) and sizes within Netty's limits. Netty accepts every
     * such head as it is, and what it makes of one depends on nothing but its bytes: a name is the constant
     * {@link #splitHeaderName} gives Netty for it ({@link #keptSlot} finds it by its hash), or Netty's own
     * copy. A {@code Host} field is checked and counted without making its
     * value, as {@link RequestHeaders} does.
     *
     * <p>Why: at 1,000 connections most of a request's cost above the transport's was in reaching its
     * decoder's state (a scratch buffer, two line parsers and their sizes) after the core's caches had lost
     * it, and the one string made per request, the {@code Host} value, brought a young collection every
     * 20,000 or so requests (bench/RESULTS.md).
     */
    boolean decodeSimpleHead(ByteBuf in, List<Object> out) {
        HttpRequest request = readSimpleHead(in);
        if (request == null) {
            return false;
        }
        out.add(request);
        return true;
    }

    /** As {@link #decodeSimpleHead}: the request, its head's bytes read; or null, nothing read. */
    private HttpRequest readSimpleHead(ByteBuf in) {
        int n = Math.min(in.readableBytes(), HeadScratch.SIZE);
        if (n < SHORTEST_HEAD) {
            return null;
        }
        SimpleHead simple = scratch.get();
        byte[] b = simple.bytes;
        in.getBytes(in.readerIndex(), b, 0, n);
        HttpMethod method = null;
        int p = 0;
        for (HttpMethod candidate : SIMPLE_METHODS) {
            if (sameBytes(candidate.asciiName(), b, 0)) {
                method = candidate;
                p = candidate.asciiName().length();
                break;
            }
        }
        if (method == null || b[p] != ' ') {
            return null;
        }
        final int targetStart = ++p;
        p = visibleEnd(b, p, n, ABOVE_SPACE);
        while (p < n && b[p] > 0x20 && b[p] < 0x7f) {
            p++;
        }
        final int targetEnd = p;
        if (targetEnd == targetStart || n - p < 1 + HTTP_1_1_LINE_END.length() || b[p] != ' ') {
            return null;
        }
        p++;
        HttpVersion version;
        if (sameBytes(HTTP_1_1_LINE_END, b, p)) {
            version = HttpVersion.HTTP_1_1;
        } else if (sameBytes(HTTP_1_0_LINE_END, b, p)) {
            version = HttpVersion.HTTP_1_0;
        } else {
            return null;
        }
        p += HTTP_1_1_LINE_END.length();
        if (p - 2 > maxInitialLineLength) {
            return null;
        }
        final int headersStart = p;
        final int headEnd = simpleHeadersEnd(b, headersStart, n, simple);
        if (headEnd < 0) {
            return null;
        }

        // Whole and in the form: from here on it is decoded, as Netty would.
        String target = simple.target.of(b, targetStart, targetEnd);
        RequestHeaders headers = simple.headers;
        headers.clear(); // the previous simple head's on this loop, handled before its decoder returned
        SimpleRequest request = simple.request;
        request.setProtocolVersion(version).setMethod(method).setUri(target);
        int[] fields = simple.fields;
        p = headersStart;
        for (int i = 0; i < simple.fieldEntries; i += FIELD) {
            int colon = fields[i];
            int lineEnd = fields[i + 1];
            if (colon - p == HttpHeaderNames.HOST.length() && sameCharsIgnoreCase(HttpHeaderNames.HOST, b, p)) {
                headers.addValidHost();
            } else {
                int slot = keptSlot(fields[i + 2], b, p, colon - p);
                AsciiString name = slot >= 0 ? KEPT_NAMES[slot] : super.splitHeaderName(b, p, colon - p);
                LastString last = slot >= 0 ? simple.value(slot) : null;
                headers.addChecked(name, slot, headerValue(b, colon + 1, lineEnd, last));
            }
            p = lineEnd + 2;
        }
        in.skipBytes(headEnd);
        return request;
    }

    /**
     * Where the head ends (after its empty line), if every header line from {@code p} is in the simple
     * form and their sizes are within Netty's limit; -1 otherwise, or if the empty line is not within
     * {@code b[0, n)}. Each line's colon, CR and name's {@link #bytesHash} go into {@code simple}'s
     * {@link SimpleHead#fields}.
     */
    private int simpleHeadersEnd(byte[] b, int p, int n, SimpleHead simple) {
        int[] fields = simple.fields;
        int entries = 0;
        int size = 0;
        while (true) {
            if (n - p < 2) {
                return -1;
            }
            if (b[p] == '\r' && b[p + 1] == '\n') {
                simple.fieldEntries = entries;
                return p + 2;
            }
            int lineStart = p;
            int hash = 0;
            while (p < n && b[p] > 0 && TCHAR[b[p]]) {
                hash = bytesHash(hash, b[p]);
                p++;
            }
            if (p == lineStart || p >= n || b[p] != ':' || framesBody(b, lineStart, p - lineStart)) {
                return -1;
            }
            int colon = p;
            p++;
            if (p - lineStart == HOST_LINE_START && sameCharsIgnoreCase(HttpHeaderNames.HOST, b, lineStart)) {
                p = hostValueEnd(b, p, n);
            } else {
                p = visibleEnd(b, p, n, SPACE_AND_UP);
                while (p < n && (b[p] >= 0x20 && b[p] < 0x7f || b[p] == '\t')) {
                    p++;
                }
            }
            if (n - p < 2 || b[p] != '\r' || b[p + 1] != '\n') {
                return -1;
            }
            fields[entries++] = colon;
            fields[entries++] = p;
            fields[entries++] = hash;
            size += p - lineStart;
            if (size > maxHeaderSize) {
                return -1;
            }
            p += 2;
        }
    }

    /** The length of {@code "Host:"}. */
    private static final int HOST_LINE_START = 5;

    /**
     * Where the value of a {@code Host} line that starts at {@code p} ends: at its CR if it is a valid host
     * between spaces and tabs ({@link #isValidHost}), else where the first byte that is not ends it, which
     * is then not the line's end and the head not simple (Netty's decoder refuses it).
     */
    private static int hostValueEnd(byte[] b, int p, int n) {
        while (p < n && (b[p] == ' ' || b[p] == '\t')) {
            p++;
        }
        while (p < n && b[p] > 0 && HOST_BYTE[b[p]]) {
            p++;
        }
        while (p < n && (b[p] == ' ' || b[p] == '\t')) {
            p++;
        }
        return p;
    }

    private static boolean framesBody(byte[] b, int start, int length) {
        for (AsciiString name : BODY_FRAMING) {
            if (name.length() == length && sameCharsIgnoreCase(name, b, start)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The value between {@code from} and {@code to} without its leading and trailing spaces and tabs: made by
     * {@code last} if the name has one (the same string again for the same bytes), else a new string.
     */
    private static String headerValue(byte[] b, int from, int to, LastString last) {
        while (from < to && (b[from] == ' ' || b[from] == '\t')) {
            from++;
        }
        while (to > from && (b[to - 1] == ' ' || b[to - 1] == '\t')) {
            to--;
        }
        return from == to ? "" : last != null ? last.of(b, from, to)
                : new String(b, from, to - from, StandardCharsets.ISO_8859_1);
    }

    /** Eight bytes at a time, in the order of the array ({@link #visibleEnd}). */
    private static final VarHandle LONG_AT =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    /** {@link #visibleEnd}'s lower bound for a field value: a space and up. */
    private static final long SPACE_AND_UP = 0x2020202020202020L;
    /** {@link #visibleEnd}'s lower bound for a request target: above a space. */
    private static final long ABOVE_SPACE = 0x2121212121212121L;
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGH_BITS = 0x8080808080808080L;

    /**
     * Skips from {@code p} eight bytes at a time while all eight are at least the byte repeated in
     * {@code lows} (a space, or the byte above it) and at most {@code 0x7E}, and returns where it stopped:
     * the caller checks the rest one byte at a time, as it did all of them before. Field values are most of
     * a proxied request's head, and the check of a head's form a byte at a time was about a quarter of the
     * time per request of {@code PipelineBenchmark.notFoundProxied} under a profiler (bench/RESULTS.md).
     *
     * <p>Why the test is exact: {@code w - lows} sets a byte's high bit when the byte is below the bound and
     * no borrow came into it, which is so for the lowest such byte; a byte within the bounds gives no borrow
     * and no high bit. {@code w + ONES} sets the high bit of {@code 0x7F}, and {@code w} itself that of every
     * byte over it. A borrow or carry across bytes comes only from a byte that is out of bounds.
     */
    private static int visibleEnd(byte[] b, int p, int n, long lows) {
        while (n - p >= Long.BYTES) {
            long w = (long) LONG_AT.get(b, p);
            if ((((w - lows) | (w + ONES) | w) & HIGH_BITS) != 0) {
                break;
            }
            p += Long.BYTES;
        }
        return p;
    }

    /** Whether {@code b} holds {@code name} at {@code start}, ASCII letters compared without case. */
    private static boolean sameCharsIgnoreCase(AsciiString name, byte[] b, int start) {
        for (int i = 0; i < name.length(); i++) {
            byte n = name.byteAt(i);
            if (b[start + i] != n && lowerCase(b[start + i]) != lowerCase(n)) {
                return false;
            }
        }
        return true;
    }

    private static byte lowerCase(byte b) {
        return b >= 'A' && b <= 'Z' ? (byte) (b + ('a' - 'A')) : b;
    }

    /**
     * Whether the byte at {@code start}, where a request line may begin, is a control character. Netty's lenient
     * line parsing, which takes a lone LF as a line end, would skip such bytes before a request line; Go's
     * server refuses them, as Netty's strict parsing did, and so does this.
     */
    private static boolean startsWithControl(ByteBuf buffer, int start) {
        return start < buffer.writerIndex() && Character.isISOControl(buffer.getByte(start) & 0xFF);
    }

    /** Whether a line from {@code start} (past blank lines before a request line) to the head's end is folded. */
    private boolean hasObsoleteFold(ByteBuf buffer, int start) {
        int end = buffer.writerIndex();
        if (start >= end) {
            return false;
        }
        if (foldFinder == null) {
            foldFinder = new FoldFinder();
        }
        foldFinder.reset(headStarted);
        buffer.forEachByte(start, end - start, foldFinder);
        return foldFinder.found;
    }
}
