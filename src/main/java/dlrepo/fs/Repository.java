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
        return java.nio.file.Files.isDirectory(path);
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
        for (String n : Disk.subfolders(branchesDir())) {
            list.add(new Branch(this, n));
        }
        return list;
    }

    /**
     * Removes a folder of the tree (branch, tag, job or format) after unlinking the product
     * versions of its jobs, and takes its files off the user's disk usage.
     */
    void remove(Path dir) throws IOException {
        if (quota == null) {
            storage.disk().remove(dir);
            return;
        }
        quota.lock().lock();
        try {
            long size = Quota.sizeOf(dir);
            storage.disk().remove(dir);
            quota.add(-size);
        } finally {
            quota.lock().unlock();
        }
    }

    TreeLocks.Lease lock(Path level, boolean exclusive) {
        return storage.treeLocks().lock(branchesDir(), level, exclusive);
    }
}
