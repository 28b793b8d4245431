package ai.echo.defaultbackend.it;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The responses of defaultbackend 1.5, written out from the contract (upstream-contract.md, section 1), with
 * the Date value replaced by {@code <date>}. Written independently of the server's code on purpose.
 */
public final class Expected {

    public static final String OK = response("HTTP/1.1 200 OK", "ok", null, false);
    public static final String NOT_FOUND = response("HTTP/1.1 404 Not Found", "default backend - 404", null, false);
    public static final String BAD_REQUEST = response("HTTP/1.1 400 Bad Request", "400 Bad Request", "close", false);
    public static final String URI_TOO_LONG = response("HTTP/1.1 414 URI Too Long", "414 URI Too Long", "close", false);
    public static final String HEADERS_TOO_LARGE = response("HTTP/1.1 431 Request Header Fields Too Large",
            "431 Request Header Fields Too Large", "close", false);

    private static final DateTimeFormatter HTTP_DATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    private Expected() {
    }

    public static String response(String statusLine, String body, String connection, boolean head) {
        return statusLine + "\r\nDate: <date>\r\nContent-Length: " + body.length()
                + "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + (connection == null ? "" : "Connection: " + connection + "\r\n") + "\r\n" + (head ? "" : body);
    }

    static String httpDate(long epochSecond) {
        return HTTP_DATE.format(Instant.ofEpochSecond(epochSecond));
    }
}
