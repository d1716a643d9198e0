package dlrepo.views;

import dlrepo.http.HttpError;
import dlrepo.http.Responses;

import dlrepo.cleanup.CleanupScheduler;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code GET /cleanup}: the last cleanup runs, whether one is running or pending, the next timer run. */
public final class CleanupHandler implements HttpHandler {
    private final CleanupScheduler scheduler;
    private final java.util.Optional<String> primaryUrl;

    public CleanupHandler(CleanupScheduler scheduler) {
        this(scheduler, java.util.Optional.empty());
    }

    /** {@code primaryUrl}: the read-write server a read-only replica names. */
    public CleanupHandler(CleanupScheduler scheduler, java.util.Optional<String> primaryUrl) {
        this.scheduler = scheduler;
        this.primaryUrl = primaryUrl;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        if (!Responses.isRead(ex)) {
            throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD");
        }
        CleanupScheduler.Status s = scheduler.status();
        List<Object> runs = new ArrayList<>();
        for (CleanupScheduler.Run r : s.runs()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("trigger", r.trigger());
            m.put("tags", r.tags());
            m.put("start", BigDecimal.valueOf(r.start()));
            m.put("end", BigDecimal.valueOf(r.end()));
            m.put("tags_deleted", r.tagsDeleted());
            m.put("blobs_freed", r.blobsFreed());
            m.put("bytes_freed", r.bytesFreed());
            m.put("error", r.error());
            runs.add(m);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        if (scheduler.isReadOnly()) {
            // the cleanups of the root are the read-write server's
            m.put("read_only", true);
            m.put("primary_url", primaryUrl.orElse(null));
        }
        m.put("running", s.running());
        m.put("pending", s.pending());
        m.put("next_timer_run", s.nextTimerRun() == null ? null : BigDecimal.valueOf(s.nextTimerRun()));
        m.put("runs", runs);
        View.send(ex, "cleanup", Map.of("cleanup", m));
    }
}
