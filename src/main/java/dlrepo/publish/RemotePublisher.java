package dlrepo.publish;

import dlrepo.Config;
import dlrepo.fs.Branch;
import dlrepo.fs.Job;
import dlrepo.fs.Repository;
import dlrepo.fs.Storage;
import dlrepo.fs.Tag;
import java.io.IOException;
import java.net.InetAddress;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes released tags to the servers of DLREPO_PUBLISH_URL (publish.md). A release runs
 * in the background (at most four tags at once, the others wait with {@code in progress});
 * at most DLREPO_PUBLISH_MAX_REQUESTS requests are under way at once, over all tags.
 */
public final class RemotePublisher implements Publisher {
    private static final Logger LOG = LoggerFactory.getLogger(RemotePublisher.class);
    private static final int PARALLEL_TAGS = 4;

    private final Storage storage;
    private final Publication.Settings config;
    private final ExecutorService runs;
    private final ExecutorService io;
    private final ExecutorService httpThreads;
    private final HttpClient http;
    private final Semaphore permits;
    /** The tags being released or unreleased, by folder; guarded by {@code this}. */
    private final Map<Path, Run> running = new HashMap<>();
    private boolean closed;
    private volatile String userAgent;
    private volatile java.util.function.Consumer<Boolean> results = ok -> { };

    public RemotePublisher(Config.Publish settings, Storage storage) {
        this.storage = storage;
        this.config = new Publication.Settings(settings.urls(), settings.rawUrls(), settings.authFile().orElseThrow(),
                settings.filterCmd().map(c -> new FilterCommand(c, settings.timeout())).orElse(null),
                settings.timeout());
        this.runs = Executors.newFixedThreadPool(PARALLEL_TAGS, threads("publish-"));
        this.io = Executors.newFixedThreadPool(settings.maxRequests(), threads("publish-io-"));
        this.httpThreads = Executors.newCachedThreadPool(threads("publish-http-"));
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(Math.min(10, settings.timeout())))
                .executor(httpThreads)
                .build();
        this.permits = new Semaphore(settings.maxRequests());
        Thread fixer = new Thread(this::markInterrupted, "publish-startup");
        fixer.setDaemon(true);
        fixer.start();
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public Optional<String> whyNotConfigured() {
        return Optional.empty();
    }

    @Override
    public void release(Tag tag) throws IOException {
        synchronized (this) {
            if (closed || running.containsKey(tag.path())) {
                return;
            }
            tag.setPublishStatus("in progress");
            Run run = newRun(tag.path(), new Publication(tag, this));
            running.put(tag.path(), run);
            runs.execute(run::execute);
        }
    }

    private Run newRun(Path key, Run.Work work) {
        Run[] self = new Run[1];
        self[0] = new Run(work, () -> {
            synchronized (this) {
                running.remove(key, self[0]);
            }
        });
        return self[0];
    }

    @Override
    public void unrelease(Tag tag) throws IOException {
        Path key = tag.path();
        boolean stoppedOne = false;
        Run mine;
        while (true) {
            Run other;
            synchronized (this) {
                other = running.get(key);
                if (other == null) {
                    Run[] self = new Run[1];
                    self[0] = Run.current(() -> {
                        synchronized (this) {
                            running.remove(key, self[0]);
                        }
                    });
                    mine = self[0];
                    running.put(key, mine);
                    break;
                }
            }
            stoppedOne = true;
            other.stop(null);
            try {
                other.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while stopping the publication of " + tag.name());
            }
        }
        try {
            boolean mayBeThere = stoppedOne || tag.isReleased() || anyJobReleased(tag);
            Credentials credentials;
            try {
                credentials = Credentials.read(config.authFile());
            } catch (PublishException e) {
                throw unpublishFailed(tag, mayBeThere, "cannot unpublish: " + e.getMessage());
            }
            for (String url : config.urls()) {
                RemoteClient remote = client(url, credentials, Instant.now().plusSeconds(config.timeout()));
                try {
                    remote.delete(Publication.tagPath(tag));
                } catch (RemoteException e) {
                    throw unpublishFailed(tag, mayBeThere, "cannot unpublish from " + url + ": " + e.detail());
                } catch (InterruptedException e) {
                    // not interrupted again: the status must still be written (the run's end clears it anyway)
                    String why = mine.reason() != null ? mine.reason() : "interrupted";
                    throw unpublishFailed(tag, mayBeThere, "cannot unpublish from " + url + ": " + why);
                }
            }
            Publisher.clearReleased(tag);
            LOG.info("tag {}/{}: unpublished from {}", tag.branch().name(), tag.name(), config.rawUrls().strip());
        } finally {
            mine.end();
        }
    }

    /** The tag stays released (if anything of it may be on a remote), with the error as its status. */
    private PublishException unpublishFailed(Tag tag, boolean mayBeThere, String message) {
        LOG.warn("tag {}/{}: {}", tag.branch().name(), tag.name(), message);
        try {
            if (mayBeThere) {
                tag.update(null, null, true, null);
            }
            tag.setPublishStatus("error: " + message);
        } catch (IOException | RuntimeException e) {
            LOG.warn("tag {}/{}: cannot write its publish status: {}", tag.branch().name(), tag.name(), e.toString());
        }
        return new PublishException(message);
    }

    private static boolean anyJobReleased(Tag tag) throws IOException {
        for (Job j : tag.jobs()) {
            if (j.isReleased()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public synchronized boolean isBusy(Tag tag) {
        return running.containsKey(tag.path());
    }

    @Override
    public void close() {
        List<Run> stopping;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            stopping = new ArrayList<>(running.values());
        }
        for (Run r : stopping) {
            r.stop(Publication.INTERRUPTED);
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        for (Run r : stopping) {
            try {
                if (!r.await(Math.max(0, (deadline - System.nanoTime()) / 1_000_000))) {
                    LOG.warn("a publication did not stop in time");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        runs.shutdownNow();
        io.shutdownNow();
        httpThreads.shutdownNow();
    }

    /**
     * Start-up: a tag whose status says a publication was under way when the server
     * stopped gets {@code error: interrupted: the server stopped} (it is not released).
     */
    private void markInterrupted() {
        try {
            List<Repository> repos = new ArrayList<>();
            repos.add(storage.repository());
            repos.addAll(storage.userRepositories());
            for (Repository repo : repos) {
                for (Branch b : repo.branches()) {
                    for (Tag t : b.tags()) {
                        if (isStale(t.publishStatus())) {
                            synchronized (this) {
                                if (!closed && !running.containsKey(t.path()) && isStale(t.publishStatus())) {
                                    t.update(null, null, false, null);
                                    t.setPublishStatus("error: " + Publication.INTERRUPTED);
                                    LOG.warn("tag {}/{}: its publication was interrupted by the last stop; release it "
                                            + "again", b.name(), t.name());
                                }
                            }
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("start-up: cannot check the publish statuses: {}", e.toString());
        }
    }

    private static boolean isStale(String status) {
        return status != null && (status.startsWith("in progress") || status.startsWith("uploading "));
    }

    /** Told of the end of every publication: {@code true} published, {@code false} an error. */
    public void onResult(java.util.function.Consumer<Boolean> listener) {
        results = listener;
    }

    void result(boolean ok) {
        results.accept(ok);
    }

    Publication.Settings settings() {
        return config;
    }

    ExecutorService io() {
        return io;
    }

    RemoteClient client(String url, Credentials credentials, Instant deadline) {
        return new RemoteClient(http, url, credentials, userAgent(), permits, deadline, config.timeout());
    }

    /** {@code dlrepo-server/<host name>}: the remote lets such agents write the container format. */
    private String userAgent() {
        String ua = userAgent;
        if (ua == null) {
            String host;
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = Optional.ofNullable(System.getenv("HOSTNAME")).filter(h -> !h.isBlank()).orElse("unknown");
            }
            ua = "dlrepo-server/" + host;
            userAgent = ua;
        }
        return ua;
    }
}
