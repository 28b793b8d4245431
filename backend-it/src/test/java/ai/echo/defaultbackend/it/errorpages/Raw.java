package ai.echo.defaultbackend.it.errorpages;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** Exact bytes over a real socket: what a client sends, what the server answers until it closes. */
public final class Raw {

    private static final Pattern DATE = Pattern.compile("\r\nDate: [A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} "
            + "\\d{2}:\\d{2}:\\d{2} GMT\r\n");

    /** The 1.5 answer to anything but /healthz, byte for byte, with its Date replaced by {@code <date>}. */
    public static final String NOT_FOUND_15 = "HTTP/1.1 404 Not Found\r\nDate: <date>\r\nContent-Length: 21\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\n\r\ndefault backend - 404";

    private Raw() {
    }

    /**
     * Sends the request (which should end with {@code Connection: close} or be HTTP/1.0) and reads until the
     * server closes. Dates are replaced by {@code <date>}.
     */
    public static String exchange(int port, String request) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(15_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return DATE.matcher(out.toString(StandardCharsets.ISO_8859_1)).replaceAll("\r\nDate: <date>\r\n");
        }
    }
}
