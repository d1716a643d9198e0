package dlrepo.cleanup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The scheduling rules of cleanup.md, on the real scheduler with a controllable pass. */
class CleanupSchedulerTest {
    /** Records each pass's tags flag; the first pass waits for {@code release}. */
    private static final class HeldWork implements CleanupScheduler.Work {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final List<Boolean> passes = new CopyOnWriteArrayList<>();

        @Override
        public CleanupScheduler.Report run(boolean tags, java.util.function.BooleanSupplier stopping)
                throws Exception {
            passes.add(tags);
            started.countDown();
            assertTrue(release.await(30, TimeUnit.SECONDS));
            return new CleanupScheduler.Report(0, 0, 0);
        }
    }

    @Test
    void requestsDuringARunCoalesceIntoExactlyOneMoreRun() throws Exception {
        HeldWork work = new HeldWork();
        try (CleanupScheduler s = new CleanupScheduler(work, 0)) {
            s.scheduleCleanup(false);
            assertTrue(work.started.await(10, TimeUnit.SECONDS));
            assertTrue(s.status().running());
            for (int i = 0; i < 50; i++) {
                s.schedule(i == 17, "test");
            }
            assertTrue(s.status().pending());
            work.release.countDown();
            assertTrue(s.awaitIdle(10_000));
            assertEquals(List.of(false, true), work.passes, "one more run, with the accumulated tags flag");
            CleanupScheduler.Status st = s.status();
            assertFalse(st.running());
            assertFalse(st.pending());
            assertEquals(2, st.runs().size());
            assertEquals("test", st.runs().get(0).trigger());
            assertEquals("delete", st.runs().get(1).trigger());

            // both flags were reset: a later request without tags runs without tags
            s.scheduleCleanup(false);
            assertTrue(s.awaitIdle(10_000));
            assertEquals(List.of(false, true, false), work.passes);
        }
    }

    @Test
    void requestsWithoutTagsDoNotTurnTagCleanupOn() throws Exception {
        HeldWork work = new HeldWork();
        try (CleanupScheduler s = new CleanupScheduler(work, 0)) {
            s.schedule(true, "signal");
            assertTrue(work.started.await(10, TimeUnit.SECONDS));
            s.scheduleCleanup(false);
            s.scheduleCleanup(false);
            work.release.countDown();
            assertTrue(s.awaitIdle(10_000));
            assertEquals(List.of(true, false), work.passes);
        }
    }

    @Test
    void aFailingRunIsRecordedAndLaterRunsStillHappen() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        CleanupScheduler.Work work = (tags, stopping) -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("boom");
            }
            return new CleanupScheduler.Report(1, 2, 3);
        };
        try (CleanupScheduler s = new CleanupScheduler(work, 0)) {
            s.scheduleCleanup(true);
            assertTrue(s.awaitIdle(10_000));
            s.scheduleCleanup(false);
            assertTrue(s.awaitIdle(10_000));
            List<CleanupScheduler.Run> runs = s.status().runs();
            assertEquals(2, runs.size());
            assertNull(runs.get(0).error());
            assertEquals(2, runs.get(0).blobsFreed());
            assertNotNull(runs.get(1).error());
            assertTrue(runs.get(1).error().contains("boom"));
        }
    }

    @Test
    void startRunsOnceThenOnTheTimer() throws Exception {
        List<Boolean> passes = new CopyOnWriteArrayList<>();
        try (CleanupScheduler s = new CleanupScheduler((tags, stopping) -> {
            passes.add(tags);
            return new CleanupScheduler.Report(0, 0, 0);
        }, 1)) {
            s.start();
            assertNotNull(s.status().nextTimerRun());
            long deadline = System.currentTimeMillis() + 10_000;
            while (passes.size() < 3 && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(passes.size() >= 3, "start-up run and two timer runs");
            assertTrue(passes.stream().allMatch(t -> t), "start-up and timer runs clean tags");
            List<CleanupScheduler.Run> runs = s.status().runs();
            assertEquals("startup", runs.get(runs.size() - 1).trigger());
            assertEquals("timer", runs.get(0).trigger());
        }
    }

    @Test
    void noTimerWithPeriodZero() throws Exception {
        try (CleanupScheduler s = new CleanupScheduler((tags, stopping) -> new CleanupScheduler.Report(0, 0, 0), 0)) {
            s.start();
            assertTrue(s.awaitIdle(10_000));
            assertNull(s.status().nextTimerRun());
            assertEquals(1, s.status().runs().size());
        }
    }

    @Test
    void closeStopsARunningPass() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicInteger looked = new AtomicInteger();
        CleanupScheduler s = new CleanupScheduler((tags, stopping) -> {
            started.countDown();
            while (!stopping.getAsBoolean()) {
                looked.incrementAndGet();
                Thread.sleep(1);
            }
            return new CleanupScheduler.Report(0, 0, 0);
        }, 0);
        s.scheduleCleanup(false);
        assertTrue(started.await(10, TimeUnit.SECONDS));
        long t0 = System.nanoTime();
        s.close();
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "the pass saw the stop request");
        s.scheduleCleanup(false);
        assertFalse(s.status().running());
    }
}
