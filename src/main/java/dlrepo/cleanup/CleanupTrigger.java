package dlrepo.cleanup;

/**
 * Where the request handlers ask for a cleanup. Returns at once: the work happens later on
 * the cleanup thread.
 */
public interface CleanupTrigger {
    /**
     * @param tags also apply the branch policies and refresh user quotas, not only collect
     *     orphan blobs
     */
    void scheduleCleanup(boolean tags);
}
