package dlrepo.views;

import dlrepo.http.Access;
import dlrepo.http.HttpError;
import dlrepo.http.ProductPath;
import dlrepo.http.Responses;
import dlrepo.http.Urls;

import dlrepo.fs.Job;
import dlrepo.fs.ProductBranch;
import dlrepo.fs.ProductVersion;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /products/<p>/<v>/<b>/}: its versions with their flags. */
public final class ProductBranchHandler implements HttpHandler {
    private final Access access;

    public ProductBranchHandler(Access access) {
        this.access = access;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        ProductBranch b = ProductPath.of(ex).branch();
        if (!b.exists()) {
            throw HttpError.notFound("Product branch " + b.name() + " not found");
        }
        List<Object> list = new ArrayList<>();
        for (ProductVersion v : b.versions()) {
            if (!access.canRead(ex, Urls.version(v))) {
                continue;
            }
            Job job = v.job();
            if (job == null) {
                continue;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", v.name());
            m.put("timestamp", Views.time(v.timestamp()));
            m.put("locked", job.tag().isLocked());
            m.put("released", job.isReleased());
            m.put("stable", job.tag().isStable());
            list.add(m);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", b.name());
        m.put("versions", list);
        Responses.json(ex, Map.of("product_branch", m));
    }
}
