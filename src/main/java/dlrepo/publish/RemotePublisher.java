package dlrepo.publish;

import dlrepo.Config;
import dlrepo.fs.Storage;
import dlrepo.fs.Tag;
import java.io.IOException;
import java.util.Optional;

/** Publishes released tags to the servers of DLREPO_PUBLISH_URL (being built: issue 14). */
public final class RemotePublisher implements Publisher {
    private final Config.Publish settings;

    public RemotePublisher(Config.Publish settings, Storage storage) {
        this.settings = settings;
    }

    @Override
    public Optional<String> whyNotConfigured() {
        return Optional.of("Cannot release: publishing to " + settings.rawUrls() + " is not built yet");
    }

    @Override
    public void release(Tag tag) throws IOException {
        throw new IllegalStateException("not built yet");
    }

    @Override
    public void unrelease(Tag tag) throws IOException {
        Publisher.clearReleased(tag);
    }

    @Override
    public boolean isBusy(Tag tag) {
        return false;
    }

    @Override
    public void close() {
    }
}
