package ai.echo.defaultbackend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** Raw bytes in and out of an {@link EmbeddedChannel}, for the tests of the features added to 1.5. */
final class Wire {

    private static final Pattern DATE = Pattern.compile("\r\nDate: [A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} "
            + "\\d{2}:\\d{2}:\\d{2} GMT\r\n");

    private Wire() {
    }

    /** Sends bytes as a socket read delivers them: in a buffer from the channel's (leak-tracked) allocator. */
    static void send(EmbeddedChannel channel, String request) {
        byte[] bytes = request.getBytes(StandardCharsets.ISO_8859_1);
        channel.writeInbound(channel.alloc().buffer(bytes.length).writeBytes(bytes));
    }

    /** Everything written so far, as bytes, each buffer released. */
    static byte[] receivedBytes(EmbeddedChannel channel) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ByteBuf buf;
        while ((buf = channel.readOutbound()) != null) {
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            out.writeBytes(bytes);
            buf.release();
        }
        return out.toByteArray();
    }

    /** Everything written so far, as ISO-8859-1 text, with each Date value replaced by {@code <date>}. */
    static String received(EmbeddedChannel channel) {
        return DATE.matcher(new String(receivedBytes(channel), StandardCharsets.ISO_8859_1))
                .replaceAll("\r\nDate: <date>\r\n");
    }

    /** Bytes as a failed assertion can show them: CR and LF as \\r and \\n, other controls and non-ASCII as \\uXXXX. */
    static String printable(String bytes) {
        StringBuilder out = new StringBuilder();
        for (char c : bytes.toCharArray()) {
            out.append(c == '\r' ? "\\r" : c == '\n' ? "\\n" : c < 0x20 || c >= 0x7f
                    ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return out.toString();
    }

    /** The 1.5 answer to anything but /healthz, byte for byte (Date aside). */
    static final String NOT_FOUND_15 = "HTTP/1.1 404 Not Found\r\nDate: <date>\r\nContent-Length: 21\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\n\r\ndefault backend - 404";
}
