package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BackendConfigTest {

    private static BackendConfig parse(Map<String, String> env, String... args) {
        BackendConfig.Command command = BackendConfig.parse(List.of(args), env);
        assertThat(command).isInstanceOf(BackendConfig.Run.class);
        return ((BackendConfig.Run) command).config();
    }

    @Test
    void defaultsAreThoseOf15() {
        BackendConfig config = parse(Map.of());
        assertThat(config).isEqualTo(BackendConfig.DEFAULTS);
        assertThat(config.port()).isEqualTo(8080);
        assertThat(config.svcPort()).isEqualTo(10254);
        assertThat(config.shutdownTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(List.of(config.readHeaderTimeout(), config.readTimeout(), config.writeTimeout(),
                config.idleTimeout())).containsOnly(Duration.ofSeconds(10));
        assertThat(config.transport()).isEqualTo(Transport.AUTO);
        assertThat(config.bindAddress()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"-port 9090", "--port 9090", "-port=9090", "--port=9090"})
    void acceptsTheFourSpellingsOfGoFlags(String spelling) {
        assertThat(parse(Map.of(), spelling.split(" ")).port()).isEqualTo(9090);
    }

    @Test
    void everyFlagHasAnEnvironmentVariableAndTheFlagWins() {
        Map<String, String> env = Map.of("PORT", "7000", "SVC_PORT", "7001", "TIMEOUT", "30s",
                "READ_HEADER_TIMEOUT", "1s", "MAX_CONNECTIONS", "5", "TRANSPORT", "nio", "BIND_ADDRESS", "::1");
        BackendConfig fromEnv = parse(env);
        assertThat(fromEnv.port()).isEqualTo(7000);
        assertThat(fromEnv.svcPort()).isEqualTo(7001);
        assertThat(fromEnv.shutdownTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(fromEnv.readHeaderTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(fromEnv.maxConnections()).isEqualTo(5);
        assertThat(fromEnv.transport()).isEqualTo(Transport.NIO);
        assertThat(fromEnv.bindAddress()).isEqualTo("::1");
        assertThat(parse(env, "--port=7100", "--transport", "epoll").port()).isEqualTo(7100);
        assertThat(parse(env, "--port=7100", "--transport", "epoll").transport()).isEqualTo(Transport.EPOLL);
    }

    @Test
    void helpAndVersionAreCommands() {
        assertThat(BackendConfig.parse(List.of("--help"), Map.of())).isInstanceOf(BackendConfig.Help.class);
        assertThat(BackendConfig.parse(List.of("-h"), Map.of())).isInstanceOf(BackendConfig.Help.class);
        assertThat(BackendConfig.parse(List.of("--version"), Map.of())).isInstanceOf(BackendConfig.Version.class);
        assertThat(BackendConfig.usage()).contains("--port", "--svc-port", "--timeout", "PORT", "SVC_PORT", "TIMEOUT",
                "--read-header-timeout", "--max-connections", "--transport", "io_uring");
    }

    /** As Go's flag package: the command line is read in order, and what it meets first decides. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "--help --nope|help",
            "--port=1 -h --nope|help",
            "--port 1 --version --nope|version",
            "--metrics --help|help",
            "--help=1|help",
            "-h=x|help",
            "--h|help",
            "-version|version",
            "--port=abc --help|invalid value \"abc\" for flag --port: not a number",
            "--port=abc --version|invalid value \"abc\" for flag --port: not a number",
            "--nope --help|unknown flag: \"--nope\"",
            "--nope --version|unknown flag: \"--nope\"",
            "--port --help|invalid value \"--help\" for flag --port: not a number",
            "extra --help|unexpected argument: \"extra\"",
            "-- --help|unexpected argument: \"--help\"",
    })
    void whatComesFirstOnTheCommandLineDecides(String commandLine, String outcome) {
        List<String> args = List.of(commandLine.split(" "));
        Map<String, String> badEnvironment = Map.of("PORT", "abc");
        switch (outcome) {
            case "help" -> assertThat(BackendConfig.parse(args, badEnvironment)).isInstanceOf(BackendConfig.Help.class);
            case "version" -> assertThat(BackendConfig.parse(args, badEnvironment))
                    .isInstanceOf(BackendConfig.Version.class);
            default -> assertThatThrownBy(() -> BackendConfig.parse(args, Map.of()))
                    .isInstanceOf(Flags.InvalidFlagException.class).hasMessage(outcome);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "--nope=1|unknown flag: \"--nope\"",
            "--port=abc|invalid value \"abc\" for flag --port: not a number",
            "--port=70000|invalid value \"70000\" for flag --port: must be a port number from 0 to 65535",
            "--timeout=5|invalid value \"5\" for flag --timeout: missing unit (such as 500ms, 5s, 1m)",
            "--timeout=5x|invalid value \"5x\" for flag --timeout: unknown unit \"x\" (use ns, us, ms, s, m or h)",
            "--idle-timeout=-1s|invalid value \"-1s\" for flag --idle-timeout: negative durations are not allowed (every duration here is a timeout)",
            "--transport=kqueue|invalid value \"kqueue\" for flag --transport: must be one of auto, epoll, nio, io_uring",
            "--bind-address=localhost|invalid value \"localhost\" for flag --bind-address: must be an IPv4 or IPv6 address, or empty for all addresses",
            "--max-connections=-1|invalid value \"-1\" for flag --max-connections: must not be negative",
            "--port|flag needs a value: --port",
            "stray|unexpected argument: \"stray\"",
            "--port=\u001b[31m|invalid value \"\\u001b[31m\" for flag --port: not a number",
            // Integers Go's flag package refuses (base 0: 08080 is a bad octal number), or an int cannot hold.
            "--max-connections=08080|invalid value \"08080\" for flag --max-connections: not a number",
            "--max-connections=0x|invalid value \"0x\" for flag --max-connections: not a number",
            "--max-connections=0b102|invalid value \"0b102\" for flag --max-connections: not a number",
            "--max-connections=0-1|invalid value \"0-1\" for flag --max-connections: not a number",
            "--max-connections=0x-1|invalid value \"0x-1\" for flag --max-connections: not a number",
            "--max-connections=--8080|invalid value \"--8080\" for flag --max-connections: not a number",
            "--max-connections=+-1|invalid value \"+-1\" for flag --max-connections: not a number",
            "--max-connections=8080.0|invalid value \"8080.0\" for flag --max-connections: not a number",
            "--max-connections=2147483648|invalid value \"2147483648\" for flag --max-connections: out of range",
            "--max-connections=-0x80000001|invalid value \"-0x80000001\" for flag --max-connections: out of range",
    })
    void badFlagsAreNamedInOneLine(String arg, String message) {
        assertThatThrownBy(() -> BackendConfig.parse(List.of(arg), Map.of()))
                .isInstanceOf(Flags.InvalidFlagException.class)
                .hasMessage(message);
    }

    @Test
    void badEnvironmentVariablesAreNamed() {
        assertThatThrownBy(() -> BackendConfig.parse(List.of(), Map.of("SVC_PORT", "tcp://10.0.0.1:80")))
                .hasMessage("invalid value \"tcp://10.0.0.1:80\" for environment variable SVC_PORT: not a number");
    }

    @Test
    void theConnectionLimitFollowsTheHeapUnlessSet() {
        BackendConfig derived = parse(Map.of());
        assertThat(derived.maxConnections()).isZero();
        assertThat(derived.effectiveMaxConnections(16L << 20)).as("a 64 MiB pod's 16 MiB heap").isEqualTo(4096);
        assertThat(derived.effectiveMaxConnections(1L << 30)).isEqualTo(BackendConfig.MAX_CONNECTIONS_CEILING);
        assertThat(derived.effectiveMaxConnections(1L << 20)).isEqualTo(256);
        assertThat(parse(Map.of(), "--max-connections=50000").effectiveMaxConnections(16L << 20)).isEqualTo(50000);
    }

    @Test
    void portsTakeTheWholeRange() {
        BackendConfig config = parse(Map.of(), "--port=65535", "--svc-port=0");
        assertThat(List.of(config.port(), config.svcPort())).containsExactly(65535, 0);
    }

    /** Integers are read as Go's flag package reads them (base 0), so a 1.5 flag names the same port here. */
    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({
            "8080, 8080",
            "+8080, 8080",
            "0x1F90, 8080",
            "0X1f90, 8080",
            "017620, 8080",
            "0o17620, 8080",
            "0B1111110010000, 8080",
            "010, 8",
            "00, 0",
            "0, 0",
    })
    void readsIntegersAsGoFlagsDo(String text, int port) {
        assertThat(parse(Map.of(), "--port=" + text).port()).isEqualTo(port);
    }

    /** Equal ports are one line naming both settings and where each value came from, the user's or not. */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "--port=10254||--port (flag) and --svc-port (default) are both 10254; they must differ",
            "--svc-port=0x1F90||--port (default) and --svc-port (flag) are both 8080; they must differ",
            "--port=9000 --svc-port=9000||--port (flag) and --svc-port (flag) are both 9000; they must differ",
            "|PORT=9000 SVC_PORT=9000|--port (environment variable PORT) and --svc-port (environment variable "
                    + "SVC_PORT) are both 9000; they must differ",
            "|PORT=10254|--port (environment variable PORT) and --svc-port (default) are both 10254; they must differ",
            "--svc-port=9000|PORT=9000|--port (environment variable PORT) and --svc-port (flag) are both 9000; "
                    + "they must differ",
            "--port=9000|PORT=7000 SVC_PORT=9000|--port (flag) and --svc-port (environment variable SVC_PORT) are "
                    + "both 9000; they must differ",
    })
    void equalPortsNameBothSettingsAndWhereEachCameFrom(String args, String env, String message) {
        List<String> argList = args == null ? List.of() : List.of(args.split(" "));
        Map<String, String> envMap = new java.util.HashMap<>();
        if (env != null) {
            for (String pair : env.split(" ")) {
                envMap.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
            }
        }
        assertThatThrownBy(() -> BackendConfig.parse(argList, envMap))
                .isInstanceOf(Flags.InvalidFlagException.class)
                .hasMessage(message);
    }

    @Test
    void equalPortsSetOneWayAreFineWhenTheOtherWayWins() {
        BackendConfig config = parse(Map.of("PORT", "9000", "SVC_PORT", "9000"), "--svc-port=9001");
        assertThat(List.of(config.port(), config.svcPort())).containsExactly(9000, 9001);
        assertThat(parse(Map.of(), "--port=0", "--svc-port=0").port()).as("two ephemeral ports").isZero();
    }

    @ParameterizedTest(name = "{0} = {1} ns")
    @CsvSource({
            "0, 0",
            "1ns, 1",
            "1us, 1000",
            "1\u00b5s, 1000",
            "500ms, 500000000",
            "5s, 5000000000",
            "1.5s, 1500000000",
            ".5s, 500000000",
            "1m, 60000000000",
            "1m30s, 90000000000",
            "2h45m, 9900000000000",
            "2562047h, 9223369200000000000",
            "9223372036854775807ns, 9223372036854775807",
    })
    void readsGoDurations(String text, long nanos) {
        assertThat(GoDuration.parse(text)).isEqualTo(Duration.ofNanos(nanos));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "s", "1", "1.2.3s", "1d", "5 s", "1m-3s", "2562048h",
            "9223372036854775808ns", "2562047h1h"})
    void refusesWhatGoRefuses(String text) {
        assertThatThrownBy(() -> GoDuration.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @CsvSource({"0s, 0", "500ms, 500000000", "5s, 5000000000", "1m30s, 90000000000", "2h0m5s, 7205000000000"})
    void formatsDurationsSoTheyParseBack(String text, long nanos) {
        assertThat(GoDuration.format(Duration.ofNanos(nanos))).isEqualTo(text);
        assertThat(GoDuration.parse(text)).isEqualTo(Duration.ofNanos(nanos));
    }
}
