package dlrepo.publish;

import dlrepo.fs.Job;
import dlrepo.fs.Tag;
import java.io.IOException;
import java.util.Optional;

/** Publishes released tags to other dlrepo servers (DLREPO_PUBLISH_URL). */
public interface Publisher extends AutoCloseable {
    /** Why releasing is refused (the 421 message), or empty when it can publish. */
    Optional<String> whyNotConfigured();

    /**
     * Starts publishing {@code tag} in the background. Its status reads {@code in progress}
     * before this returns; a release of a tag already being published does nothing.
     */
    void release(Tag tag) throws IOException;

    /**
     * Deletes {@code tag} on every remote server (a release in progress is stopped first),
     * then clears its released flags and status. Synchronous: a remote that cannot be
     * reached is a {@link PublishException} and the tag stays released.
     */
    void unrelease(Tag tag) throws IOException;

    /** Whether a release or unrelease of {@code tag} is running (it must not be deleted). */
    boolean isBusy(Tag tag);

    /** Stops the publications in progress; their tags get an {@code error:} status. */
    @Override
    void close();

    /** Clears the released flags of a tag and its jobs, and its publish status, locally. */
    static void clearReleased(Tag tag) throws IOException {
        for (Job j : tag.jobs()) {
            j.setReleased(false);
        }
        tag.update(null, null, false, null);
        tag.setPublishStatus(null);
    }

    /** No publishing: releasing is refused with {@code why}, unreleasing is local. */
    static Publisher none(String why) {
        return new Publisher() {
            @Override
            public Optional<String> whyNotConfigured() {
                return Optional.of(why);
            }

            @Override
            public void release(Tag tag) {
                throw new IllegalStateException(why);
            }

            @Override
            public void unrelease(Tag tag) throws IOException {
                clearReleased(tag);
            }

            @Override
            public boolean isBusy(Tag tag) {
                return false;
            }

            @Override
            public void close() {
            }
        };
    }
}
