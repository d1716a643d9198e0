package dlrepo.views;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.ContainerImage;
import dlrepo.fs.ImageSummary;
import dlrepo.fs.Job;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a job's page shows beside its JSON view: its metadata as rows, its formats with
 * their sizes, and how to use them: apt sources for formats holding a {@code Release}, yum
 * repositories for those holding {@code repodata/repomd.xml}, the {@code docker pull} of its
 * {@code container} format by tag and by digest, and what that image holds: its platforms,
 * signatures, SBOMs and attestations ({@link ImageSummary}).
 */
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
        boolean image = false;
        ImageSummary summary = null;
        @SuppressWarnings("unchecked")
        List<String> names = (List<String>) view.get("artifact_formats");
        for (String name : names) {
            ArtifactFormat f = job.format(name);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("internal", f.isInternal());
            m.put("dirty", f.isDirty());
            List<String> files = f.files();
            m.put("files", files.size());
            String id = repoId(job, name);
            m.put("apt", aptSources(files, PageFilters.segment(name) + "/", id));
            m.put("yum", yumRepos(files, PageFilters.segment(name) + "/", id));
            formats.add(m);
            if (name.equals(ArtifactFormat.CONTAINER) && !files.isEmpty()) {
                image = true;
                summary = ImageSummary.of(new ContainerImage(f)).orElse(null);
            }
        }
        String user = job.tag().branch().repository().user();
        Map<String, Object> page = new LinkedHashMap<>();
        page.put("metadata", metadata);
        page.put("formats", formats);
        page.put("job_url", url);
        page.put("branch", job.tag().branch().name());
        page.put("tag", job.tag().name());
        page.put("user_repo", user == null ? "" : user);
        // the registry's name of this job's image (registry.md): <branch>/<job>, u/<user>/ in a user repo
        if (image) {
            String repository = (user == null ? "" : "u/" + user + "/") + job.tag().branch().name() + "/" + job.name();
            page.put("image", repository + ":" + job.tag().name());
            if (summary != null) {
                page.put("image_by_digest", repository + "@" + summary.digest());
                page.put("container", summary);
            }
        }
        return page;
    }

    /** Suites and components of apt: words without a space or anything a sources.list line could misread. */
    private static final Pattern APT_WORD = Pattern.compile("[A-Za-z0-9._+~-]+");
    private static final Pattern DISTS = Pattern.compile("(.*/)?dists/([^/]+)/");
    private static final int MAX_SNIPPETS = 10;

    /**
     * The apt sources of a format, one per {@code Release} file: a flat repository
     * ({@code deb URL/<folder>/ ./}), or a suite of a standard one ({@code dists/<suite>/Release}:
     * {@code deb URL/<root>/ <suite> <components>}). {@code path} (the URL path of each, from
     * the job) and {@code dist} are percent-encoded or checked; the template shell-quotes the line.
     */
    static List<Map<String, String>> aptSources(List<String> files, String formatUrl, String id) {
        List<Map<String, String>> found = new ArrayList<>();
        for (String file : files) {
            if (!(file.equals("Release") || file.endsWith("/Release")) || found.size() >= MAX_SNIPPETS) {
                continue;
            }
            String dir = file.substring(0, file.length() - "Release".length());
            Matcher m = DISTS.matcher(dir);
            String root;
            String dist;
            if (m.matches()) {
                root = m.group(1) == null ? "" : m.group(1);
                String suite = m.group(2);
                Set<String> components = new TreeSet<>();
                for (String other : files) {
                    if (other.startsWith(dir)) {
                        String rest = other.substring(dir.length());
                        int slash = rest.indexOf('/');
                        if (slash > 0) {
                            components.add(rest.substring(0, slash));
                        }
                    }
                }
                if (!APT_WORD.matcher(suite).matches() || components.isEmpty()
                        || !components.stream().allMatch(c -> APT_WORD.matcher(c).matches())) {
                    continue;
                }
                dist = suite + " " + String.join(" ", components);
            } else {
                root = dir;
                dist = "./";
            }
            String suffix = found.isEmpty() ? "" : "-" + (found.size() + 1);
            // a signed repository is used with its key; only an unsigned one needs [trusted=yes]
            boolean signed = files.contains(dir + "InRelease") || files.contains(dir + "Release.gpg");
            found.add(Map.of("path", formatUrl + PageFilters.path(root), "dist", dist, "id", id + suffix,
                    "options", signed ? "" : "[trusted=yes] "));
        }
        return found;
    }

    /** The yum/dnf repositories of a format: one per {@code repodata/repomd.xml}, {@code path} as for apt. */
    static List<Map<String, String>> yumRepos(List<String> files, String formatUrl, String id) {
        List<Map<String, String>> found = new ArrayList<>();
        for (String file : files) {
            if ((file.equals("repodata/repomd.xml") || file.endsWith("/repodata/repomd.xml"))
                    && found.size() < MAX_SNIPPETS) {
                String root = file.substring(0, file.length() - "repodata/repomd.xml".length());
                String suffix = found.isEmpty() ? "" : "-" + (found.size() + 1);
                found.add(Map.of("path", formatUrl + PageFilters.path(root), "id", id + suffix));
            }
        }
        return found;
    }

    /** A name for a repository file of this format: only letters, digits and {@code . _ -}. */
    static String repoId(Job job, String format) {
        String user = job.tag().branch().repository().user();
        String raw = "dlrepo-" + (user == null ? "" : user + "-") + job.tag().branch().name() + "-" + job.tag().name()
                + "-" + job.name() + "-" + format;
        return raw.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9._-]+", "-");
    }
}
