package dlrepo.fs;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.Set;

/**
 * What a listing shows of a tag, read in one go: one read of its folder (which flags and
 * small files it holds) and one stat (its creation time), instead of a stat per flag.
 * {@link Tag}'s getters read the same, one file at a time.
 */
public record TagState(String name, double timestamp, boolean released, boolean locked, boolean stable,
        String description, String publishStatus) {
    /** About how many bytes of memory this takes. */
    int weight() {
        return 96 + 2 * (name.length() + (description == null ? 0 : description.length())
                + (publishStatus == null ? 0 : publishStatus.length()));
    }

    /** Newest first by creation time, ties broken by name (as {@link Tag#NEWEST_FIRST}). */
    public static final Comparator<TagState> NEWEST_FIRST =
            Comparator.comparingDouble(TagState::timestamp).thenComparing(TagState::name).reversed();

    /**
     * The state of the tag folder {@code dir}, whose modification time ({@code folderTime})
     * the caller may have from its {@code lstat} (else null); null if the folder is gone.
     */
    static TagState read(Path dir, String name, FileTime folderTime) throws IOException {
        Set<String> dots = Disk.dotNames(dir);
        return dots == null ? null : of(dir, name, folderTime, dots);
    }

    /** The state of tag folder {@code dir} holding the entries {@code dots} (of those starting with '.'). */
    static TagState of(Path dir, String name, FileTime folderTime, Set<String> dots) throws IOException {
        return new TagState(name, creationTime(dir, folderTime, dots), dots.contains(".released"),
                dots.contains(".locked"), dots.contains(".stable"),
                dots.contains(".description") ? Disk.line(dir.resolve(".description")) : null,
                dots.contains(".publish-status") ? Disk.line(dir.resolve(".publish-status")) : null);
    }

    /**
     * As {@link Tag#timestamp()}: the mtime of {@code .stamp} (not looked for unless in
     * {@code dots}, when known), else of the folder ({@code folderTime}, when known), else 0.
     */
    private static double creationTime(Path dir, FileTime folderTime, Set<String> dots) {
        if (dots == null || dots.contains(".stamp")) {
            try {
                return Disk.timestamp(dir.resolve(".stamp"));
            } catch (IOException e) {
                // none, or removed since the folder was read
            }
        }
        if (folderTime != null) {
            return Disk.seconds(folderTime);
        }
        try {
            return Disk.timestamp(dir);
        } catch (IOException e) {
            return 0;
        }
    }

    /** The creation time of tag folder {@code dir}, whose {@code lstat} gave {@code folderTime}. */
    static double creationTime(Path dir, FileTime folderTime) {
        return creationTime(dir, folderTime, null);
    }
}
