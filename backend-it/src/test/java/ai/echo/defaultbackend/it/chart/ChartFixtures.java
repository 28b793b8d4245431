package ai.echo.defaultbackend.it.chart;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Facts the packaging tests compare against, read from their sources rather than copied into the tests. */
public final class ChartFixtures {

    private static final Pattern GO_DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

    private ChartFixtures() {
    }

    /** The chart's {@code ci/<feature>-values.yaml}, which turns on that one feature. */
    public static Path ci(String feature) {
        return ProjectPaths.chart().resolve("ci/" + feature + "-values.yaml");
    }

    /** Test cases for every values set the chart is checked with: the defaults (no file), then each ci file. */
    public static Stream<org.junit.jupiter.params.provider.Arguments> valuesCases() {
        return Stream.concat(
                Stream.of(org.junit.jupiter.params.provider.Arguments.of("defaults", null)),
                ciValuesFiles().stream().map(file ->
                        org.junit.jupiter.params.provider.Arguments.of(file.getFileName().toString(), file)));
    }

    /** Every {@code ci/*-values.yaml} of the chart, sorted; each turns on one feature. */
    public static List<Path> ciValuesFiles() {
        try (Stream<Path> files = Files.list(ProjectPaths.chart().resolve("ci"))) {
            List<Path> list = files.filter(p -> p.getFileName().toString().endsWith("-values.yaml")).sorted()
                    .collect(Collectors.toList());
            if (list.isEmpty()) {
                throw new AssertionError("no ci/*-values.yaml in " + ProjectPaths.chart());
            }
            return list;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The user and group of the image's {@code USER} instruction, as {@code uid:gid}; both numeric. */
    public static long[] imageUser() {
        Path dockerfile = ProjectPaths.root().resolve("docker/Dockerfile");
        if (!Files.isRegularFile(dockerfile)) {
            throw new AssertionError(dockerfile + " not found: the image's Dockerfile (issue: container image) must be"
                    + " merged before the chart's UID can be checked against its USER");
        }
        List<String> users;
        try (Stream<String> lines = Files.lines(dockerfile)) {
            users = lines.map(String::trim).filter(l -> l.regionMatches(true, 0, "USER ", 0, 5))
                    .map(l -> l.substring(5).trim()).collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (users.isEmpty()) {
            throw new AssertionError(dockerfile + " has no USER instruction");
        }
        // The last USER is the final stage's: the one the container runs as.
        String user = users.get(users.size() - 1);
        Matcher numeric = Pattern.compile("(\\d+):(\\d+)").matcher(user);
        if (!numeric.matches()) {
            throw new AssertionError(dockerfile + ": USER " + user + " must be numeric uid:gid, so that"
                    + " runAsNonRoot can be verified by the kubelet");
        }
        return new long[] {Long.parseLong(numeric.group(1)), Long.parseLong(numeric.group(2))};
    }

    /** A Go duration of whole units ({@code 5s}, {@code 500ms}, {@code 1m30s}), as the server's flags accept. */
    public static Duration goDuration(String text) {
        Matcher m = GO_DURATION.matcher(text);
        Duration total = Duration.ZERO;
        int end = 0;
        while (m.find()) {
            if (m.start() != end) {
                break;
            }
            long n = Long.parseLong(m.group(1));
            total = total.plus(switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            });
            end = m.end();
        }
        if (end == 0 || end != text.length()) {
            throw new AssertionError("not a Go duration: " + text);
        }
        return total;
    }
}
