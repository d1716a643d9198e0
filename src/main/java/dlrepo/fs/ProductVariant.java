package dlrepo.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code products/<p>/<variant>/}: its product branches. */
public final class ProductVariant {
    private final Product product;
    private final String name;
    private final Path path;

    ProductVariant(Product product, String name) {
        this.product = product;
        this.name = name;
        this.path = product.path().resolve(name);
    }

    public Product product() {
        return product;
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

    public ProductBranch branch(String branch) {
        return new ProductBranch(this, Names.checkCanonical("product branch", branch));
    }

    public List<ProductBranch> branches() throws IOException {
        List<ProductBranch> list = new ArrayList<>();
        for (String n : Disk.subfolders(path)) {
            list.add(new ProductBranch(this, n));
        }
        return list;
    }
}
