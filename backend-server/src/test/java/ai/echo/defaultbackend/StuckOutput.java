package ai.echo.defaultbackend;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Standard output that nobody reads: every write blocks until {@link #release} is counted down, as a write to a
 * full pipe does, then lands in {@link #written}, or fails as a write to a pipe whose reader has gone does (EPIPE)
 * while {@link #failing} is set. {@link #stuck} is counted down by the first write to block.
 */
final class StuckOutput extends OutputStream {

    final CountDownLatch stuck = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final ByteArrayOutputStream written = new ByteArrayOutputStream();
    final AtomicBoolean failing = new AtomicBoolean();

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        stuck.countDown();
        try {
            release.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (failing.get()) {
            throw new IOException("Broken pipe");
        }
        synchronized (written) {
            written.write(b, off, len);
        }
    }
}
