package dlrepo.fs;

/** How many daily (not released) and released tags a branch keeps; 0 keeps them all. */
public record CleanupPolicy(int maxDailyTags, int maxReleasedTags) {
    public static final CleanupPolicy KEEP_ALL = new CleanupPolicy(0, 0);
}
