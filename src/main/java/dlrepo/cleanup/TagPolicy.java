package dlrepo.cleanup;

import dlrepo.fs.Branch;
import dlrepo.fs.CleanupPolicy;
import dlrepo.fs.Tag;
import dlrepo.fs.TagState;
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
        List<Tag> doomed = new ArrayList<>();
        for (TagState t : tagsToDelete(branch.cleanupPolicy(), branch.tagStates())) {
            doomed.add(branch.tag(t));
        }
        return doomed;
    }

    /** Of {@code tags} (the states of a branch's tags), those {@code policy} would delete, newest first. */
    public static List<TagState> tagsToDelete(CleanupPolicy policy, List<TagState> tags) {
        List<TagState> daily = new ArrayList<>();
        List<TagState> released = new ArrayList<>();
        for (TagState t : tags) {
            if (t.locked()) {
                continue;
            }
            (t.released() ? released : daily).add(t);
        }
        daily.sort(TagState.NEWEST_FIRST);
        released.sort(TagState.NEWEST_FIRST);
        List<TagState> doomed = new ArrayList<>();
        doomed.addAll(beyond(daily, policy.maxDailyTags()));
        doomed.addAll(beyond(released, policy.maxReleasedTags()));
        return doomed;
    }

    private static List<TagState> beyond(List<TagState> newestFirst, int limit) {
        return limit > 0 && newestFirst.size() > limit ? newestFirst.subList(limit, newestFirst.size()) : List.of();
    }
}
