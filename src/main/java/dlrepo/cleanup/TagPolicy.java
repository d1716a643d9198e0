package dlrepo.cleanup;

import dlrepo.fs.Branch;
import dlrepo.fs.CleanupPolicy;
import dlrepo.fs.Tag;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A branch's retention policy: locked tags are never deleted; of the others, the newest
 * {@code max_daily_tags} not released and the newest {@code max_released_tags} released
 * ones are kept (by creation time); a limit of 0 keeps them all.
 */
public final class TagPolicy {
    private TagPolicy() {
    }

    /** The tags the policy of {@code branch} would delete now, newest first. */
    public static List<Tag> tagsToDelete(Branch branch) throws IOException {
        CleanupPolicy policy = branch.cleanupPolicy();
        List<Tag> daily = new ArrayList<>();
        List<Tag> released = new ArrayList<>();
        for (Tag t : branch.tags()) {
            if (t.isLocked()) {
                continue;
            }
            (t.isReleased() ? released : daily).add(t);
        }
        daily.sort(Tag.NEWEST_FIRST);
        released.sort(Tag.NEWEST_FIRST);
        List<Tag> doomed = new ArrayList<>();
        doomed.addAll(beyond(daily, policy.maxDailyTags()));
        doomed.addAll(beyond(released, policy.maxReleasedTags()));
        return doomed;
    }

    private static List<Tag> beyond(List<Tag> newestFirst, int limit) {
        return limit > 0 && newestFirst.size() > limit ? newestFirst.subList(limit, newestFirst.size()) : List.of();
    }
}
