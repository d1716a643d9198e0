package dlrepo.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@code products/<p>/<v>/<branch>/}: its versions, and the aliases among them. */
public final class ProductBranch {
    private final ProductVariant variant;
    private final String name;
    private final Path path;

    ProductBranch(ProductVariant variant, String name) {
        this.variant = variant;
        this.name = name;
        this.path = variant.path().resolve(name);
    }

    public ProductVariant variant() {
        return variant;
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

    public ProductVersion version(String version) {
        return new ProductVersion(this, Names.checkCanonical("version", version));
    }

    public List<ProductVersion> versions() throws IOException {
        List<ProductVersion> list = new ArrayList<>();
        for (String n : Disk.subfolders(path)) {
            list.add(new ProductVersion(this, n));
        }
        return list;
    }

    /** {@code latest}, {@code stable}, {@code oldstable} among the versions, by creation time. */
    public Optional<ProductVersion> resolveAlias(String alias) throws IOException {
        List<ProductVersion> candidates = new ArrayList<>();
        for (ProductVersion v : versions()) {
            if (alias.equals("latest") || v.isStable()) {
                candidates.add(v);
            }
        }
        candidates.sort(ProductVersion.NEWEST_FIRST);
        int index = alias.equals("oldstable") ? 1 : 0;
        return candidates.size() > index ? Optional.of(candidates.get(index)) : Optional.empty();
    }
}
