package ai.echo.defaultbackend;

import io.netty.util.NetUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code backend-server healthcheck}: GETs {@code /healthz} and exits 0 on a 200, 1 otherwise. It needs no
 * shell, no curl and no Netty, so it serves as the image's exec-form {@code HEALTHCHECK} and as the Helm
 * test hook. It reads {@code PORT} and {@code BIND_ADDRESS} like the server, so in the same container it
 * checks the same port on an address the server listens on; flags given to the server it cannot see.
 */
final class HealthCheck {

    private static final String LOOPBACK = "127.0.0.1";

    static final class Target {
        String host = LOOPBACK;
        int port = BackendConfig.DEFAULTS.port();
        String path = "/healthz";
        Duration timeout = Duration.ofSeconds(2);
    }

    private static final Flags<Target> FLAGS = new Flags<Target>()
            .add("host", "address", LOOPBACK, "host or address to check (env BIND_ADDRESS when it is one address,"
                    + " as the server)", (t, v) -> t.host = host(v))
            .add("port", "int", Integer.toString(BackendConfig.DEFAULTS.port()),
                    "port to check (env PORT, as the server)", (t, v) -> t.port = Flags.port(v))
            .add("path", "path", "/healthz", "path to GET", (t, v) -> t.path = path(v))
            .add("timeout", "duration", "2s", "connect and read timeout", (t, v) -> t.timeout = Flags.duration(v));

    private HealthCheck() {
    }

    static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
        Target target = new Target();
        try {
            int help = FLAGS.firstCommand(args, List.of("h", "help"));
            if (help >= 0) {
                FLAGS.refuseBadFlags(new Target(), args.subList(0, help));
                out.println("Usage: backend-server healthcheck [--host 127.0.0.1] [--port 8080] [--path /healthz]"
                        + " [--timeout 2s]\nExits 0 when the path answers 200, 1 otherwise. The host and port"
                        + " default to the server's BIND_ADDRESS (unless every address) and PORT.");
                return 0;
            }
            // PORT and BIND_ADDRESS, as the server reads them; not HOST and PATH, which mean other things there.
            String bindAddress = env.get("BIND_ADDRESS");
            if (bindAddress != null && !bindAddress.isBlank()) {
                target.host = hostOf(bindAddress);
            }
            String port = env.get("PORT");
            List<String> positional = FLAGS.apply(target, args, port == null ? Map.of() : Map.of("PORT", port));
            if (!positional.isEmpty()) {
                throw new Flags.InvalidFlagException("unexpected argument: " + Flags.quote(positional.get(0)));
            }
        } catch (Flags.InvalidFlagException e) {
            err.println("healthcheck: " + e.getMessage());
            return 2;
        }
        String url = "http://" + (target.host.indexOf(':') >= 0 ? "[" + target.host + "]" : target.host) + ":"
                + target.port + target.path;
        try {
            int status = get(target);
            if (status == 200) {
                out.println("healthy: " + url + " answered 200");
                return 0;
            }
            err.println("unhealthy: " + url + " answered " + status);
        } catch (IOException e) {
            err.println("unhealthy: " + url + ": " + e.getMessage());
        }
        return 1;
    }

    private static int get(Target target) throws IOException {
        int timeoutMillis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, target.timeout.toMillis()));
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(target.host, target.port), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            String hostHeader = target.host.indexOf(':') >= 0 ? "[" + target.host + "]" : target.host;
            OutputStream request = socket.getOutputStream();
            request.write(("GET " + target.path + " HTTP/1.1\r\nHost: " + hostHeader + ":" + target.port
                    + "\r\nUser-Agent: defaultbackend-healthcheck\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            request.flush();
            return readStatus(socket.getInputStream());
        }
    }

    /** The status code of an HTTP/1.x status line. */
    private static int readStatus(InputStream in) throws IOException {
        byte[] line = new byte[64];
        int length = 0;
        int b;
        while (length < line.length && (b = in.read()) != -1 && b != '\n') {
            line[length++] = (byte) b;
        }
        String status = new String(line, 0, length, StandardCharsets.US_ASCII);
        if (!status.startsWith("HTTP/1.") || status.length() < 12) {
            throw new IOException("not an HTTP response");
        }
        try {
            return Integer.parseInt(status.substring(9, 12));
        } catch (NumberFormatException e) {
            throw new IOException("not an HTTP response");
        }
    }

    private static String host(String value) {
        String host = value.trim();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty() || !host.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '/')) {
            throw new IllegalArgumentException("must be a host name or an address");
        }
        return host;
    }

    /** Where to reach a server bound to {@code bindAddress}: that address, or loopback for every address. */
    private static String hostOf(String bindAddress) {
        String host;
        try {
            host = host(bindAddress);
        } catch (IllegalArgumentException e) {
            throw new Flags.InvalidFlagException("invalid value " + Flags.quote(bindAddress)
                    + " for environment variable BIND_ADDRESS: " + e.getMessage());
        }
        // 0.0.0.0, ::, 0:0:0:0:0:0:0:0: the server listens on every address, loopback's among them. The same
        // test as the server's own (BackendServer.describe), on the literal without a name lookup.
        InetAddress literal = NetUtil.createInetAddressFromIpAddressString(host);
        return literal != null && literal.isAnyLocalAddress() ? LOOPBACK : host;
    }

    private static String path(String value) {
        if (!value.startsWith("/") || !value.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException("must start with / and contain no spaces or control characters");
        }
        return value;
    }
}
