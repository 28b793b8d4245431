package ai.echo.defaultbackend.it;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The two JDKs the project runs on, for tests that start a JVM of each: where each is installed comes from
 * a system property ({@code -Djdk17.home=...}, {@code -Djdk25.home=...} on the Maven command line), with
 * the Debian and Temurin paths of CI as defaults.
 */
public enum Jdk {
    JDK_17("jdk17.home", "/usr/lib/jvm/java-17-openjdk-amd64"),
    JDK_25("jdk25.home", "/usr/lib/jvm/temurin-25-jdk-amd64");

    private final String property;
    private final String defaultHome;

    Jdk(String property, String defaultHome) {
        this.property = property;
        this.defaultHome = defaultHome;
    }

    /** The JDK's home: the system property when set, else the default path. */
    public Path home() {
        return Path.of(System.getProperty(property, defaultHome));
    }

    /** Whether it reads {@code docker/jvm25.options} after {@code docker/jvm.options}, as the image does. */
    public boolean readsJvm25Options() {
        return this == JDK_25;
    }

    /** The home, failing with what to set where the JDK is not installed: a test of both JDKs never skips one. */
    public Path requireHome() {
        Path home = home();
        if (!Files.isExecutable(home.resolve("bin/java"))) {
            throw new IllegalStateException("no JDK at " + home + ": the project runs on JDK 17 and 25 (CI has both);"
                    + " point -D" + property + " at this machine's");
        }
        return home;
    }

    @Override
    public String toString() {
        return name() + " (" + home() + ")";
    }
}
