package dlrepo.fs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@code products/<p>/<v>/<branch>/}: its versions, and the aliases among them. */
public final class ProductBranch extends Level {
    private final ProductVariant variant;

    ProductBranch(ProductVariant variant, String name) {
        super(name, variant.path().resolve(name), variant.root());
        this.variant = variant;
    }

    public ProductVariant variant() {
        return variant;
    }

    public ProductVersion version(String version) {
        return new ProductVersion(this, Names.checkCanonical("version", version));
    }

    public List<ProductVersion> versions() throws IOException {
        return children(n -> new ProductVersion(this, n));
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
