package dlrepo.fs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A tree of branches: the root repository, or a user's ({@code users/<user>/}). */
public final class Repository {
    private final Storage storage;
    private final Path path;
    private final String urlPrefix;
    private final String user;
    private final Quota quota;
    private final ProductTree products;

    Repository(Storage storage, Path path, String urlPrefix, String user, Quota quota) {
        this.storage = storage;
        this.path = path;
        this.urlPrefix = urlPrefix;
        this.user = user;
        this.quota = quota;
        this.products = new ProductTree(this);
    }

    /** The owner of a user repository, or null for the root one. */
    public String user() {
        return user;
    }

    /** The quota of a user repository; empty for the root one. */
    public java.util.Optional<Quota> quota() {
        return java.util.Optional.ofNullable(quota);
    }

    public ProductTree products() {
        return products;
    }

    public boolean exists() {
        return TreePaths.isRealFolder(storage.root(), path);
    }

    public Storage storage() {
        return storage;
    }

    public Path path() {
        return path;
    }

    /** {@code /} or {@code /~user/}: what URLs of this repository start with. */
    public String urlPrefix() {
        return urlPrefix;
    }

    public Path branchesDir() {
        return path.resolve("branches");
    }

    public Branch branch(String name) {
        return new Branch(this, Names.checkCanonical("branch", name));
    }

    public List<Branch> branches() throws IOException {
        List<Branch> list = new ArrayList<>();
        if (TreePaths.firstLink(storage.root(), branchesDir()) != null) {
            return list;
        }
        for (String n : Disk.subfolders(branchesDir())) {
            list.add(new Branch(this, n));
        }
        return list;
    }

    /** How many bytes a change adds to the usage (negative: frees). */
    interface Delta {
        long bytes() throws IOException;
    }

    /** A change of the files of the tree. */
    interface Change {
        void run() throws IOException;
    }

    /**
     * Makes {@code change} under the user's quota: with the quota's lock held, the delta is
     * computed and refused if it would exceed the quota, counted, and the change is made.
     * The root repository has no quota: the change is simply made.
     */
    void changeUsage(Delta delta, Change change) throws IOException {
        if (quota == null) {
            change.run();
            return;
        }
        quota.lock().lock();
        try {
            long bytes = delta.bytes();
            quota.check(bytes);
            // counted before the change when .disk_usage can be written, given back if the
            // change fails: a count that cannot be written (full disk) must not fail a
            // change already made
            boolean countFirst = exists();
            try {
                if (countFirst) {
                    quota.add(bytes); // counted in memory even when writing .disk_usage fails
                }
                change.run();
            } catch (IOException | RuntimeException e) {
                if (countFirst) {
                    try {
                        quota.add(-bytes);
                    } catch (IOException | RuntimeException u) {
                        e.addSuppressed(u);
                    }
                }
                throw e;
            }
            if (!countFirst) {
                try {
                    quota.add(bytes); // counted in memory even when writing .disk_usage fails
                } catch (IOException e) {
                    org.slf4j.LoggerFactory.getLogger(Repository.class).warn(
                            "{}: the usage could not be written ({}); the next recount corrects it", path, e.toString());
                }
            }
        } finally {
            quota.lock().unlock();
        }
    }

    /** Removes a folder of the tree and takes its files off the user's disk usage. */
    void remove(Path dir) throws IOException {
        changeUsage(() -> -Quota.sizeOf(dir), () -> storage.disk().remove(dir));
    }

    TreeLocks.Lease lock(Path level, boolean exclusive) {
        return storage.treeLocks().lock(branchesDir(), level, exclusive);
    }
}
