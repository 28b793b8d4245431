package ai.echo.defaultbackend.it.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * docker/README.md against docker/Dockerfile, with no image: the ENTRYPOINT the README shows, and the one it
 * gives as the base of a replaced ENTRYPOINT, are the Dockerfile's, and every file of {@code /app} that the
 * ENTRYPOINT names has a row in the README's table of paths. (ImageContentsIT checks that the built image
 * declares the Dockerfile's ENTRYPOINT.)
 */
class DockerReadmeIT {

    /** The Dockerfile's exec-form {@code ENTRYPOINT}, element by element. */
    static List<String> dockerfileEntrypoint() throws IOException {
        String dockerfile = Files.readString(LocalImage.projectRoot().resolve("docker/Dockerfile"));
        Matcher entrypoint = Pattern.compile("^ENTRYPOINT (\\[.*])$", Pattern.MULTILINE).matcher(dockerfile);
        assertThat(entrypoint.find()).as("an exec-form ENTRYPOINT in docker/Dockerfile").isTrue();
        return strings(entrypoint.group(1));
    }

    /** The elements of a JSON array of strings. */
    static List<String> strings(String jsonArray) {
        List<String> elements = new ArrayList<>();
        for (JsonNode element : JsonMapper.builder().build().readTree(jsonArray)) {
            elements.add(element.asString());
        }
        return elements;
    }

    @Test
    void showsTheDockerfilesEntrypoint() throws IOException {
        Matcher shown = Pattern.compile("`ENTRYPOINT` \\(exec form[^\\n]*\\n\\n```\\n(\\[[^\\n]*])\\n```")
                .matcher(readme());
        assertThat(shown.find()).as("docker/README.md's ENTRYPOINT block").isTrue();
        assertThat(strings(shown.group(1))).as("the ENTRYPOINT docker/README.md shows").isEqualTo(dockerfileEntrypoint());
    }

    /**
     * "Changing JVM flags" shows a pod's {@code command:} list: the ENTRYPOINT with the reader's flags (the
     * items marked {@code # yours}) after the argument files.
     */
    @Test
    void baseOfAReplacedEntrypointIsTheDockerfiles() throws IOException {
        String readme = readme();
        Matcher block = Pattern.compile("```yaml\\ncommand:\\n((?:  - [^\\n]*\\n)+)```").matcher(readme);
        assertThat(block.find()).as("a command: list in docker/README.md").isTrue();
        List<String> image = new ArrayList<>();
        List<String> yours = new ArrayList<>();
        for (String line : block.group(1).split("\n")) {
            String item = line.substring("  - ".length());
            boolean mine = item.matches(".*\\s+# yours$");
            item = item.replaceFirst("\\s+# yours$", "").replaceFirst("^\"(.*)\"$", "$1");
            if (mine) {
                yours.add(item);
            } else {
                image.add(item);
            }
        }
        assertThat(image).as("the command: list less the reader's flags").isEqualTo(dockerfileEntrypoint());
        int afterFiles = block.group(1).indexOf("@/app/jvm25.options");
        assertThat(yours).as("the reader's flags").isNotEmpty()
                .allSatisfy(flag -> assertThat(block.group(1).indexOf(flag)).as("%s after the argument files", flag)
                        .isGreaterThan(afterFiles));
    }

    @Test
    void tabulatesEveryFileOfAppTheEntrypointNames() throws IOException {
        List<String> rows = readme().lines().filter(line -> line.startsWith("| `/"))
                .map(line -> line.substring(2, line.indexOf(" |", 2))).toList();
        List<String> named = dockerfileEntrypoint().stream()
                .map(element -> element.replaceFirst("^(@|-Djava\\.library\\.path=|-XX:AOTCache=)", ""))
                .filter(path -> path.startsWith("/app/")).toList();
        assertThat(named).as("the /app paths of the ENTRYPOINT").contains("/app/jvm.options", "/app/jvm25.options");
        for (String path : named) {
            assertThat(rows).as("docker/README.md's rows of paths").anyMatch(row -> row.contains("`" + path));
        }
    }

    private static String readme() throws IOException {
        return Files.readString(LocalImage.projectRoot().resolve("docker/README.md"));
    }
}
