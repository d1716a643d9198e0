package dlrepo.metrics;

import dlrepo.Config;
import dlrepo.cleanup.CleanupScheduler;
import dlrepo.fs.Storage;

/** Whether the daemon can do its work (the root writable, space left): /health (issue 15: being built). */
public final class Health {
    public Health(Config config, Storage storage, CleanupScheduler scheduler) {
    }
}
