package ai.echo.defaultbackend.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A client that speaks raw bytes over a real socket, so that tests can assert exactly what goes on the wire. */
public final class RawConnection implements AutoCloseable {

    private static final Pattern DATE = Pattern.compile("\r\nDate: ([A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} "
            + "\\d{2}:\\d{2}:\\d{2} GMT)\r\n");
    private static final Pattern CONTENT_LENGTH = Pattern.compile("\r\nContent-Length: (\\d+)\r\n");

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawConnection(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    public static RawConnection open(int port) {
        return open("127.0.0.1", port);
    }

    public static RawConnection open(String host, int port) {
        try {
            Socket socket = new Socket();
            socket.connect(new InetSocketAddress(host, port), 5000);
            socket.setSoTimeout(15_000);
            socket.setTcpNoDelay(true);
            return new RawConnection(socket);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends a request and reads one response to it. */
    public static String exchange(int port, String request) {
        try (RawConnection connection = open(port)) {
            connection.send(request);
            return connection.readResponse(request.startsWith("HEAD "));
        }
    }

    public RawConnection send(String text) {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawConnection send(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public OutputStream output() {
        return out;
    }

    /**
     * Reads one response: its head, then as many body bytes as its Content-Length says (none for HEAD).
     * The Date value is checked to be now and replaced by {@code <date>}.
     */
    public String readResponse(boolean head) {
        return normaliseDate(readRawResponse(head));
    }

    /** As {@link #readResponse}, with the Date left as it was sent. */
    public String readRawResponse(boolean head) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            while (!endsWithBlankLine(bytes)) {
                int b = in.read();
                assertThat(b).as("response head so far: %s", bytes.toString(StandardCharsets.ISO_8859_1))
                        .isNotEqualTo(-1);
                bytes.write(b);
            }
            String text = bytes.toString(StandardCharsets.ISO_8859_1);
            Matcher length = CONTENT_LENGTH.matcher(text);
            int bodyLength = length.find() && !head ? Integer.parseInt(length.group(1)) : 0;
            byte[] body = in.readNBytes(bodyLength);
            assertThat(body).hasSize(bodyLength);
            return text + new String(body, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean endsWithBlankLine(ByteArrayOutputStream bytes) {
        byte[] b = bytes.toByteArray();
        int n = b.length;
        return n >= 4 && b[n - 4] == '\r' && b[n - 3] == '\n' && b[n - 2] == '\r' && b[n - 1] == '\n';
    }

    /** Whether the server closes the connection within the timeout, with nothing more sent. */
    public boolean closedWithin(Duration timeout) {
        try {
            socket.setSoTimeout((int) timeout.toMillis());
            int b = in.read();
            assertThat(b).as("no unexpected bytes before the close").isEqualTo(-1);
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true; // reset: closed too
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Whether the server has closed its socket for good, told apart from a half-close (a lingering close
     * still reads and drops what is sent): writes a byte every 10 ms until a write fails, which happens
     * once the server's kernel has answered an earlier byte with a reset, or until the timeout passes.
     */
    public boolean writeRefusedWithin(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (System.nanoTime() - deadline < 0) {
                out.write('x');
                out.flush();
                Thread.sleep(10); // no event says "the peer has reset": probing is the only way to see it
            }
            return false;
        } catch (IOException e) {
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Everything the server sends until it closes the connection. */
    public String readToEnd() {
        try {
            return normaliseDate(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The Date value of a response read with {@link #readRawResponse}; fails the test if there is none. */
    public static String date(String response) {
        Matcher date = DATE.matcher(response);
        assertThat(date.find()).as("a Date in%n%s", response).isTrue();
        return date.group(1);
    }

    static String normaliseDate(String response) {
        Matcher dates = DATE.matcher(response);
        StringBuilder normalised = new StringBuilder();
        while (dates.find()) {
            long now = System.currentTimeMillis() / 1000;
            assertThat(dates.group(1)).isIn(Expected.httpDate(now), Expected.httpDate(now - 1), Expected.httpDate(now - 2));
            dates.appendReplacement(normalised, "\r\nDate: <date>\r\n");
        }
        dates.appendTail(normalised);
        return normalised.toString();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
