package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

/** The leak check that every test relies on really reports a leak. */
class LeakDetectionTest {

    @Test
    void runsAtParanoidLevel() {
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
    }

    @Test
    void anUnreleasedBufferIsReported() {
        leakOne();
        assertThat(LeakDetection.collectLeaks()).isNotEmpty();
    }

    private static void leakOne() {
        ByteBuf leaked = ByteBufAllocator.DEFAULT.directBuffer(16);
        leaked.writeLong(42);
    }
}
