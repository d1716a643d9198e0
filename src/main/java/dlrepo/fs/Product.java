package dlrepo.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code products/<product>/}: its variants. */
public final class Product {
    private final ProductTree tree;
    private final String name;
    private final Path path;

    Product(ProductTree tree, String name) {
        this.tree = tree;
        this.name = name;
        this.path = tree.path().resolve(name);
    }

    public ProductTree tree() {
        return tree;
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

    public ProductVariant variant(String variant) {
        return new ProductVariant(this, Names.checkCanonical("product variant", variant));
    }

    public List<ProductVariant> variants() throws IOException {
        List<ProductVariant> list = new ArrayList<>();
        for (String n : Disk.subfolders(path)) {
            list.add(new ProductVariant(this, n));
        }
        return list;
    }
}
