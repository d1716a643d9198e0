package dlrepo.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** A named folder of one of the trees (branch, tag, job, product levels...). */
abstract class Level {
    private final String name;
    private final Path path;

    Level(String name, Path path) {
        this.name = name;
        this.path = path;
    }

    public String name() {
        return name;
    }

    public Path path() {
        return path;
    }

    public boolean exists() {
        return Files.isDirectory(path);
    }

    /** The levels below this one, one per sub-folder, sorted by name. */
    <T> List<T> children(Function<String, T> make) throws IOException {
        List<T> list = new ArrayList<>();
        for (String n : Disk.subfolders(path)) {
            list.add(make.apply(n));
        }
        return list;
    }
}
