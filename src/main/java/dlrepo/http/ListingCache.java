package dlrepo.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dlrepo.fs.FolderStamp;
import dlrepo.fs.TreeVersions;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The answers of the listing levels (JSON and pages), kept per URL and per caller's rights,
 * and their ETags. An answer is served again only while the version of the folder it was
 * computed from ({@link TreeVersions}) is unchanged: every change below that folder raises
 * it before the request that made the change answers, so a client reads its own writes and
 * nobody reads a stale listing after a write was acknowledged. Access control stays exact:
 * the key holds what the ACL decisions depend on ({@link Access#viewer}).
 *
 * <p>Every listing answer carries an {@code ETag} (a digest of its bytes, also with the
 * cache off) and {@code Cache-Control: no-cache}: {@code If-None-Match} gets a 304.
 */
public final class ListingCache {
    private static final Logger LOG = LoggerFactory.getLogger(ListingCache.class);
    private static final AttachmentKey<Capture> CAPTURE = AttachmentKey.create(Capture.class);
    /** Pages show relative times ("3 minutes ago"): they are rendered again this often. */
    private static final long PAGE_LIFETIME_NANOS = Duration.ofSeconds(10).toNanos();
    /** Bound on how long a change made behind the daemon's back stays unseen without SIGHUP. */
    private static final Duration LIFETIME = Duration.ofSeconds(60);
    /** How long a request waits for another computing the same answer before computing it itself. */
    private static final long WAIT_SECONDS = 30;
    /** What an entry costs beyond its body: key, headers, objects (an estimate). */
    private static final int OVERHEAD = 512;

    /** What an answer depends on besides the tree: the request as sent, and who sent it. */
    private record Key(HttpString method, String uri, String query, boolean page, String host, Object viewer) {
        static Key of(HttpServerExchange ex, Object viewer) {
            return new Key(ex.getRequestMethod(), ex.getRequestURI(), ex.getQueryString(), Responses.wantsHtml(ex),
                    ex.getRequestScheme() + "://" + ex.getHostAndPort(), viewer);
        }
    }

    /** An answer, computed from the folder of {@code stamp}. */
    private record Entry(FolderStamp stamp, long expires, String etag, List<HttpString> names,
            List<String> values, byte[] body, String route) {
        boolean isCurrent(TreeVersions versions) {
            return stamp.isCurrent(versions) && System.nanoTime() - expires < 0;
        }
    }

    private final TreeVersions versions;
    private final Cache<Key, Entry> entries;
    /**
     * The answers being computed: when many callers ask for a listing that just changed,
     * one computes it and the others wait for it (an answer as current as their request).
     */
    private final ConcurrentHashMap<Key, CompletableFuture<Entry>> computing = new ConcurrentHashMap<>();
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    // the counts at the last dropAll (the adders count since the start: the metrics)
    private long hitsAtDrop;
    private long missesAtDrop;

    /** A cache of at most {@code maxBytes} (0: none kept, answers still get their ETag). */
    public ListingCache(TreeVersions versions, long maxBytes) {
        this.versions = versions;
        this.entries = maxBytes <= 0 ? null
                : Caffeine.newBuilder().maximumWeight(maxBytes).expireAfterWrite(LIFETIME)
                        .weigher((Key k, Entry e) -> OVERHEAD + e.body.length + 2 * k.uri.length()
                                + (k.query == null ? 0 : 2 * k.query.length()))
                        .build();
    }

    /**
     * {@code level} with its GET and HEAD answers cached; {@code folder} names the folder
     * (from the request's {@link Target}) whose content the answer is computed from.
     */
    public HttpHandler wrap(HttpHandler level, Function<Target, Path> folder, Access access) {
        return ex -> {
            if (!Responses.isRead(ex)) {
                level.handleRequest(ex);
                return;
            }
            Path dir = folder.apply(Target.of(ex));
            // taken before the handler reads the tree: a change made meanwhile makes the answer stale
            FolderStamp stamp = FolderStamp.of(versions, dir);
            Key key = null;
            CompletableFuture<Entry> mine = null;
            if (entries != null) {
                key = Key.of(ex, access.viewer(ex));
                Entry e = current(entries.getIfPresent(key), dir);
                if (e == null) {
                    mine = new CompletableFuture<>();
                    CompletableFuture<Entry> running = computing.putIfAbsent(key, mine);
                    if (running != null) {
                        // the same answer is being computed: wait for it rather than compute it again
                        e = current(outcome(running), dir);
                        mine = null;
                    }
                }
                if (e != null) {
                    hits.increment();
                    answer(ex, e);
                    return;
                }
            }
            misses.increment();
            ex.putAttachment(CAPTURE, new Capture(this, stamp, key, mine));
            try {
                level.handleRequest(ex);
            } finally {
                if (mine != null) {
                    mine.complete(null); // no answer to share: an error, a file sent...
                    computing.remove(key, mine);
                }
            }
        };
    }

    /** {@code e} if it is an answer about {@code dir} that is still true, else null. */
    private Entry current(Entry e, Path dir) {
        return e != null && e.stamp.folder().equals(dir) && e.isCurrent(versions) ? e : null;
    }

    /** The answer another request is computing, or null if it fails or takes too long. */
    private static Entry outcome(CompletableFuture<Entry> running) {
        try {
            return running.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException | TimeoutException e) {
            return null;
        }
    }

    /**
     * Answers {@code ex} from memory, on the I/O thread, when it is a GET or HEAD without a
     * body whose answer is held and still true, for a caller {@code access} can identify
     * without blocking; returns whether it did. The entry was made by the full path (routing,
     * ACL check, handler) for an equal key (the same URL, representation and viewer), so
     * that path would give this answer again.
     */
    public boolean answerFromMemory(HttpServerExchange ex, Access access) {
        if (entries == null || !Responses.isRead(ex) || ex.getRequestContentLength() > 0
                || ex.getRequestHeaders().contains(Headers.TRANSFER_ENCODING)) {
            return false;
        }
        Object viewer = access.knownViewer(ex);
        if (viewer == null) {
            return false;
        }
        Entry e = entries.getIfPresent(Key.of(ex, viewer));
        if (e == null || !e.isCurrent(versions)) {
            return false;
        }
        hits.increment();
        // counted by the metrics under the kind of route that made the answer
        RouteKind.set(ex, e.route);
        answer(ex, e);
        return true;
    }

    /** What the entries held weigh, in bytes (an estimate; 0 with the cache off). */
    public long bytesHeld() {
        if (entries == null) {
            return 0;
        }
        entries.cleanUp();
        return entries.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    /** Answers served from memory, and answers computed, since the last {@link #dropAll()}. */
    public synchronized long[] counts() {
        return new long[] {hits.sum() - hitsAtDrop, misses.sum() - missesAtDrop};
    }

    /** Answers served from memory, and answers computed, since the start (the metrics). */
    public long[] totals() {
        return new long[] {hits.sum(), misses.sum()};
    }

    /** Drops every entry (SIGHUP: the root may have been changed by hand); logs the counts since the last drop. */
    public void dropAll() {
        versions.changedAll();
        long h;
        long m;
        synchronized (this) {
            long hitsNow = hits.sum();
            long missesNow = misses.sum();
            h = hitsNow - hitsAtDrop;
            m = missesNow - missesAtDrop;
            hitsAtDrop = hitsNow;
            missesAtDrop = missesNow;
        }
        if (entries != null) {
            entries.invalidateAll();
        }
        LOG.info("listing cache: dropped after {} hits and {} misses (hit ratio {})", h, m,
                h + m == 0 ? "n/a" : String.format(Locale.ROOT, "%.3f", (double) h / (h + m)));
    }

    /**
     * Called by {@link Responses#send} for a 200: when the request is a listing, answers it
     * (200, or 304 if the client has these bytes) with its ETag, keeps it, and returns true.
     */
    static boolean answer(HttpServerExchange ex, String contentType, byte[] body) {
        Capture c = ex.removeAttachment(CAPTURE);
        if (c == null) {
            return false;
        }
        HeaderMap h = ex.getResponseHeaders();
        h.put(Headers.CONTENT_TYPE, contentType);
        h.put(Headers.ETAG, etag(body));
        h.put(Headers.CACHE_CONTROL, "no-cache");
        List<HttpString> names = new ArrayList<>();
        List<String> values = new ArrayList<>();
        for (HeaderValues hv : h) {
            if (hv.getHeaderName().equals(Headers.SET_COOKIE)) {
                continue; // meant for one answer only
            }
            for (String v : hv) {
                names.add(hv.getHeaderName());
                values.add(v);
            }
        }
        boolean page = contentType.startsWith("text/html");
        long lifetime = page ? PAGE_LIFETIME_NANOS : LIFETIME.toNanos();
        Entry e = new Entry(c.stamp, System.nanoTime() + lifetime, h.getFirst(Headers.ETAG),
                List.copyOf(names), List.copyOf(values), body, RouteKind.of(ex));
        if (c.key != null) {
            c.cache.entries.put(c.key, e);
        }
        if (c.done != null) {
            c.done.complete(e);
        }
        answer(ex, e);
        return true;
    }

    private static void answer(HttpServerExchange ex, Entry e) {
        HeaderMap h = ex.getResponseHeaders();
        for (int i = 0; i < e.names.size(); i++) {
            h.put(e.names.get(i), e.values.get(i));
        }
        if (FileSender.matches(ex.getRequestHeaders().getFirst(Headers.IF_NONE_MATCH), e.etag)) {
            h.remove(Headers.CONTENT_TYPE);
            ex.setStatusCode(304);
            ex.setResponseContentLength(0);
            return;
        }
        ex.setStatusCode(200);
        ex.setResponseContentLength(e.body.length);
        if (!ex.getRequestMethod().equals(Methods.HEAD)) {
            ex.getResponseSender().send(ByteBuffer.wrap(e.body));
        }
    }

    private static String etag(byte[] body) {
        byte[] d = dlrepo.fs.Digest.sha256().digest(body);
        return "\"" + HexFormat.of().formatHex(d, 0, 16) + "\"";
    }

    /** A listing request being answered for the first time: where its answer goes. */
    private record Capture(ListingCache cache, FolderStamp stamp, Key key, CompletableFuture<Entry> done) {
    }
}
