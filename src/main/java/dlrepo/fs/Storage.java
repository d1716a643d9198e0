package dlrepo.fs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The root folder and what every repository in it shares: the blob store, the trash, the
 * tree locks and the settings of the levels (internal formats, post-processing).
 */
public final class Storage {
    private final Path root;
    private final Disk disk;
    private final BlobStore blobs;
    private final TreeLocks treeLocks = new TreeLocks();
    private final Optional<Pattern> internalFormatFilter;
    private final PostProcessor postProcessor;
    private final int chunkSize;
    private final Repository repository;

    public Storage(Path root, boolean fsync, int chunkSize, Optional<Pattern> internalFormatFilter,
            PostProcessor postProcessor) {
        this.root = root;
        this.disk = new Disk(fsync, root.resolve(".trash"));
        this.blobs = new BlobStore(root, new DigestLocks(), disk);
        this.internalFormatFilter = internalFormatFilter;
        this.postProcessor = postProcessor;
        this.chunkSize = chunkSize;
        this.repository = new Repository(this, root, "/");
    }

    /** Creates the folders the daemon needs and purges what an interrupted removal left. */
    public void init() throws IOException {
        blobs.init();
        disk.createDirectories(root.resolve("branches"));
        disk.purgeTrash();
    }

    public Path root() {
        return root;
    }

    public Disk disk() {
        return disk;
    }

    public BlobStore blobs() {
        return blobs;
    }

    public TreeLocks treeLocks() {
        return treeLocks;
    }

    public PostProcessor postProcessor() {
        return postProcessor;
    }

    public int chunkSize() {
        return chunkSize;
    }

    public boolean isInternalFormat(String name) {
        return internalFormatFilter.map(p -> p.matcher(name).lookingAt()).orElse(false);
    }

    /** The root repository ({@code /branches/...}). */
    public Repository repository() {
        return repository;
    }
}
