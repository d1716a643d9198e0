package dlrepo.fs;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
    private final long userQuota;
    private final Repository repository;
    /**
     * One instance per user repository while anything uses it (its quota and product tree
     * hold locks): weak values, so that requests for any number of names, existing or not,
     * do not grow the map.
     */
    private final Cache<String, Repository> users = Caffeine.newBuilder().weakValues().build();

    public Storage(Path root, boolean fsync, int chunkSize, Optional<Pattern> internalFormatFilter,
            PostProcessor postProcessor, long userQuota) {
        this.root = root;
        this.disk = new Disk(fsync, root.resolve(".trash"));
        this.blobs = new BlobStore(root, new DigestLocks(), disk);
        this.internalFormatFilter = internalFormatFilter;
        this.postProcessor = postProcessor;
        this.chunkSize = chunkSize;
        this.userQuota = userQuota;
        this.repository = new Repository(this, root, "/", null, null);
    }

    /** The repository of {@code user} ({@code users/<user>/}), which may not exist yet. */
    public Repository userRepository(String user) {
        String name = Names.checkCanonical("user", user);
        try {
            if (TreePaths.firstLink(root, root.resolve("users").resolve(name)) != null) {
                // never followed (see TreePaths): the repository does not exist
                throw RepoException.notFound("User repository ~" + name + " not found");
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return users.get(name, u -> {
            Path dir = root.resolve("users").resolve(u);
            return new Repository(this, dir, "/~" + u + "/", u, new Quota(u, dir, userQuota, disk));
        });
    }

    /** How many user repositories are held in memory (after dropping the unused ones). */
    long userRepositoriesInMemory() {
        users.cleanUp();
        return users.estimatedSize();
    }

    /** The user repositories that exist on disk, sorted by user name. */
    public List<Repository> userRepositories() throws IOException {
        List<Repository> list = new ArrayList<>();
        for (String u : Disk.subfolders(root.resolve("users"))) {
            list.add(userRepository(u));
        }
        return list;
    }

    /** Creates the folders the daemon needs and purges what an interrupted removal left. */
    public void init() throws IOException {
        for (String name : List.of("branches", "products", "users", ".blobs", ".blobs/sha256", ".uploads", ".trash")) {
            Path link = TreePaths.firstLink(root, root.resolve(name));
            if (link != null) {
                throw new IOException("DLREPO_ROOT_DIR=" + root + ": " + root.relativize(link)
                        + " is a symbolic link, which the server never follows: make it a folder");
            }
        }
        blobs.init();
        disk.createDirectories(root.resolve("branches"));
        disk.purgeTrash();
        recoverDirtyFormats();
    }

    /**
     * Repairs the dirty formats a crash may have left half-updated (a file linked but not
     * yet in {@code .digests}...): see {@link ArtifactFormat#recover()}. Walks the levels
     * down to the formats, not their files, except in dirty formats.
     */
    private void recoverDirtyFormats() throws IOException {
        List<Repository> repos = new ArrayList<>();
        repos.add(repository);
        repos.addAll(userRepositories());
        int repairs = 0;
        for (Repository repo : repos) {
            for (Branch b : repo.branches()) {
                for (Tag t : b.tags()) {
                    for (Job j : t.jobs()) {
                        for (ArtifactFormat f : j.formats()) {
                            try {
                                repairs += f.recover();
                            } catch (IOException | RuntimeException e) {
                                // one unreadable format must not keep the daemon from starting
                                org.slf4j.LoggerFactory.getLogger(Storage.class).error(
                                        "start-up: cannot check {}: {}", f.path(), e.toString());
                            }
                        }
                    }
                }
            }
        }
        if (repairs > 0) {
            org.slf4j.LoggerFactory.getLogger(Storage.class).warn(
                    "start-up: repaired {} leftover(s) of interrupted uploads in dirty formats", repairs);
        }
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
