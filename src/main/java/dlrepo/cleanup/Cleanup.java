package dlrepo.cleanup;

import dlrepo.fs.Branch;
import dlrepo.fs.Repository;
import dlrepo.fs.Tag;
import dlrepo.publish.Publisher;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The work of a cleanup run: with {@code tags}, each branch policy of the root repository
 * (tag deletions handed to the request worker pool, one at a time, awaited), then the
 * users' quota refresh; always, the orphan collection.
 */
public final class Cleanup implements CleanupScheduler.Work {
    private static final Logger LOG = LoggerFactory.getLogger(Cleanup.class);

    /** A step of the tag cleanup that other parts of the daemon provide (user quotas). */
    public interface Step {
        void run() throws Exception;
    }

    private final Repository repository;
    private final OrphanCollector collector;
    private final Supplier<ExecutorService> workers;
    private final Publisher publisher;
    private final Step quotaRefresh;

    public Cleanup(Repository repository, OrphanCollector collector, Supplier<ExecutorService> workers, Publisher publisher,
            Step quotaRefresh) {
        this.repository = repository;
        this.collector = collector;
        this.workers = workers;
        this.publisher = publisher;
        this.quotaRefresh = quotaRefresh;
    }

    @Override
    public CleanupScheduler.Report run(boolean tags, BooleanSupplier stopping) throws Exception {
        int deleted = 0;
        if (tags) {
            deleted = applyPolicies(stopping);
            if (!stopping.getAsBoolean()) {
                quotaRefresh.run();
            }
        }
        if (stopping.getAsBoolean()) {
            return new CleanupScheduler.Report(deleted, 0, 0);
        }
        OrphanCollector.Result gc = collector.collect(stopping);
        return new CleanupScheduler.Report(deleted, gc.blobs(), gc.bytes());
    }

    private int applyPolicies(BooleanSupplier stopping) throws Exception {
        int deleted = 0;
        for (Branch branch : repository.branches()) {
            for (Tag tag : TagPolicy.tagsToDelete(branch)) {
                if (stopping.getAsBoolean()) {
                    return deleted;
                }
                if (publisher.isBusy(tag)) {
                    LOG.info("cleanup policy of branch {}: tag {} is being published, kept for now", branch.name(),
                            tag.name());
                    continue;
                }
                try {
                    workers.get().submit(() -> {
                        if (tag.isReleased()) {
                            // a remote that cannot be reached keeps the tag here (released, with
                            // an error status): deleted, it could never be unpublished
                            publisher.unrelease(tag);
                        }
                        tag.delete(true);
                        return null;
                    }).get();
                    deleted++;
                    LOG.info("cleanup policy of branch {}: deleted tag {}", branch.name(), tag.name());
                } catch (ExecutionException e) {
                    LOG.warn("cleanup policy of branch {}: cannot delete tag {}: {}", branch.name(), tag.name(),
                            e.getCause().toString());
                }
            }
        }
        return deleted;
    }
}
