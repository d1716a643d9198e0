package dlrepo.fs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** {@code products/<product>/}: its variants. */
public final class Product extends Level {
    private final ProductTree tree;

    Product(ProductTree tree, String name) {
        super(name, tree.path().resolve(name), tree.repository().storage().root());
        this.tree = tree;
    }

    public ProductTree tree() {
        return tree;
    }

    public ProductVariant variant(String variant) {
        return new ProductVariant(this, Names.checkCanonical("product variant", variant));
    }

    public List<ProductVariant> variants() throws IOException {
        return children(n -> new ProductVariant(this, n));
    }
}
