package dlrepo.fs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What a tag's listing shows of a job, read in one go: one read of its folder (its flags)
 * and its {@code .metadata}. {@link Job}'s getters read the same, one file at a time.
 */
public record JobState(String name, boolean locked, boolean released, boolean internal,
        SortedMap<String, String> metadata) {
    /** About how many bytes of memory this takes. */
    int weight() {
        int w = 96 + 2 * name.length();
        for (var e : metadata.entrySet()) {
            w += 64 + 2 * (e.getKey().length() + e.getValue().length());
        }
        return w;
    }

    public JobState {
        metadata = Collections.unmodifiableSortedMap(metadata);
    }

    /** The state of the job folder {@code dir}; null if the folder is gone. */
    static JobState read(Path dir, String name) throws IOException {
        Set<String> dots = Disk.dotNames(dir);
        if (dots == null) {
            return null;
        }
        SortedMap<String, String> meta = dots.contains(".metadata")
                ? JsonFiles.readStrings(dir.resolve(".metadata")) : new TreeMap<>();
        return new JobState(name, dots.contains(".locked"), dots.contains(".released"), dots.contains(".internal"),
                meta);
    }
}
