package dlrepo.metrics;

import dlrepo.Config;
import dlrepo.Version;
import dlrepo.cleanup.CleanupScheduler;
import dlrepo.fs.BlobStore;
import dlrepo.fs.Repository;
import dlrepo.fs.Storage;
import dlrepo.http.ListingCache;
import dlrepo.http.RequestObserver;
import dlrepo.http.RouteKind;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's metrics, exposed at /metrics in the Prometheus text format: requests, uploads,
 * blobs, cleanups, quotas, disk, health, publications, listing cache, and the JVM's.
 *
 * <p>Each daemon has its own registry (tests run several in one JVM); the JVM and process
 * metrics live in one registry per JVM, filled on the first scrape, because the client keeps
 * the registries it filled with them in a static set. The default registry is never used.
 *
 * <p>A request costs a few adder increments: the data points of a route kind and method are
 * looked up once and kept in arrays, never by label values per request.
 */
public final class Metrics {
    private static final Logger LOG = LoggerFactory.getLogger(Metrics.class);
    private static final AttachmentKey<Boolean> IN_FLIGHT = AttachmentKey.create(Boolean.class);
    private static final HttpString[] METHODS = {Methods.GET, Methods.HEAD, Methods.PUT, Methods.POST,
            Methods.PATCH, Methods.DELETE, Methods.OPTIONS};
    private static final String[] METHOD_LABELS = {"GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS",
            "other"};
    private static final int MAX_STATUS = 600;

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final String access;
    private final Counter requests;
    private final Histogram durations;
    private final Counter received;
    private final Counter sent;
    private final LongAdder inFlight = new LongAdder();
    private final Counter malformed;
    private final Counter published;
    private final Counter cleanupRuns;
    private final Histogram cleanupDuration;
    private final Counter tagsDeleted;
    private final Counter blobsFreed;
    private final Counter bytesFreed;
    private volatile double lastCleanupSuccess;
    private final ConcurrentHashMap<String, Route> routes = new ConcurrentHashMap<>();
    private final RequestObserver observer = this::requestDone;

    public Metrics(Config config, Storage storage, CleanupScheduler scheduler, ListingCache listings) {
        access = config.metricsAccess();
        Info.builder().name("dlrepo_build_info").help("The version of dlrepo serving").labelNames("version")
                .register(registry).setLabelValues(Version.get());
        requests = Counter.builder().name("dlrepo_http_requests_total")
                .help("HTTP requests by kind of route, method and status")
                .labelNames("route", "method", "status").withoutExemplars().register(registry);
        durations = Histogram.builder().name("dlrepo_http_request_duration_seconds")
                .help("Time from a request's arrival to the end of its answer, by kind of route and method")
                .labelNames("route", "method").classicOnly()
                .classicUpperBounds(.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300)
                .withoutExemplars().register(registry);
        received = Counter.builder().name("dlrepo_http_received_bytes_total")
                .help("Bytes of request bodies received, by kind of route").labelNames("route")
                .withoutExemplars().register(registry);
        sent = Counter.builder().name("dlrepo_http_sent_bytes_total")
                .help("Bytes of answers sent (bodies), by kind of route").labelNames("route")
                .withoutExemplars().register(registry);
        GaugeWithCallback.builder().name("dlrepo_http_requests_in_flight")
                .help("Requests handed to a worker thread and not answered yet")
                .callback(cb -> cb.call(Math.max(0, inFlight.sum()))).register(registry);
        malformed = Counter.builder().name("dlrepo_http_malformed_requests_total")
                .help("Requests refused before routing: request line or header not valid HTTP")
                .withoutExemplars().register(registry);

        BlobStore.Stats blobs = storage.blobs().stats();
        CounterWithCallback.builder().name("dlrepo_uploads_total")
                .help("Files received: stored (a new blob), duplicate (the blob existed), linked (no body sent)")
                .labelNames("result").callback(cb -> {
                    for (String r : List.of("stored", "duplicate", "linked")) {
                        cb.call(blobs.uploads(r)[0], r);
                    }
                }).register(registry);
        CounterWithCallback.builder().name("dlrepo_upload_bytes_total")
                .help("Bytes of the files received, by result (linked: the bytes clients did not send)")
                .labelNames("result").callback(cb -> {
                    for (String r : List.of("stored", "duplicate", "linked")) {
                        cb.call(blobs.uploads(r)[1], r);
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("dlrepo_blobs")
                .help("Files in the blob store (counted by the last orphan collection, moved since)")
                .callback(cb -> {
                    double[] b = blobs.blobs();
                    if (b != null) {
                        cb.call(b[0]);
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("dlrepo_blob_bytes").help("Bytes of the files in the blob store")
                .callback(cb -> {
                    double[] b = blobs.blobs();
                    if (b != null) {
                        cb.call(b[1]);
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("dlrepo_blobs_counted_timestamp_seconds")
                .help("When the orphan collection last counted the blob store").callback(cb -> {
                    double[] b = blobs.blobs();
                    if (b != null) {
                        cb.call(b[2]);
                    }
                }).register(registry);

        cleanupRuns = Counter.builder().name("dlrepo_cleanup_runs_total").help("Cleanup runs by result")
                .labelNames("result").withoutExemplars().register(registry);
        cleanupRuns.initLabelValues("ok");
        cleanupRuns.initLabelValues("failed");
        cleanupDuration = Histogram.builder().name("dlrepo_cleanup_duration_seconds").help("Cleanup run durations")
                .classicOnly().classicUpperBounds(.01, .1, 1, 10, 60, 300, 1800, 3600).withoutExemplars()
                .register(registry);
        tagsDeleted = Counter.builder().name("dlrepo_cleanup_tags_deleted_total")
                .help("Tags deleted by the branches' cleanup policies").withoutExemplars().register(registry);
        blobsFreed = Counter.builder().name("dlrepo_cleanup_blobs_freed_total")
                .help("Orphan files deleted by the cleanup").withoutExemplars().register(registry);
        bytesFreed = Counter.builder().name("dlrepo_cleanup_freed_bytes_total")
                .help("Bytes of the orphan files deleted by the cleanup").withoutExemplars().register(registry);
        GaugeWithCallback.builder().name("dlrepo_cleanup_last_success_timestamp_seconds")
                .help("When the last cleanup run that succeeded ended (absent before the first)").callback(cb -> {
                    if (lastCleanupSuccess > 0) {
                        cb.call(lastCleanupSuccess);
                    }
                }).register(registry);
        scheduler.addObserver(this::cleanupDone);

        GaugeWithCallback.builder().name("dlrepo_user_quota_used_bytes").help("Bytes used by a user repository")
                .labelNames("user").callback(cb -> quotas(storage, true, cb)).register(registry);
        GaugeWithCallback.builder().name("dlrepo_user_quota_limit_bytes").help("The quota of a user repository")
                .labelNames("user").callback(cb -> quotas(storage, false, cb)).register(registry);
        GaugeWithCallback.builder().name("dlrepo_root_free_bytes")
                .help("Bytes available to the daemon on the root folder's file system")
                .callback(cb -> disk(storage, true, cb)).register(registry);
        GaugeWithCallback.builder().name("dlrepo_root_size_bytes").help("Size of the root folder's file system")
                .callback(cb -> disk(storage, false, cb)).register(registry);
        Health health = new Health(config, storage, scheduler);
        GaugeWithCallback.builder().name("dlrepo_health_ok").help("1 while /health answers 200, else 0")
                .callback(cb -> cb.call(health.check().ok() ? 1 : 0)).register(registry);

        published = Counter.builder().name("dlrepo_publish_total").help("Publications of tags by result")
                .labelNames("result").withoutExemplars().register(registry);
        published.initLabelValues("published");
        published.initLabelValues("failed");

        CounterWithCallback.builder().name("dlrepo_listing_cache_hits_total")
                .help("Listings answered from the cache").callback(cb -> cb.call(listings.totals()[0]))
                .register(registry);
        CounterWithCallback.builder().name("dlrepo_listing_cache_misses_total")
                .help("Listings computed (not in the cache, or out of date)")
                .callback(cb -> cb.call(listings.totals()[1])).register(registry);
    }

    /** Counts requests by route kind, method and status, their durations and bytes. */
    public RequestObserver requests() {
        return observer;
    }

    /** DLREPO_METRICS_ACCESS: local, acl, open or off. */
    String access() {
        return access;
    }

    /** This daemon's registry (the JVM's metrics are not in it). */
    public PrometheusRegistry registry() {
        return registry;
    }

    /** This daemon's metrics and the JVM's, as one scrape. */
    public MetricSnapshots scrape() {
        List<MetricSnapshot> all = new ArrayList<>();
        registry.scrape().forEach(all::add);
        Jvm.REGISTRY.scrape().forEach(all::add);
        return new MetricSnapshots(all);
    }

    /** A request Undertow refused before any handler (malformed request line or header). */
    public void malformedRequest() {
        malformed.inc();
    }

    /** A publication ended. */
    public void published(boolean ok) {
        published.labelValues(ok ? "published" : "failed").inc();
    }

    /** A request reached a worker thread: in flight until it is complete. */
    void started(HttpServerExchange ex) {
        ex.putAttachment(IN_FLIGHT, Boolean.TRUE);
        inFlight.increment();
        BodyCounter.attach(ex);
    }

    private void requestDone(HttpServerExchange ex, long startNanos) {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        if (ex.getAttachment(IN_FLIGHT) != null) {
            inFlight.decrement();
        }
        String kind = RouteKind.of(ex);
        Route route = routes.get(kind);
        if (route == null) {
            route = routes.computeIfAbsent(kind, Route::new);
        }
        PerMethod m = route.method(method(ex.getRequestMethod()));
        m.status(ex.getStatusCode()).inc();
        m.duration.observe(seconds);
        long in = BodyCounter.of(ex);
        if (in > 0) {
            route.received.inc(in);
        }
        long out = ex.getResponseBytesSent();
        if (out > 0) {
            route.sent.inc(out);
        }
    }

    private static int method(HttpString method) {
        for (int i = 0; i < METHODS.length; i++) {
            if (METHODS[i] == method) {
                return i;
            }
        }
        for (int i = 0; i < METHODS.length; i++) {
            if (METHODS[i].equals(method)) {
                return i;
            }
        }
        return METHODS.length;
    }

    private void cleanupDone(CleanupScheduler.Run run) {
        cleanupRuns.labelValues(run.error() == null ? "ok" : "failed").inc();
        cleanupDuration.observe(Math.max(0, run.end() - run.start()));
        tagsDeleted.inc(run.tagsDeleted());
        blobsFreed.inc(run.blobsFreed());
        bytesFreed.inc(run.bytesFreed());
        if (run.error() == null) {
            lastCleanupSuccess = run.end();
        }
    }

    private static void quotas(Storage storage, boolean used, GaugeWithCallback.Callback cb) {
        List<Repository> users;
        try {
            users = storage.userRepositories();
        } catch (IOException e) {
            LOG.warn("metrics: cannot list the user repositories: {}", e.toString());
            return;
        }
        for (Repository repo : users) {
            if (repo.quota().isEmpty()) {
                continue;
            }
            try {
                cb.call(used ? repo.quota().get().used() : repo.quota().get().limit(), repo.user());
            } catch (IOException e) {
                LOG.warn("metrics: quota of ~{}: {}", repo.user(), e.toString());
            }
        }
    }

    private static void disk(Storage storage, boolean free, GaugeWithCallback.Callback cb) {
        try {
            FileStore store = Files.getFileStore(storage.root());
            cb.call(free ? store.getUsableSpace() : store.getTotalSpace());
        } catch (IOException e) {
            // no sample: the root is gone (the health says so)
        }
    }

    /** The data points of one kind of route, made on its first request. */
    private final class Route {
        final String kind;
        final CounterDataPoint received;
        final CounterDataPoint sent;
        final AtomicReferenceArray<PerMethod> methods = new AtomicReferenceArray<>(METHOD_LABELS.length);

        Route(String kind) {
            this.kind = kind;
            this.received = Metrics.this.received.labelValues(kind);
            this.sent = Metrics.this.sent.labelValues(kind);
        }

        PerMethod method(int i) {
            PerMethod m = methods.get(i);
            if (m == null) {
                methods.compareAndSet(i, null, new PerMethod(kind, METHOD_LABELS[i]));
                m = methods.get(i);
            }
            return m;
        }
    }

    /** The data points of one kind of route and method; one counter per status, made on first use. */
    private final class PerMethod {
        final String kind;
        final String method;
        final DistributionDataPoint duration;
        final AtomicReferenceArray<CounterDataPoint> statuses = new AtomicReferenceArray<>(MAX_STATUS);

        PerMethod(String kind, String method) {
            this.kind = kind;
            this.method = method;
            this.duration = durations.labelValues(kind, method);
        }

        CounterDataPoint status(int status) {
            if (status < 0 || status >= MAX_STATUS) {
                return requests.labelValues(kind, method, Integer.toString(status));
            }
            CounterDataPoint c = statuses.get(status);
            if (c == null) {
                // labelValues gives the same data point to every caller: no lost count
                c = requests.labelValues(kind, method, Integer.toString(status));
                statuses.set(status, c);
            }
            return c;
        }
    }

    /** The JVM's and process's metrics: one registry per JVM, filled when first scraped. */
    private static final class Jvm {
        static final PrometheusRegistry REGISTRY = create();

        private static PrometheusRegistry create() {
            PrometheusRegistry r = new PrometheusRegistry();
            JvmMetrics.builder().register(r);
            return r;
        }
    }
}
