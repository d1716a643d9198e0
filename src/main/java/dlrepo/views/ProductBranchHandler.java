package dlrepo.views;

import dlrepo.http.Access;
import dlrepo.http.HttpError;
import dlrepo.http.ProductPath;
import dlrepo.http.Responses;
import dlrepo.http.Urls;

import dlrepo.fs.Job;
import dlrepo.fs.ProductBranch;
import dlrepo.fs.ProductVariant;
import dlrepo.fs.ProductVersion;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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
        if (!Responses.wantsHtml(ex)) {
            Responses.json(ex, Map.of("product_branch", m));
            return;
        }
        // the aliases, among the versions the caller may read (a hidden target shows none)
        Map<String, List<String>> aliases = new java.util.HashMap<>();
        List<Map<String, String>> aliasLinks = new ArrayList<>();
        for (String alias : List.of("latest", "stable", "oldstable")) {
            Optional<ProductVersion> target = b.resolveAlias(alias);
            if (target.isPresent() && access.canRead(ex, Urls.version(target.get()))) {
                aliases.computeIfAbsent(target.get().name(), k -> new ArrayList<>()).add(alias);
                aliasLinks.add(Map.of("alias", alias, "version", target.get().name()));
            }
        }
        List<Map<String, Object>> versions = new ArrayList<>();
        for (Object o : list) {
            @SuppressWarnings("unchecked")
            Map<String, Object> vm = new LinkedHashMap<>((Map<String, Object>) o);
            vm.put("aliases", aliases.getOrDefault(String.valueOf(vm.get("name")), List.of()));
            versions.add(vm);
        }
        versions.sort(NaturalOrder.newestFirst());
        ProductVariant variant = b.variant();
        View.send(ex, "product_branch", Map.of("product_branch", m), Map.of("versions", versions, "aliases",
                aliasLinks, "product", variant.product().name(), "variant", variant.name()));
    }
}
