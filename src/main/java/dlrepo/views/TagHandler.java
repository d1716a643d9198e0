package dlrepo.views;

import dlrepo.http.Access;
import dlrepo.http.HttpError;
import dlrepo.http.Responses;
import dlrepo.http.Target;
import dlrepo.http.Urls;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.cleanup.CleanupTrigger;
import dlrepo.fs.JobState;
import dlrepo.fs.Tag;
import dlrepo.publish.PublishException;
import dlrepo.publish.Publisher;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code /branches/<b>/<t>/}: its jobs (filtered by metadata), flags, release, delete. */
public final class TagHandler implements HttpHandler {
    private final CleanupTrigger cleanup;
    private final Publisher publisher;
    private final Access access;

    public TagHandler(CleanupTrigger cleanup, Publisher publisher, Access access) {
        this.cleanup = cleanup;
        this.publisher = publisher;
        this.access = access;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        Tag tag = Target.of(ex).tag();
        switch (ex.getRequestMethod().toString()) {
            case "GET", "HEAD" -> get(ex, tag);
            case "POST" -> post(ex, tag);
            case "DELETE" -> {
                refuseIfBusy(publisher, tag);
                tag.delete(false);
                cleanup.scheduleCleanup(false);
                Responses.ok(ex);
            }
            default -> throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD, POST, DELETE");
        }
    }

    private void get(HttpServerExchange ex, Tag tag) throws Exception {
        Tag.Listing listing = tag.listing();
        if (listing == null) {
            throw HttpError.notFound("Tag " + tag.branch().name() + "/" + tag.name() + " not found");
        }
        Map<String, Deque<String>> filters = ex.getQueryParameters();
        String url = Urls.tag(tag);
        List<Object> jobs = new ArrayList<>();
        for (JobState j : listing.jobs()) {
            if (matches(j.metadata(), filters) && access.canRead(ex, url + j.name() + "/")) {
                jobs.add(Views.jobSummary(j));
            }
        }
        Map<String, Object> m = Views.tagSummary(listing.state());
        m.put("jobs", jobs);
        View.send(ex, "tag", Map.of("tag", m), Map.of("columns", metadataColumns(jobs)));
    }

    private static final java.util.Set<String> FLAGS = java.util.Set.of("name", "locked", "released", "internal");

    /** The metadata keys of the jobs listed (the page's columns), in name order. */
    private static List<String> metadataColumns(List<Object> jobs) {
        java.util.TreeSet<String> keys = new java.util.TreeSet<>();
        for (Object j : jobs) {
            for (Object k : ((Map<?, ?>) j).keySet()) {
                if (!FLAGS.contains(k.toString())) {
                    keys.add(k.toString());
                }
            }
        }
        return List.copyOf(keys);
    }

    /** Every {@code ?key=value} must be in the metadata (values compared ignoring case). */
    private static boolean matches(Map<String, String> meta, Map<String, Deque<String>> filters) {
        for (Map.Entry<String, Deque<String>> f : filters.entrySet()) {
            String have = meta.get(f.getKey());
            for (String want : f.getValue()) {
                if (have == null || !have.toLowerCase(Locale.ROOT).equals(want.toLowerCase(Locale.ROOT))) {
                    return false;
                }
            }
        }
        return true;
    }

    private void post(HttpServerExchange ex, Tag tag) throws Exception {
        JsonNode body = Responses.readObject(ex, "tag");
        Boolean released = Responses.optBoolean(body, "released");
        Boolean locked = Responses.optBoolean(body, "locked");
        Boolean stable = Responses.optBoolean(body, "stable");
        JsonNode d = body.get("description");
        if (d != null && !d.isNull() && !d.isTextual()) {
            throw HttpError.badRequest("Field \"description\" must be a string");
        }
        String description = d == null ? null : d.isNull() ? "" : d.textValue();
        if (!tag.exists()) {
            throw HttpError.notFound("Tag " + tag.branch().name() + "/" + tag.name() + " not found");
        }
        if (Boolean.TRUE.equals(released) && publisher.whyNotConfigured().isPresent()) {
            throw new HttpError(421, publisher.whyNotConfigured().get());
        }
        tag.update(locked, stable, null, description);
        if (Boolean.TRUE.equals(released)) {
            publisher.release(tag);
        } else if (Boolean.FALSE.equals(released)) {
            try {
                publisher.unrelease(tag);
            } catch (PublishException e) {
                throw new HttpError(502, e.getMessage());
            }
        }
        Responses.ok(ex);
    }

    /** A tag being published must stay: its files are being read and sent. */
    static void refuseIfBusy(Publisher publisher, Tag tag) {
        if (publisher.isBusy(tag)) {
            throw HttpError.badRequest("Tag " + tag.name() + " is being published, wait for its publish_status");
        }
    }
}
