package dlrepo.views;


import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.Branch;
import dlrepo.fs.CleanupPolicy;
import dlrepo.fs.Job;
import dlrepo.fs.JobState;
import dlrepo.fs.TagState;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The JSON shapes of the API, one method per level of the tree. */
final class Views {
    private Views() {
    }

    /** Seconds since the epoch, written as a plain decimal number (no exponent). */
    static java.math.BigDecimal time(double seconds) {
        return java.math.BigDecimal.valueOf(seconds);
    }

    static Map<String, Object> policy(CleanupPolicy p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("max_daily_tags", p.maxDailyTags());
        m.put("max_released_tags", p.maxReleasedTags());
        return m;
    }

    /** The summary of branch {@code b} holding the tags {@code tags}. */
    static Map<String, Object> branchSummary(Branch b, List<TagState> tags) throws IOException {
        int daily = 0;
        int released = 0;
        int locked = 0;
        int stable = 0;
        for (TagState t : tags) {
            if (t.released()) {
                released++;
            } else {
                daily++;
            }
            if (t.locked()) {
                locked++;
            }
            if (t.stable()) {
                stable++;
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", b.name());
        m.put("daily_tags", daily);
        m.put("released_tags", released);
        m.put("locked_tags", locked);
        m.put("stable_tags", stable);
        m.putAll(policy(b.cleanupPolicy()));
        return m;
    }

    static Map<String, Object> tagSummary(TagState t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", t.name());
        m.put("timestamp", time(t.timestamp()));
        m.put("released", t.released());
        m.put("locked", t.locked());
        m.put("stable", t.stable());
        m.put("publish_status", t.publishStatus());
        m.put("description", t.description());
        return m;
    }

    static Map<String, Object> jobSummary(JobState j) {
        Map<String, Object> m = new LinkedHashMap<>(j.metadata());
        m.put("name", j.name());
        m.put("locked", j.locked());
        m.put("released", j.released());
        m.put("internal", j.internal());
        return m;
    }

    static Map<String, Object> jobSummary(Job j, Map<String, String> metadata) {
        Map<String, Object> m = new LinkedHashMap<>(metadata);
        m.put("name", j.name());
        m.put("locked", j.isLocked());
        m.put("released", j.isReleased());
        m.put("internal", j.isInternal());
        return m;
    }

    /** The job view; {@code visible} picks the formats listed. */
    static Map<String, Object> job(Job j, java.util.function.Predicate<ArtifactFormat> visible) throws IOException {
        Map<String, Object> m = jobSummary(j, j.metadata());
        m.put("timestamp", time(j.timestamp()));
        m.put("digest", j.isLocked() ? j.digest() : "");
        m.put("artifact_formats", j.formats().stream().filter(visible).map(ArtifactFormat::name).toList());
        return m;
    }

    static Map<String, Object> format(ArtifactFormat f) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", f.name());
        m.put("internal", f.isInternal());
        m.put("dirty", f.isDirty());
        m.put("files", f.files());
        return m;
    }
}
