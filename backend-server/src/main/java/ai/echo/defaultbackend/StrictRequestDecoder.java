package ai.echo.defaultbackend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ByteProcessor;
import java.util.List;

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
 */
final class StrictRequestDecoder extends HttpRequestDecoder {

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

    private final FoldFinder foldFinder = new FoldFinder();
    private boolean expectingHead = true;
    private boolean headStarted;
    private boolean rejected;

    StrictRequestDecoder(HttpDecoderConfig config) {
        super(config);
    }

    /** Whether bytes already read from the socket are waiting here: the start of a pipelined request. */
    boolean hasBufferedInput() {
        return actualReadableBytes() > 0;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        if (rejected) {
            buffer.skipBytes(buffer.readableBytes());
            return;
        }
        if (expectingHead && hasObsoleteFold(buffer)) {
            rejected = true;
            buffer.skipBytes(buffer.readableBytes());
            DefaultFullHttpRequest invalid =
                    new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/bad-request");
            invalid.setDecoderResult(DecoderResult.failure(
                    new IllegalArgumentException("obsolete line folding in request head")));
            out.add(invalid);
            return;
        }
        int readerIndex = buffer.readerIndex();
        int firstNew = out.size();
        super.decode(ctx, buffer, out);
        for (int i = firstNew; i < out.size(); i++) {
            Object message = out.get(i);
            if (message instanceof HttpRequest) {
                expectingHead = false;
                headStarted = false;
            }
            if (message instanceof LastHttpContent) {
                expectingHead = true;
            }
        }
        if (expectingHead && out.size() == firstNew && buffer.readerIndex() != readerIndex) {
            headStarted = true;
        }
    }

    private boolean hasObsoleteFold(ByteBuf buffer) {
        int start = buffer.readerIndex();
        int end = buffer.writerIndex();
        if (!headStarted) {
            // Netty skips blank lines before a request line; so does this scan.
            while (start < end && (buffer.getByte(start) == '\r' || buffer.getByte(start) == '\n')) {
                start++;
            }
        }
        if (start >= end) {
            return false;
        }
        foldFinder.reset(headStarted);
        buffer.forEachByte(start, end - start, foldFinder);
        return foldFinder.found;
    }
}
