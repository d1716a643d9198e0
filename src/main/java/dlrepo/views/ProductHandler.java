package dlrepo.views;

import dlrepo.http.Access;
import dlrepo.http.HttpError;
import dlrepo.http.ProductPath;
import dlrepo.http.Urls;

import dlrepo.fs.Product;
import dlrepo.fs.ProductVariant;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /products/<p>/}: its variants. */
public final class ProductHandler implements HttpHandler {
    private final Access access;

    public ProductHandler(Access access) {
        this.access = access;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        Product p = ProductPath.of(ex).product();
        if (!p.exists()) {
            throw HttpError.notFound("Product " + p.name() + " not found");
        }
        List<Object> list = new ArrayList<>();
        for (ProductVariant v : p.variants()) {
            if (!access.canRead(ex, Urls.variant(v))) {
                continue;
            }
            list.add(Map.of("name", v.name()));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", p.name());
        m.put("product_variants", list);
        View.send(ex, "product", Map.of("product", m));
    }
}
