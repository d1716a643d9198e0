package dlrepo.fs;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The root folder and what every repository in it shares: the blob store, the trash, the
 * tree locks and the settings of the levels (internal formats, post-processing).
 */
public final class Storage {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Storage.class);
    private final Path root;
    private final Disk disk;
    private final BlobStore blobs;
    private final TreeLocks treeLocks = new TreeLocks();
    private final TreeLocks entryLocks = new TreeLocks();
    private final Optional<Pattern> internalFormatFilter;
    private final PostProcessor postProcessor;
    private final int chunkSize;
    private final long userQuota;
    private final Repository repository;
    private final LevelStates states;
    /**
     * One instance per user repository while anything uses it (its quota and product tree
     * hold locks): weak values, so that requests for any number of names, existing or not,
     * do not grow the map.
     */
    private final Cache<String, Repository> users = Caffeine.newBuilder().weakValues().build();
    /** One quota per user, kept like the repositories, and while busy (see {@link Quota}). */
    private final Cache<String, Quota> quotas = Caffeine.newBuilder().weakValues().build();
    private final Set<Quota> busyQuotas = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** {@code stateBytes}: memory for the levels' states (see {@link LevelStates}; 0: none). */
    public Storage(Path root, boolean fsync, int chunkSize, Optional<Pattern> internalFormatFilter,
            PostProcessor postProcessor, long userQuota, long stateBytes) {
        this(root, fsync, chunkSize, internalFormatFilter, postProcessor, userQuota, stateBytes, false);
    }

    /**
     * {@code readOnly}: a read-only replica's storage (another daemon writes the root, maybe
     * at this moment): its disk refuses every write, and no level state is kept (what
     * another process changes raises no version here, and a folder's mtime does not move
     * when a file inside changes).
     */
    public Storage(Path root, boolean fsync, int chunkSize, Optional<Pattern> internalFormatFilter,
            PostProcessor postProcessor, long userQuota, long stateBytes, boolean readOnly) {
        this.root = root;
        this.disk = new Disk(fsync, root.resolve(".trash"), readOnly);
        this.states = new LevelStates(disk.versions(), readOnly ? 0 : stateBytes);
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
            Quota quota = quotas.get(u, q -> new Quota(q, dir, userQuota, disk, busyQuotas));
            return new Repository(this, dir, "/~" + u + "/", u, quota);
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
            if (!Names.isValid(u) || !u.equals(Names.canonical(u))) {
                // made by hand, or by an older version with looser names: never served
                LOG.warn("{}: not a valid user name, ignored", root.resolve("users").resolve(u));
                continue;
            }
            try {
                list.add(userRepository(u));
            } catch (RepoException e) {
                LOG.warn("{}: {}, ignored", root.resolve("users").resolve(u), e.getMessage());
            }
        }
        return list;
    }

    /**
     * Start-up, before requests are served (the daemon holds the root's lock): the root
     * closed to others, the daemon's folders created with their modes, what a stop cut
     * short purged ({@code .uploads}, {@code .trash}), the formats repaired.
     */
    public void init() throws IOException {
        init(() -> { });
    }

    /**
     * {@link #init()}, calling {@code stillStarting} every few seconds while it checks the
     * formats (the first start on a root walks every file once): a service manager waiting
     * for the daemon to be ready is told it is making progress.
     */
    public void init(Runnable stillStarting) throws IOException {
        for (String name : List.of("branches", "products", "users", ".blobs", ".blobs/sha256", ".uploads", ".trash")) {
            Path link = TreePaths.firstLink(root, root.resolve(name));
            if (link != null) {
                throw new IOException("DLREPO_ROOT_DIR=" + root + ": " + root.relativize(link)
                        + " is a symbolic link, which the server never follows: make it a folder");
            }
        }
        if (disk.readOnly()) {
            checkReplicaRoot();
            return;
        }
        closeRoot();
        blobs.init();
        long[] uploads = blobs.purgeUploads();
        if (uploads[0] > 0) {
            LOG.warn("start-up: removed {} abandoned upload(s) from .uploads ({} bytes), cut short by the last stop",
                    uploads[0], uploads[1]);
        }
        Disk.ensureDirectory(root.resolve(".trash"), Disk.PRIVATE_DIR_MODE);
        int trashed = disk.purgeTrash();
        if (trashed > 0) {
            LOG.warn("start-up: deleted {} folder(s) left in .trash by removals the last stop interrupted", trashed);
        }
        Disk.ensureDirectory(root.resolve("branches"), Disk.DIR_MODE);
        if (Files.isDirectory(root.resolve("users"), LinkOption.NOFOLLOW_LINKS)) {
            Disk.chmod(root.resolve("users"), Disk.DIR_MODE);
        }
        repairFormats(stillStarting);
    }

    /**
     * A read-only replica's start: the root must be one the read-write server made. Nothing
     * is created, repaired or purged: the {@code .uploads} and {@code .trash} entries, the
     * journals of dirty formats and the modes belong to the writer, which may be using
     * them right now.
     */
    private void checkReplicaRoot() throws IOException {
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("DLREPO_ROOT_DIR=" + root + ": no such folder (DLREPO_READ_ONLY=1: the read-write "
                    + "server creates the root; start it first)");
        }
        for (String name : List.of("branches", ".blobs/sha256")) {
            if (!Files.isDirectory(root.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException("DLREPO_ROOT_DIR=" + root + ": not a dlrepo root, " + name + " is missing "
                        + "(DLREPO_READ_ONLY=1: start the read-write server on it first)");
            }
        }
        if (!Files.isReadable(root.resolve("branches")) || !Files.isReadable(root.resolve(".blobs/sha256"))) {
            throw new IOException("DLREPO_ROOT_DIR=" + root + ": cannot read branches/ or .blobs/sha256/ "
                    + "(DLREPO_READ_ONLY=1: run the replica as the writer's user or in its group)");
        }
    }

    /**
     * Takes from the root folder the permissions of others, and the group's write
     * permission: the modes the daemon gives what it creates (dlrepo-layout(7)) then hold
     * for everything below, including what older versions created.
     */
    private void closeRoot() throws IOException {
        Set<PosixFilePermission> mode = new HashSet<>(Files.getPosixFilePermissions(root));
        if (mode.removeAll(Set.of(PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
                PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.GROUP_WRITE))) {
            Files.setPosixFilePermissions(root, mode);
            LOG.warn("{}: closed to others (mode now {})", root, PosixFilePermissions.toString(mode));
        }
    }

    /**
     * Repairs the dirty formats a crash may have left half-updated (an entry without its
     * file, a journal line cut short...) and folds their journals: see
     * {@link ArtifactFormat#recover()}. Walks the levels down to the formats, and the files
     * of dirty formats only: a finalized format cannot hold such leftovers. Once per root
     * (until {@code .formats-checked} exists), the files of every format are checked for
     * ghosts that versions before the journal left on a full disk.
     */
    private void repairFormats(Runnable stillStarting) throws IOException {
        Path checked = root.resolve(".formats-checked");
        boolean everyFormat = !Files.exists(checked, LinkOption.NOFOLLOW_LINKS);
        long start = System.nanoTime();
        long told = start;
        List<Repository> repos = new ArrayList<>();
        repos.add(repository);
        repos.addAll(userRepositories());
        int repairs = 0;
        int formats = 0;
        for (Repository repo : repos) {
            for (Branch b : repo.branches()) {
                for (Tag t : b.tags()) {
                    for (Job j : t.jobs()) {
                        for (ArtifactFormat f : j.formats()) {
                            formats++;
                            if (System.nanoTime() - told > 10_000_000_000L) {
                                told = System.nanoTime();
                                stillStarting.run();
                            }
                            try {
                                repairs += everyFormat && !f.isDirty() ? f.removeUnknownFiles() : f.recover();
                            } catch (IOException | RuntimeException e) {
                                // one unreadable format must not keep the daemon from starting
                                LOG.error("start-up: cannot check {}: {}", f.path(), e.toString());
                            }
                        }
                    }
                }
            }
        }
        if (repairs > 0) {
            LOG.warn("start-up: repaired {} leftover(s) of interrupted or failed uploads", repairs);
        }
        if (everyFormat) {
            disk.setFlag(checked, true);
            if (formats > 0) {
                LOG.info("start-up: checked the files of all {} formats once in {} ms (from now on, of dirty formats "
                        + "only; delete {} to check all again)", formats, (System.nanoTime() - start) / 1_000_000, checked);
            }
        }
    }

    public Path root() {
        return root;
    }

    LevelStates states() {
        return states;
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

    /** The locks of the formats' entries, one level each (see {@code ArtifactFormat}). */
    TreeLocks entryLocks() {
        return entryLocks;
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
