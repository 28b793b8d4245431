package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The {@code healthcheck} subcommand against the server in process, on real sockets. The image's
 * {@code HEALTHCHECK} runs it with the container's environment and no flags, so it must find the server
 * where the server's own environment put it: {@code PORT}, and {@code BIND_ADDRESS} when that is one address.
 */
class HealthCheckTest {

    private record Outcome(int code, String out, String err) {
    }

    private static Outcome check(List<String> args, Map<String, String> env) {
        return check(args, env, Optional.empty());
    }

    private static Outcome check(List<String> args, Map<String, String> env, Optional<List<String>> serverArgs) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream outStream = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = HealthCheck.run(args, env, serverArgs, outStream, errStream);
        }
        return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static BackendServer serverOn(String bindAddress) {
        return BackendServer.start(((BackendConfig.Run) BackendConfig.parse(List.of("--port=0", "--svc-port=0",
                "--bind-address=" + bindAddress, "--transport=nio", "--error-files-path=/nonexistent"),
                Map.of())).config());
    }

    /**
     * @param serverAddress where the server listens ({@code --bind-address}; empty: every address)
     * @param bindAddress   the health check's {@code BIND_ADDRESS}, unset when null
     * @param flags         the health check's flags, besides none
     * @param url           the URL the health check reports, {@code P} for the port
     */
    @ParameterizedTest(name = "server on \"{0}\", BIND_ADDRESS={1} {2}: {3}")
    @CsvSource(delimiter = '|', value = {
            // The server bound to one address: the check goes there, bracketed when IPv6.
            "::1|::1||0|http://[::1]:P/healthz",
            "::1|[::1]||0|http://[::1]:P/healthz",
            "127.0.0.1|127.0.0.1||0|http://127.0.0.1:P/healthz",
            // Without BIND_ADDRESS, loopback's IPv4 address: not where a server on ::1 listens.
            "::1|||1|http://127.0.0.1:P/healthz",
            // The server is elsewhere than BIND_ADDRESS says.
            "127.0.0.1|::1||1|http://[::1]:P/healthz",
            // A wildcard is every address: the check asks loopback.
            "|::||0|http://127.0.0.1:P/healthz",
            "|[::]||0|http://127.0.0.1:P/healthz",
            "|0.0.0.0||0|http://127.0.0.1:P/healthz",
            "|0:0:0:0:0:0:0:0||0|http://127.0.0.1:P/healthz",
            "|' '||0|http://127.0.0.1:P/healthz",
            // An explicit --host wins over BIND_ADDRESS.
            "::1|127.0.0.1|--host=::1|0|http://[::1]:P/healthz",
            "::1|::1|--host=127.0.0.1|1|http://127.0.0.1:P/healthz",
    })
    void followsBindAddressAsTheServerDoesUnlessHostIsGiven(String serverAddress, String bindAddress, String flags,
                                                           int code, String url) {
        try (BackendServer server = serverOn(serverAddress == null ? "" : serverAddress)) {
            Map<String, String> env = new HashMap<>();
            env.put("PORT", Integer.toString(server.port()));
            if (bindAddress != null) {
                env.put("BIND_ADDRESS", bindAddress);
            }
            List<String> args = new ArrayList<>();
            if (flags != null) {
                args.add(flags);
            }
            Outcome outcome = check(args, env);
            String expected = url.replace("P", Integer.toString(server.port()));
            assertThat(outcome.code()).as("exit code; out: %s err: %s", outcome.out(), outcome.err()).isEqualTo(code);
            if (code == 0) {
                assertThat(outcome.out()).isEqualTo("healthy: " + expected + " answered 200\n");
                assertThat(outcome.err()).isEmpty();
            } else {
                assertThat(outcome.err()).startsWith("unhealthy: " + expected + ": ");
                assertThat(outcome.out()).isEmpty();
            }
        }
    }

    @ParameterizedTest(name = "BIND_ADDRESS={0}")
    @CsvSource(delimiter = '|', value = {
            "a/b|healthcheck: invalid value \"a/b\" for environment variable BIND_ADDRESS: must be a host name or "
                    + "an address",
            "[]|healthcheck: invalid value \"[]\" for environment variable BIND_ADDRESS: must be a host name or "
                    + "an address",
    })
    void aBindAddressThatIsNoAddressIsNamedWithExitCode2(String bindAddress, String message) {
        Outcome outcome = check(List.of(), Map.of("BIND_ADDRESS", bindAddress));
        assertThat(outcome.code()).isEqualTo(2);
        assertThat(outcome.err()).isEqualTo(message + "\n");
    }

    /**
     * A timeout of 0 was made 1 ms, a check that gave the server no time to answer, and the container turned
     * unhealthy; so was anything under a millisecond. Refused as a bad flag, where the server's own timeouts
     * take 0 for none.
     */
    @ParameterizedTest(name = "--timeout={0}")
    @CsvSource({"0", "0s", "-1s", "500us", "999999ns"})
    void aTimeoutThatLeavesNoTimeToAnswerIsRefused(String timeout) {
        Outcome outcome = check(List.of("--timeout=" + timeout), Map.of());
        assertThat(outcome.code()).isEqualTo(2);
        assertThat(outcome.out()).isEmpty();
        assertThat(outcome.err()).startsWith("healthcheck: invalid value \"" + timeout + "\" for flag --timeout: ")
                .endsWith("\n").hasLineCount(1);
    }

    @Test
    void helpIsPrintedOnlyWhenTheCommandLineReachesItAsTheServersDoes() {
        Outcome help = check(List.of("--port", "1", "--help", "--nope"), Map.of());
        assertThat(help.code()).isZero();
        assertThat(help.out()).startsWith("Usage: backend-server healthcheck");
        Outcome refused = check(List.of("--nope", "--help"), Map.of());
        assertThat(refused.code()).isEqualTo(2);
        assertThat(refused.out()).isEmpty();
        assertThat(refused.err()).isEqualTo("healthcheck: unknown flag: \"--nope\"\n");
        Outcome badValue = check(List.of("--port=abc", "--help"), Map.of());
        assertThat(badValue.code()).isEqualTo(2);
        assertThat(badValue.err()).isEqualTo("healthcheck: invalid value \"abc\" for flag --port: not a number\n");
        assertThat(check(List.of("--help=1"), Map.of()).out()).startsWith("Usage: backend-server healthcheck");
    }

    /**
     * In the image the server is the container's first process and may have been given its port and address
     * as flags (a Compose {@code command:}, {@code podman run image --port=9000}): the check reads them from
     * its command line, with the environment, as the server does; the check's own flags still win.
     */
    @Test
    void findsTheServerWhereItsCommandLinePutItAsWellAsItsEnvironment() {
        try (BackendServer server = serverOn("127.0.0.1")) {
            String port = Integer.toString(server.port());
            Map<String, String> decoy = Map.of("PORT", "1", "BIND_ADDRESS", "::1");
            Outcome byFlags = check(List.of(), decoy,
                    Optional.of(List.of("--port=" + port, "--bind-address", "127.0.0.1")));
            assertThat(byFlags.code()).as("err: %s", byFlags.err()).isZero();
            assertThat(byFlags.out()).isEqualTo("healthy: http://127.0.0.1:" + port + "/healthz answered 200\n");
            // The server's flags name the port, its environment the address: both, as the server reads them.
            Outcome both = check(List.of(), Map.of("PORT", "1", "BIND_ADDRESS", "127.0.0.1"),
                    Optional.of(List.of("-port", port)));
            assertThat(both.code()).as("err: %s", both.err()).isZero();
            // The check's own flags win.
            Outcome own = check(List.of("--port=1"), Map.of(), Optional.of(List.of("--port=" + port)));
            assertThat(own.code()).isEqualTo(1);
            assertThat(own.err()).startsWith("unhealthy: http://127.0.0.1:1/healthz: ");
            // A command line the server would refuse is no server's: the environment decides.
            Outcome refused = check(List.of(), Map.of("PORT", port), Optional.of(List.of("--port=1", "--nope")));
            assertThat(refused.code()).as("err: %s", refused.err()).isZero();
        }
    }

    @Test
    void readsTheServersArgumentsFromAProcessRunningItsOwnJarOrMainClass(@TempDir Path dir) throws Exception {
        Path jar = Files.createFile(dir.resolve("backend-server.jar"));
        Path other = Files.createFile(dir.resolve("other.jar"));
        Path process = Files.createDirectory(dir.resolve("1"));
        Files.createSymbolicLink(process.resolve("cwd"), dir);

        Files.writeString(process.resolve("cmdline"), "/opt/jre/bin/java\0@/app/jvm.options\0-Dx=-jar\0-jar\0" + jar
                + "\0--port=9000\0--bind-address\0\0");
        assertThat(HealthCheck.serverArguments(process, jar)).contains(List.of("--port=9000", "--bind-address", ""));
        // A jar named relative to the process's working directory.
        Files.writeString(process.resolve("cmdline"), "java\0-jar\0backend-server.jar\0-port\0" + "9000\0");
        assertThat(HealthCheck.serverArguments(process, jar)).contains(List.of("-port", "9000"));
        Files.writeString(process.resolve("cmdline"), "java\0-cp\0x.jar\0" + Main.class.getName() + "\0--port=1\0");
        assertThat(HealthCheck.serverArguments(process, jar)).contains(List.of("--port=1"));
        // Another program, another jar, no jar of our own, nothing readable.
        for (String cmdline : List.of("/sbin/init\0", "java\0-jar\0" + other + "\0--port=1\0", "")) {
            Files.writeString(process.resolve("cmdline"), cmdline);
            assertThat(HealthCheck.serverArguments(process, jar)).as(cmdline).isEmpty();
        }
        Files.writeString(process.resolve("cmdline"), "java\0-jar\0" + jar + "\0");
        assertThat(HealthCheck.serverArguments(process, null)).isEmpty();
        assertThat(HealthCheck.serverArguments(dir.resolve("2"), jar)).isEmpty();
    }
}
