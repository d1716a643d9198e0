package dlrepo.fs;

import java.nio.file.Path;

/**
 * What was true of a folder when something was computed from it: its version (raised by
 * every change the daemon makes at or below it, {@link TreeVersions}) and its modification
 * time (moved by entries added or removed right there, also by hand). Taken before the
 * folder is read: a change made during the read makes the result stale.
 */
public record FolderStamp(Path folder, long version, long modified) {
    public static FolderStamp of(TreeVersions versions, Path folder) {
        return new FolderStamp(folder, versions.of(folder), Disk.modifiedNanos(folder));
    }

    /** Whether nothing changed in the folder since this stamp was taken. */
    public boolean isCurrent(TreeVersions versions) {
        return version == versions.of(folder) && modified == Disk.modifiedNanos(folder);
    }
}
