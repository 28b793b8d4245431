package ai.echo.defaultbackend.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

/** The same contract on Temurin 25, the runtime the image ships. */
class Jdk25ContractIT extends ContractIT {

    @Override
    Path javaHome() {
        Path home = ServerProcess.jdk25();
        assertThat(home).as("Temurin 25 at /usr/lib/jvm/temurin-25-jdk-amd64 (or -Djdk25.home)").isNotNull();
        return home;
    }
}
