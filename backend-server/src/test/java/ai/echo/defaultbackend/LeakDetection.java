package ai.echo.defaultbackend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Makes a ByteBuf leak fail the test suite instead of printing a log line nobody reads. Installed before
 * any test class loads (a launcher-session listener, so before Netty creates its detectors), it records
 * every leak Netty's detector reports; after each test it collects garbage, makes the detector look, and
 * fails the test if anything leaked. Runs with {@code io.netty.leakDetection.level=paranoid} (set by the
 * build), so every buffer is tracked.
 */
public final class LeakDetection implements LauncherSessionListener, AfterEachCallback {

    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
            @Override
            @SuppressWarnings("deprecation")
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
                                                                      long maxActive) {
                return new ResourceLeakDetector<T>(resource, samplingInterval) {
                    @Override
                    protected void reportTracedLeak(String resourceType, String records) {
                        LEAKS.add(resourceType + records);
                        super.reportTracedLeak(resourceType, records);
                    }

                    @Override
                    protected void reportUntracedLeak(String resourceType) {
                        LEAKS.add(resourceType);
                        super.reportUntracedLeak(resourceType);
                    }
                };
            }
        });
    }

    @Override
    public void afterEach(ExtensionContext context) {
        assertThat(collectLeaks()).as("ByteBuf leaks reported by Netty (level %s)", ResourceLeakDetector.getLevel())
                .isEmpty();
    }

    /** Collects garbage, lets Netty's detector look at it, and returns (and forgets) what it reported. */
    static List<String> collectLeaks() {
        collectGarbage();
        collectGarbage();
        // The detector looks at collected buffers only when it tracks a new one.
        ByteBufAllocator.DEFAULT.buffer(1).release();
        ByteBufAllocator.DEFAULT.directBuffer(1).release();
        Unpooled.buffer(1).release();
        Unpooled.directBuffer(1).release();
        List<String> leaks = new ArrayList<>(LEAKS);
        LEAKS.clear();
        return leaks;
    }

    /**
     * Collects garbage and waits until the JVM's reference handler has queued what that collection cleared.
     * Netty's detector finds a leaked buffer through its weak reference's queue, which that thread fills
     * after the collection, not during it: without the wait, a leak could be found one test late, and
     * blamed on the wrong test. The handler queues each collection's references in one batch, so once a
     * sentinel cleared by a later collection is queued, every earlier collection's references are.
     */
    private static void collectGarbage() {
        ReferenceQueue<Object> queue = new ReferenceQueue<>();
        WeakReference<Object> sentinel = new WeakReference<>(new Object(), queue);
        System.gc();
        try {
            if (queue.remove(Await.DEADLINE.toMillis()) == null) {
                throw new AssertionError("a collection's references not queued within " + Await.DEADLINE);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for a collection", e);
        }
        Reference.reachabilityFence(sentinel);
    }
}
