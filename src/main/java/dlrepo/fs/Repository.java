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

    Repository(Storage storage, Path path, String urlPrefix) {
        this.storage = storage;
        this.path = path;
        this.urlPrefix = urlPrefix;
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

    TreeLocks.Lease lock(Path level, boolean exclusive) {
        return storage.treeLocks().lock(branchesDir(), level, exclusive);
    }
}
