package dlrepo.fs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A named folder of one of the trees (branch, tag, job, product levels...). It exists
 * only as a real folder reached without a symbolic link from {@code root}, the storage
 * root (see {@link TreePaths}).
 */
abstract class Level {
    private final String name;
    private final Path path;
    private final Path root;

    Level(String name, Path path, Path root) {
        this.name = name;
        this.path = path;
        this.root = root;
    }

    /** The storage root, where the check for symbolic links starts. */
    Path root() {
        return root;
    }

    public String name() {
        return name;
    }

    public Path path() {
        return path;
    }

    public boolean exists() {
        return TreePaths.isRealFolder(root, path);
    }

    /** The levels below this one, one per sub-folder, sorted by name (none through a link). */
    <T> List<T> children(Function<String, T> make) throws IOException {
        List<T> list = new ArrayList<>();
        if (TreePaths.firstLink(root, path) != null) {
            return list;
        }
        for (String n : Disk.subfolders(path)) {
            list.add(make.apply(n));
        }
        return list;
    }

    /**
     * One read of this level's folder (see {@link Disk#readFolder}), or null when it is not
     * a real folder reached without a link.
     */
    Disk.Folder readFolder() throws IOException {
        if (TreePaths.firstLink(root, path) != null) {
            return null;
        }
        return Disk.readFolder(path);
    }
}
