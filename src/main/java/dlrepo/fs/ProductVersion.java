package dlrepo.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * {@code products/<p>/<v>/<b>/<version>/}: the formats of the jobs that declared this
 * version, each a symlink into {@code branches/}. Its locked and stable flags are those of
 * the tag of its (first) job, released that of the job.
 */
public final class ProductVersion extends Level {
    public static final Comparator<ProductVersion> NEWEST_FIRST =
            Comparator.comparingDouble(ProductVersion::timestamp).thenComparing(ProductVersion::name).reversed();

    private final ProductBranch branch;

    ProductVersion(ProductBranch branch, String name) {
        super(name, branch.path().resolve(name), branch.root());
        this.branch = branch;
    }

    public ProductBranch branch() {
        return branch;
    }

    public double timestamp() {
        try {
            return Disk.timestamp(path().resolve(".stamp"));
        } catch (IOException e) {
            return 0;
        }
    }

    private ProductTree tree() {
        return branch.variant().product().tree();
    }

    /** The formats still linked, by name (dangling links are skipped). */
    public List<ArtifactFormat> formats() throws IOException {
        List<ArtifactFormat> list = new ArrayList<>();
        List<String> names = new ArrayList<>();
        try (var ds = Files.newDirectoryStream(path())) {
            ds.forEach(p -> names.add(p.getFileName().toString()));
        } catch (java.nio.file.NoSuchFileException e) {
            return list;
        }
        names.sort(null);
        for (String n : names) {
            if (!n.startsWith(".")) {
                ArtifactFormat f = tree().resolve(path().resolve(n));
                if (f != null) {
                    list.add(f);
                }
            }
        }
        return list;
    }

    /** The format {@code name} of this version, or null. */
    public ArtifactFormat format(String formatName) throws IOException {
        return tree().resolve(path().resolve(Names.checkCanonical("format", formatName)));
    }

    /** The job of the first format, where the flags come from; null if none is left. */
    public Job job() throws IOException {
        List<ArtifactFormat> f = formats();
        return f.isEmpty() ? null : f.get(0).job();
    }

    public boolean isStable() {
        try {
            Job j = job();
            return j != null && j.tag().isStable();
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code <product>-<variant>-v<version>}: the prefix of this version's archives. */
    public String archivePrefix() {
        return branch.variant().product().name() + "-" + branch.variant().name() + "-v" + name();
    }
}
