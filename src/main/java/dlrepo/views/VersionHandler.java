package dlrepo.views;

import dlrepo.http.Access;
import dlrepo.http.HttpError;
import dlrepo.http.Responses;
import dlrepo.http.Target;
import dlrepo.http.Urls;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.Job;
import dlrepo.fs.ProductBranch;
import dlrepo.fs.ProductVersion;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /products/<p>/<v>/<b>/<version>/}: its formats. */
public final class VersionHandler implements HttpHandler {
    private final Access access;

    public VersionHandler(Access access) {
        this.access = access;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        ProductVersion v = Target.of(ex).version();
        List<ArtifactFormat> formats = v.formats();
        if (formats.isEmpty()) {
            throw HttpError.notFound("Version " + v.name() + " not found");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", v.name());
        List<ArtifactFormat> visible = formats.stream().filter(f -> access.canRead(ex, Urls.versionFormat(v, f)))
                .toList();
        m.put("artifact_formats", visible.stream().map(ArtifactFormat::name).toList());
        if (!Responses.wantsHtml(ex)) {
            Responses.json(ex, Map.of("version", m));
            return;
        }
        // each format with the job it comes from, linked when the caller may read that job
        List<Map<String, Object>> rows = new ArrayList<>();
        Map<String, Map<String, Object>> jobs = new LinkedHashMap<>();
        for (ArtifactFormat f : visible) {
            Job j = f.job();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", f.name());
            // a job the caller may not read stays unnamed: the JSON names none either
            row.put("job", access.canRead(ex, Urls.job(j)) ? jobLink(j, jobs) : null);
            rows.add(row);
        }
        Job first = v.job();
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("timestamp", Views.time(v.timestamp()));
        if (first != null) {
            info.put("locked", first.tag().isLocked());
            info.put("released", first.isReleased());
            info.put("stable", first.tag().isStable());
        }
        ProductBranch b = v.branch();
        View.send(ex, "version", Map.of("version", m), Map.of("formats", rows, "jobs", List.copyOf(jobs.values()),
                "info", info, "product", b.variant().product().name(), "variant", b.variant().name(), "branch",
                b.name()));
    }

    /** The job of a format as a page shows it: its path under branches/ and its URL. */
    private static Map<String, Object> jobLink(Job j, Map<String, Map<String, Object>> seen) {
        String key = Urls.job(j);
        return seen.computeIfAbsent(key, k -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("label", k);
            m.put("url", ProductPages.href(ProductPages.repoHref(j.tag().branch().repository())
                    + "branches/", j.tag().branch().name(), j.tag().name(), j.name()));
            return m;
        });
    }
}
