package dlrepo.publish;

import dlrepo.fs.Job;
import dlrepo.fs.Tag;
import java.io.IOException;

/** Publishes released tags to other dlrepo servers (DLREPO_PUBLISH_URL). */
public interface Publisher {
    /** Whether publish URLs and credentials are configured: releasing needs them. */
    boolean isConfigured();

    /** Starts publishing {@code tag} in the background; progress goes to its status. */
    void release(Tag tag) throws IOException;

    /** Removes {@code tag} from the remote servers and clears its released flags. */
    void unrelease(Tag tag) throws IOException;

    /** Clears the released flags of a tag and its jobs, and its publish status, locally. */
    static void clearReleased(Tag tag) throws IOException {
        for (Job j : tag.jobs()) {
            j.setReleased(false);
        }
        tag.update(null, null, false, null);
        tag.setPublishStatus(null);
    }

    /** No publish settings: releasing is refused, unreleasing is local. */
    static Publisher none() {
        return new Publisher() {
            @Override
            public boolean isConfigured() {
                return false;
            }

            @Override
            public void release(Tag tag) {
                throw new IllegalStateException("publishing is not configured");
            }

            @Override
            public void unrelease(Tag tag) throws IOException {
                clearReleased(tag);
            }
        };
    }
}
