package dlrepo.metrics;

import dlrepo.Config;
import dlrepo.cleanup.CleanupScheduler;
import dlrepo.fs.Storage;
import dlrepo.http.ListingCache;
import dlrepo.http.RequestObserver;

/** The daemon's metrics, exposed at /metrics (issue 15: being built). */
public final class Metrics {
    public Metrics(Config config, Storage storage, CleanupScheduler scheduler, ListingCache listings) {
    }

    /** Counts requests by route kind, method and status, their durations and bytes. */
    public RequestObserver requests() {
        return (ex, start) -> { };
    }

    /** A request Undertow refused before any handler (malformed request line or header). */
    public void malformedRequest() {
    }

    /** A publication ended. */
    public void published(boolean ok) {
    }
}
