package dlrepo;

import dlrepo.auth.AuthHandler;
import dlrepo.auth.AuthService;
import dlrepo.cleanup.Cleanup;
import dlrepo.cleanup.CleanupScheduler;
import dlrepo.cleanup.CleanupTrigger;
import dlrepo.cleanup.OrphanCollector;
import dlrepo.fs.PostProcessor;
import dlrepo.fs.Storage;
import dlrepo.http.Access;
import dlrepo.views.ArchiveHandler;
import dlrepo.views.Pages;
import dlrepo.views.ArtifactHandler;
import dlrepo.views.BranchHandler;
import dlrepo.views.BranchesHandler;
import dlrepo.views.CleanupHandler;
import dlrepo.http.CliHandler;
import dlrepo.http.CrossSiteGuard;
import dlrepo.http.ReadOnlyGuard;
import dlrepo.http.AccessLog;
import dlrepo.http.ErrorBodies;
import dlrepo.http.MalformedRequests;
import dlrepo.http.RequestObserver;
import dlrepo.http.RouteKind;
import dlrepo.metrics.Health;
import dlrepo.metrics.Metrics;
import dlrepo.metrics.MetricsHandler;
import dlrepo.metrics.OpsHandler;
import dlrepo.http.StaticHandler;
import dlrepo.http.Dispatcher;
import dlrepo.http.MinimumRate;
import dlrepo.http.FileSender;
import dlrepo.views.FormatFileHandler;
import dlrepo.views.FormatHandler;
import dlrepo.views.FormatSumsHandler;
import dlrepo.views.HomeHandler;
import dlrepo.views.JobHandler;
import dlrepo.views.ProductBranchHandler;
import dlrepo.views.ProductHandler;
import dlrepo.views.ProductVariantHandler;
import dlrepo.views.ProductsHandler;
import dlrepo.http.ReadableCopies;
import dlrepo.views.UserHomeHandler;
import dlrepo.views.VersionHandler;
import dlrepo.http.Router;
import dlrepo.http.ListingCache;
import dlrepo.http.Target;
import dlrepo.views.TagHandler;
import dlrepo.publish.Publisher;
import dlrepo.publish.RemotePublisher;
import dlrepo.registry.RegistryHandler;
import io.undertow.Handlers;
import java.nio.file.Path;
import java.util.function.Function;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.server.protocol.http.HttpOpenListener;
import java.nio.channels.ServerSocketChannel;
import java.util.Optional;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.channels.AcceptingChannel;
import org.xnio.nio.InheritedServerChannel;
import io.undertow.server.HttpHandler;
import io.undertow.server.handlers.GracefulShutdownHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.List;
import java.util.ArrayList;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The daemon: storage, handlers and the HTTP server wired together, started and stopped. */
public final class Daemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);

    private final Config config;
    private final UnaryOperator<CleanupScheduler.Work> decorateCleanup;
    private CleanupScheduler scheduler;
    private AuthService auth;
    private Publisher publisher;
    private Metrics metrics;
    private ListingCache listings;
    /** The socket served: bound here ({@link #ownChannel}) or inherited from systemd. */
    private ServerSocketChannel listening;
    private ServerSocketChannel ownChannel;
    private MalformedRequests malformed;
    private AcceptingChannel<StreamConnection> accepting;
    private RootLock rootLock;
    private Undertow server;
    private GracefulShutdownHandler graceful;

    public Daemon(Config config) {
        this(config, UnaryOperator.identity());
    }

    /** A daemon whose cleanup work is wrapped by {@code decorateCleanup} (tests slow it down). */
    public Daemon(Config config, UnaryOperator<CleanupScheduler.Work> decorateCleanup) {
        this.config = config;
        this.decorateCleanup = decorateCleanup;
    }

    public CleanupScheduler cleanup() {
        return scheduler;
    }

    public Metrics metrics() {
        return metrics;
    }

    public ListingCache listings() {
        return listings;
    }

    /**
     * SIGHUP: re-read the auth file and ACLs, flush the auth cache, and drop the listing
     * cache (the root may have been changed by hand).
     */
    public void reload() {
        if (auth != null) {
            auth.reload();
        }
        if (listings != null) {
            listings.dropAll();
        }
    }

    public void start() throws IOException {
        try {
            String encoding = System.getProperty("sun.jnu.encoding", "");
        if (!encoding.equalsIgnoreCase("UTF-8")) {
            LOG.warn("file names are decoded as {}, not UTF-8 (no UTF-8 locale): non-ASCII names will fail; "
                    + "set LANG=C.UTF-8", encoding);
        }
        if (!config.publish().urls().isEmpty() && config.publish().authFile().isEmpty()) {
            LOG.warn("DLREPO_PUBLISH_URL is set but DLREPO_PUBLISH_AUTH is not: releasing is refused");
        } else if (config.publish().urls().isEmpty() && config.publish().authFile().isPresent()) {
            LOG.warn("DLREPO_PUBLISH_AUTH is set but DLREPO_PUBLISH_URL is not: it is not used");
        }
        if (config.readOnly()) {
            warnReplicaSettings();
        } else {
            if (config.primaryUrl().isPresent()) {
                LOG.warn("DLREPO_PRIMARY_URL is set but DLREPO_READ_ONLY is not: it is not used");
            }
            rootLock = RootLock.acquire(config.rootDir());
        }
        } catch (java.nio.file.FileSystemException e) {
            throw new IOException("DLREPO_ROOT_DIR=" + config.rootDir() + ": " + e.getMessage(), e);
        }
        Storage storage = new Storage(config.rootDir(), config.fsync(), config.chunkSize(),
                config.internalFormatFilter(),
                new PostProcessor(config.postProcessCmd(), config.postProcessFilter(), config.postProcessTimeout()),
                config.userQuota(), config.cacheSize() / 2, config.readOnly());
        storage.init(() -> SocketActivation.notifyStillStarting(config.env()));
        if (config.readOnly()) {
            // a replica writes nothing: no publishing, no cleanup (the read-write server's)
            publisher = Publisher.none(ReadOnlyGuard.message(config.primaryUrl()));
            scheduler = CleanupScheduler.readOnly();
        } else {
            publisher = config.publish().whyNotConfigured().<Publisher>map(Publisher::none)
                    .orElseGet(() -> new RemotePublisher(config.publish(), storage));
            OrphanCollector collector = new OrphanCollector(storage.blobs(), config.orphanBlobLifetime());
            CleanupScheduler.Work work = new Cleanup(storage.repository(), collector, () -> server.getWorker(),
                    publisher, () -> {
                        for (var user : storage.userRepositories()) {
                            user.quota().orElseThrow().recount();
                        }
                    });
            scheduler = new CleanupScheduler(decorateCleanup.apply(work), config.tagCleanupPeriod());
        }
        CleanupTrigger cleanup = scheduler;
        FileSender sender = new FileSender(config.xSendfileHeader(), config.trustedUploads());
        Access access = Access.ALLOW_ALL;
        if (config.auth().disabled()) {
            LOG.warn("DLREPO_AUTH_DISABLED=1: NO AUTHENTICATION, everyone may read, write and delete everything");
        } else {
            auth = AuthService.start(config.auth());
            access = auth;
        }
        StaticHandler staticFiles = new StaticHandler(config.staticDir());
        ReadableCopies copies = new ReadableCopies(storage, access);
        // half of DLREPO_CACHE_SIZE for the answers, half for the states they are made from.
        // None on a replica: the writer's changes raise no version here, and a folder's
        // mtime does not move when a file inside it changes (flags, metadata, journals).
        listings = new ListingCache(storage.disk().versions(),
                config.readOnly() ? 0 : config.cacheSize() - config.cacheSize() / 2);
        ListingCache cache = listings;
        Access acl = access;
        // a product level reads the jobs its links lead to: it depends on the whole repository
        Function<Target, Path> repository = target -> target.repo().path();
        Router router = new Router(storage, access, new Router.Routes(
                RouteKind.tag("home", cache.wrap(new HomeHandler(storage, access, config.pages().latestReleases()),
                        target -> storage.root(), acl)),
                RouteKind.tag("user_home", cache.wrap(new UserHomeHandler(access, config.pages().latestReleasesUser()), repository, acl)),
                RouteKind.tag("branches", cache.wrap(new BranchesHandler(access), target -> target.repo().branchesDir(), acl)),
                RouteKind.tag("branch", cache.wrap(new BranchHandler(cleanup, publisher, access), target -> target.branch().path(), acl)),
                RouteKind.tag("tag", cache.wrap(new TagHandler(cleanup, publisher, access), target -> target.tag().path(), acl)),
                RouteKind.tag("job", cache.wrap(new JobHandler(cleanup, access), target -> target.job().path(), acl)),
                RouteKind.tag("job_archive", ArchiveHandler.job(access)),
                // a format reached under products/ depends on the links that lead to it
                RouteKind.tag("format", cache.wrap(new FormatHandler(cleanup, access, sender),
                        target -> target.version() != null ? target.repo().path() : target.format().path(), acl)),
                RouteKind.tag("format_file", new FormatFileHandler()),
                RouteKind.tag("format_archive", ArchiveHandler.format()),
                RouteKind.tag("format_sums", new FormatSumsHandler()),
                RouteKind.tag("artifact", new ArtifactHandler(sender, config.chunkSize(), access, copies)),
                RouteKind.tag("products", cache.wrap(new ProductsHandler(access), repository, acl)),
                RouteKind.tag("product", cache.wrap(new ProductHandler(access), repository, acl)),
                RouteKind.tag("product_variant", cache.wrap(new ProductVariantHandler(access), repository, acl)),
                RouteKind.tag("product_branch", cache.wrap(new ProductBranchHandler(access), repository, acl)),
                RouteKind.tag("version", cache.wrap(new VersionHandler(access), repository, acl)),
                RouteKind.tag("version_archive", ArchiveHandler.version(access)),
                Map.of("cleanup", RouteKind.tag("cleanup", new CleanupHandler(scheduler, config.primaryUrl())),
                        "cli", RouteKind.tag("cli", new CliHandler(config.publicUrl(),
                                CliHandler.defaultLocations(System.getenv("PATH")))),
                        "static", RouteKind.tag("static", staticFiles),
                        "v2", RouteKind.tag("registry", new RegistryHandler(storage, access, sender, config.chunkSize(),
                                copies, java.time.Duration.ofSeconds(config.registryIdleTimeout()),
                                config.registryMaxPending())),
                        "favicon.ico", RouteKind.tag("favicon", staticFiles),
                        "metrics", RouteKind.tag("metrics", ex -> new MetricsHandler(metrics).handleRequest(ex)))));
        HttpHandler routes = auth == null ? router : new AuthHandler(auth, router);
        if (config.readOnly()) {
            routes = new ReadOnlyGuard(config.primaryUrl(), routes);
        }
        metrics = new Metrics(config, storage, scheduler, listings);
        if (publisher instanceof RemotePublisher remote) {
            remote.onResult(metrics::published);
        }
        routes = new OpsHandler(config, new Health(config, storage, scheduler), metrics, routes);
        AccessLog accessLog = new AccessLog(!config.accessLog().equals("off"), config.logOutput().equals("json"));
        Metrics counted = metrics;
        malformed = new MalformedRequests(accessLog, () -> counted.malformedRequest());
        graceful = Handlers.gracefulShutdown(new Dispatcher(new CrossSiteGuard(config.publicUrl(), routes),
                new MinimumRate(config.minBodyRate(), config.minBodyRatePeriod(), config.ioTimeout()),
                new Pages(config.pages().templatesDir(), config.publicUrl()),
                ex -> cache.answerFromMemory(ex, acl),
                RequestObserver.all(accessLog, metrics.requests())));
        HttpHandler root = ErrorBodies.wrap(Handlers.httpContinueRead(graceful));
        Optional<SocketActivation.Inherited> inherited = SocketActivation.find(config.env());
        Undertow.Builder builder = Undertow.builder()
                .setIoThreads(config.ioThreads())
                .setWorkerThreads(config.workerThreads())
                .setSocketOption(Options.READ_TIMEOUT, ioTimeoutMillis())
                .setSocketOption(Options.WRITE_TIMEOUT, ioTimeoutMillis())
                .setHandler(root);
        OptionMap options = serverOptions();
        for (org.xnio.Option<?> option : options) {
            setServerOption(builder, options, option);
        }
        // bound here, not by Undertow: both kinds of socket are served by listenOn (MalformedRequests)
        ServerSocketChannel channel = inherited.isPresent() ? inherited.get().channel() : bind();
        server = builder.build();
        try {
            server.start();
            listenOn(channel, root);
        } catch (IOException | RuntimeException e) {
            if (inherited.isEmpty()) {
                org.xnio.IoUtils.safeClose(channel);
            }
            throw e;
        }
        if (inherited.isPresent()) {
            LOG.info("serving {} on the socket from systemd ({}): {}", config.rootDir(), inherited.get().how(),
                    inherited.get().channel().getLocalAddress());
        } else {
            ownChannel = channel;
            LOG.info("serving {} on http://{}:{}/", config.rootDir(), config.listenAddress(), port());
        }
        scheduler.start();
        SocketActivation.notifyReady(config.env());
    }

    /** Whether this daemon is a read-only replica (DLREPO_READ_ONLY=1). */
    public boolean readOnly() {
        return config.readOnly();
    }

    /**
     * A replica serves a root the read-write server writes: the settings of what writes
     * (cleanup, publishing, post-processing) and of the listing cache have no effect here.
     */
    private void warnReplicaSettings() {
        LOG.info("DLREPO_READ_ONLY=1: read-only replica of {}: writes are refused (sent to {}), no root lock, "
                + "no cleanup, no start-up repair", config.rootDir(),
                config.primaryUrl().orElse("the read-write server"));
        List<String> ignored = new ArrayList<>();
        for (String name : List.of("DLREPO_TAG_CLEANUP_PERIOD", "DLREPO_ORPHAN_BLOB_LIFETIME", "DLREPO_PUBLISH_URL",
                "DLREPO_PUBLISH_AUTH", "DLREPO_PUBLISH_FILTER_CMD", "DLREPO_POST_PROCESS_CMD", "DLREPO_CACHE_SIZE")) {
            if (config.env().containsKey(name)) {
                ignored.add(name);
            }
        }
        if (!ignored.isEmpty()) {
            LOG.warn("DLREPO_READ_ONLY=1: ignored on a read-only replica: {}", String.join(", ", ignored));
        }
    }

    /** Binds DLREPO_LISTEN_ADDRESS:DLREPO_LISTEN_PORT as Undertow's builder would (backlog 1000). */
    private ServerSocketChannel bind() throws IOException {
        String where = "cannot listen on DLREPO_LISTEN_ADDRESS:DLREPO_LISTEN_PORT " + config.listenAddress() + ":"
                + config.listenPort() + ": ";
        InetSocketAddress address;
        try {
            address = new InetSocketAddress(java.net.InetAddress.getByName(config.listenAddress()),
                    config.listenPort());
        } catch (java.net.UnknownHostException e) {
            throw new IOException(where + "unknown host", e);
        }
        ServerSocketChannel channel = ServerSocketChannel.open();
        try {
            channel.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
            channel.bind(address, 1000);
        } catch (java.net.BindException b) {
            channel.close();
            throw new IOException(where + b.getMessage(), b);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        return channel;
    }

    /**
     * Serves a listening socket, bound here or inherited from systemd, the way Undertow
     * serves the ones it binds (same open listener, buffers and options), each connection
     * guarded by {@link MalformedRequests}.
     */
    private void listenOn(ServerSocketChannel channel, HttpHandler root) throws IOException {
        HttpOpenListener open = new HttpOpenListener(new DefaultByteBufferPool(true, 16 * 1024 - 20, -1, 4),
                serverOptions());
        open.setRootHandler(root);
        OptionMap socketOptions = OptionMap.builder()
                .set(Options.TCP_NODELAY, true)
                .set(Options.REUSE_ADDRESSES, true)
                .set(Options.READ_TIMEOUT, ioTimeoutMillis())
                .set(Options.WRITE_TIMEOUT, ioTimeoutMillis())
                .getMap();
        listening = channel;
        accepting = InheritedServerChannel.wrap(server.getWorker(), channel, socketOptions, acceptor -> {
            StreamConnection connection;
            try {
                connection = acceptor.accept();
            } catch (IOException e) {
                LOG.debug("accepting a connection: {}", e.toString());
                return;
            }
            if (connection != null) {
                malformed.guard(connection);
                open.handleEvent(connection);
            }
        });
        accepting.resumeAccepts();
    }

    /**
     * Undertow's options for both kinds of listener. Request bodies have no size limit
     * (Undertow's default cuts them at 2 MiB, chunked ones before any handler runs):
     * uploads stream any size; JSON bodies have their own limit (Responses.readObject).
     * Headers must arrive within DLREPO_HEADER_TIMEOUT (they are read on the IO threads,
     * but without a limit a header line every few seconds kept a connection forever).
     */
    private OptionMap serverOptions() {
        return OptionMap.builder()
                .set(UndertowOptions.MAX_ENTITY_SIZE, 0L)
                .set(UndertowOptions.NO_REQUEST_TIMEOUT, config.ioTimeout() > 0 ? ioTimeoutMillis() : -1)
                .set(UndertowOptions.REQUEST_PARSE_TIMEOUT, config.headerTimeout() > 0
                        ? (int) Math.min(Integer.MAX_VALUE, config.headerTimeout() * 1000) : -1)
                .getMap();
    }

    private static <T> void setServerOption(Undertow.Builder builder, OptionMap options, org.xnio.Option<T> option) {
        builder.setServerOption(option, options.get(option));
    }

    /**
     * A client stalled mid-body (or not reading a download) holds a worker thread: such a
     * connection is closed after {@code DLREPO_IO_TIMEOUT} seconds without progress (0: never).
     */
    private int ioTimeoutMillis() {
        return (int) Math.min(Integer.MAX_VALUE, config.ioTimeout() * 1000);
    }

    public int port() {
        try {
            return ((InetSocketAddress) listening.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Stops accepting, lets requests in flight finish (bounded), then stops. */
    @Override
    public void close() {
        if (server == null) {
            return;
        }
        LOG.info("stopping: no new requests, waiting for those in flight");
        if (accepting != null) {
            // never close an inherited socket (see SocketActivation): only stop accepting
            accepting.suspendAccepts();
            if (ownChannel != null) {
                // ours: new connections are refused at once rather than left in the backlog
                org.xnio.IoUtils.safeClose(accepting);
                org.xnio.IoUtils.safeClose(ownChannel);
            }
        }
        graceful.shutdown();
        boolean drained = false;
        try {
            drained = graceful.awaitShutdown(config.shutdownTimeout() * 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!drained) {
            LOG.warn("requests still running after {}s, stopping anyway", config.shutdownTimeout());
        }
        scheduler.close();
        publisher.close();
        // Undertow's stop() waits for the worker threads, and one blocked reading a stalled
        // upload may never return: bound the wait, the process exits after this anyway.
        Thread stopper = new Thread(server::stop, "http-stop");
        stopper.setDaemon(true);
        stopper.start();
        try {
            stopper.join(drained ? 30_000 : 2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (auth != null) {
            auth.close();
        }
        server = null;
        try {
            if (rootLock != null) {
                rootLock.close();
            }
        } catch (IOException e) {
            LOG.warn("releasing the root lock: {}", e.toString());
        }
        LOG.info("stopped");
    }
}
