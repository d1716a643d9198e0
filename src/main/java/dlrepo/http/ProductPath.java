package dlrepo.http;

import dlrepo.fs.Product;
import dlrepo.fs.ProductBranch;
import dlrepo.fs.ProductVariant;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;

/** The product levels named by a {@code /products/...} URL above the version (null when not named). */
public record ProductPath(Product product, ProductVariant variant, ProductBranch branch) {
    static final AttachmentKey<ProductPath> KEY = AttachmentKey.create(ProductPath.class);

    public static ProductPath of(HttpServerExchange ex) {
        return ex.getAttachment(KEY);
    }
}
