package dlrepo.views;

import dlrepo.http.Access;
import dlrepo.http.HttpError;
import dlrepo.http.ProductPath;
import dlrepo.http.Urls;

import dlrepo.fs.ProductBranch;
import dlrepo.fs.ProductVariant;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /products/<p>/<v>/}: its product branches. */
public final class ProductVariantHandler implements HttpHandler {
    private final Access access;

    public ProductVariantHandler(Access access) {
        this.access = access;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        ProductVariant v = ProductPath.of(ex).variant();
        if (!v.exists()) {
            throw HttpError.notFound("Product variant " + v.name() + " not found");
        }
        List<Object> list = new ArrayList<>();
        for (ProductBranch b : v.branches()) {
            if (!access.canRead(ex, Urls.productBranch(b))) {
                continue;
            }
            list.add(Map.of("name", b.name()));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", v.name());
        m.put("product_branches", list);
        View.send(ex, "product_variant", Map.of("product_variant", m), Map.of("product", v.product().name()));
    }
}
