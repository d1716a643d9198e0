package dlrepo.views;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.Job;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What a job's page shows beside its JSON view: its metadata as rows, its formats with their sizes. */
final class JobPage {
    private static final Set<String> NOT_METADATA =
            Set.of("name", "locked", "released", "internal", "timestamp", "digest", "artifact_formats");

    private JobPage() {
    }

    static Map<String, Object> of(Job job, Map<String, Object> view, String url) throws IOException {
        List<Map<String, Object>> metadata = new ArrayList<>();
        view.forEach((k, v) -> {
            if (!NOT_METADATA.contains(k)) {
                metadata.add(Map.of("key", k, "value", String.valueOf(v)));
            }
        });
        List<Map<String, Object>> formats = new ArrayList<>();
        @SuppressWarnings("unchecked")
        List<String> names = (List<String>) view.get("artifact_formats");
        for (String name : names) {
            ArtifactFormat f = job.format(name);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("internal", f.isInternal());
            m.put("dirty", f.isDirty());
            m.put("files", f.files().size());
            formats.add(m);
        }
        return Map.of("metadata", metadata, "formats", formats, "job_url", url, "branch", job.tag().branch().name(),
                "tag", job.tag().name(), "user_repo", job.tag().branch().repository().user() == null ? ""
                        : job.tag().branch().repository().user());
    }
}
