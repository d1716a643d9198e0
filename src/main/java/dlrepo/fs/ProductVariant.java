package dlrepo.fs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** {@code products/<p>/<variant>/}: its product branches. */
public final class ProductVariant extends Level {
    private final Product product;

    ProductVariant(Product product, String name) {
        super(name, product.path().resolve(name), product.root());
        this.product = product;
    }

    public Product product() {
        return product;
    }

    public ProductBranch branch(String branch) {
        return new ProductBranch(this, Names.checkCanonical("product branch", branch));
    }

    public List<ProductBranch> branches() throws IOException {
        return children(n -> new ProductBranch(this, n));
    }
}
