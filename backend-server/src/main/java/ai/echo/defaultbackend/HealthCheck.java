package ai.echo.defaultbackend;

import io.netty.util.NetUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code backend-server healthcheck}: GETs {@code /healthz} and exits 0 on a 200, 1 otherwise. It needs no
 * shell, no curl and no Netty, so it serves as the image's exec-form {@code HEALTHCHECK} and as the Helm
 * test hook. It checks the port and an address the server beside it listens on: in the image the server is
 * the container's first process (an exec-form {@code ENTRYPOINT}, no init), whose command line it reads,
 * flags and environment together as the server reads them; elsewhere {@code PORT} and
 * {@code BIND_ADDRESS}, as the server reads them. Its own flags win over both.
 */
final class HealthCheck {

    private static final String LOOPBACK = "127.0.0.1";
    /** The shortest --timeout: the sockets count in milliseconds. */
    private static final Duration MIN_TIMEOUT = Duration.ofMillis(1);

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
            .add("timeout", "duration", "2s", "connect and read timeout",
                    (t, v) -> t.timeout = timeout(Flags.duration(v)));

    /** The container's first process: in the image, the server. */
    private static final Path FIRST_PROCESS = Path.of("/proc/1");

    private HealthCheck() {
    }

    static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
        return run(args, env, serverArguments(FIRST_PROCESS, ownJar()), out, err);
    }

    /**
     * @param serverArgs the command line of the server beside the check, after its jar or main class, if
     *                   there is one
     */
    static int run(List<String> args, Map<String, String> env, Optional<List<String>> serverArgs, PrintStream out,
                   PrintStream err) {
        Target target = new Target();
        try {
            int help = FLAGS.firstCommand(args, List.of("h", "help"));
            if (help >= 0) {
                FLAGS.refuseBadFlags(new Target(), args.subList(0, help));
                out.println("Usage: backend-server healthcheck [--host 127.0.0.1] [--port 8080] [--path /healthz]"
                        + " [--timeout 2s]\nExits 0 when the path answers 200, 1 otherwise, 2 for a bad flag."
                        + " The host and port default to where the server listens (its --bind-address unless every"
                        + " address, and --port): read from its command line when it is the container's first"
                        + " process, else from BIND_ADDRESS and PORT.");
                return 0;
            }
            // PORT and BIND_ADDRESS, as the server reads them; not HOST and PATH, which mean other things there.
            String bindAddress = env.get("BIND_ADDRESS");
            String port = env.get("PORT");
            Optional<BackendConfig> server = serverArgs.flatMap(serverArguments -> serverConfig(serverArguments, env));
            if (server.isPresent()) {
                bindAddress = server.get().bindAddress();
                port = Integer.toString(server.get().port());
            }
            if (bindAddress != null && !bindAddress.isBlank()) {
                target.host = hostOf(bindAddress);
            }
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

    /**
     * The arguments of the server that {@code process} runs: what follows this check's own jar after
     * {@code -jar}, or its main class. Empty when the process runs something else or cannot be read (another
     * user's, or no {@code /proc}).
     */
    static Optional<List<String>> serverArguments(Path process, Path ownJar) {
        List<String> command;
        try {
            // Each argument ends in a NUL; an empty argument is an empty string between two of them.
            String cmdline = Files.readString(process.resolve("cmdline"), StandardCharsets.UTF_8);
            if (!cmdline.endsWith("\0")) {
                return Optional.empty();
            }
            command = Arrays.asList(cmdline.substring(0, cmdline.length() - 1).split("\0", -1));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        for (int i = 1; i < command.size(); i++) {
            if (command.get(i - 1).equals("-jar")) {
                return isFile(process, command.get(i), ownJar)
                        ? Optional.of(command.subList(i + 1, command.size())) : Optional.empty();
            }
            if (command.get(i).equals(Main.class.getName())) {
                return Optional.of(command.subList(i + 1, command.size()));
            }
        }
        return Optional.empty();
    }

    /** Whether {@code path}, as {@code process} names it (relative to its working directory), is {@code file}. */
    private static boolean isFile(Path process, String path, Path file) {
        try {
            Path named = Path.of(path);
            return file != null && Files.isSameFile(named.isAbsolute() ? named : process.resolve("cwd").resolve(named),
                    file);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The jar this class was loaded from, or null (a directory of classes, in the tests, is no jar of a server). */
    private static Path ownJar() {
        try {
            Path location = Path.of(HealthCheck.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return Files.isRegularFile(location) ? location : null;
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The check's timeout: at least 1 ms, the sockets' resolution. The server's timeouts take 0 for none, but a
     * check without a time limit would hang where the server does not answer (the JDK's sockets take 0 for none
     * too), and less than a millisecond would be rounded to one.
     */
    private static Duration timeout(Duration timeout) {
        if (timeout.compareTo(MIN_TIMEOUT) < 0) {
            throw new IllegalArgumentException("must be at least 1ms");
        }
        return timeout;
    }

    /** The configuration a server started with these arguments runs with, if it would run at all. */
    private static Optional<BackendConfig> serverConfig(List<String> args, Map<String, String> env) {
        try {
            return BackendConfig.parse(args, env) instanceof BackendConfig.Run run
                    ? Optional.of(run.config()) : Optional.empty();
        } catch (Flags.InvalidFlagException e) {
            return Optional.empty();
        }
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
