package dlrepo.views;

import dlrepo.http.Access;
import dlrepo.http.Target;
import dlrepo.http.Urls;

import dlrepo.fs.Product;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code /products/}: the products. */
public final class ProductsHandler implements HttpHandler {
    private final Access access;

    public ProductsHandler(Access access) {
        this.access = access;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        List<Object> list = new ArrayList<>();
        for (Product p : Target.of(ex).repo().products().products()) {
            if (!access.canRead(ex, Urls.product(p))) {
                continue;
            }
            list.add(Map.of("name", p.name()));
        }
        View.send(ex, "products", Map.of("products", list));
    }
}
