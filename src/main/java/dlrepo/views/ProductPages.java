package dlrepo.views;

import dlrepo.fs.Product;
import dlrepo.fs.ProductBranch;
import dlrepo.fs.ProductVariant;
import dlrepo.fs.ProductVersion;
import dlrepo.fs.Repository;
import dlrepo.http.Access;
import dlrepo.http.Urls;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the pages of the products tree and the home pages share: links (each name
 * percent-encoded as one path segment, so that no name makes a link absolute or leave the
 * tree) and the latest releases of a repository.
 */
final class ProductPages {
    /** How many versions the "latest releases" of a home page list. */
    static final int LATEST = 10;

    private ProductPages() {
    }

    /** The URL path of a repository, its user name encoded. */
    static String repoHref(Repository repo) {
        return repo.user() == null ? "/" : "/~" + PageFilters.segment(repo.user()) + "/";
    }

    /** {@code base} followed by each name as one encoded segment and a slash. */
    static String href(String base, String... names) {
        StringBuilder b = new StringBuilder(base);
        for (String n : names) {
            b.append(PageFilters.segment(n)).append('/');
        }
        return b.toString();
    }

    static String versionHref(ProductVersion v) {
        ProductBranch b = v.branch();
        ProductVariant va = b.variant();
        Product p = va.product();
        return href(repoHref(p.tree().repository()) + "products/", p.name(), va.name(), b.name(), v.name());
    }

    /**
     * The {@link #LATEST} newest versions of {@code repo} (by timestamp) that the caller may
     * read and that still hold a format, as the JSON listing of their product branch shows
     * them: maps with version, product, variant, branch, timestamp and url.
     */
    static List<Map<String, Object>> latest(HttpServerExchange ex, Access access, Repository repo)
            throws IOException {
        List<ProductVersion> all = new ArrayList<>();
        for (Product p : repo.products().products()) {
            for (ProductVariant va : p.variants()) {
                for (ProductBranch b : va.branches()) {
                    all.addAll(b.versions());
                }
            }
        }
        // the timestamp of each once, then the checks (ACL, formats) on the newest first only
        Map<ProductVersion, Double> stamps = new java.util.HashMap<>();
        for (ProductVersion v : all) {
            stamps.put(v, v.timestamp());
        }
        all.sort(java.util.Comparator.comparing((ProductVersion v) -> stamps.get(v))
                .thenComparing(ProductVersion::name, NaturalOrder.INSTANCE).reversed());
        List<Map<String, Object>> out = new ArrayList<>();
        for (ProductVersion v : all) {
            if (out.size() >= LATEST) {
                break;
            }
            if (!access.canRead(ex, Urls.version(v)) || v.job() == null) {
                continue;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("version", v.name());
            m.put("product", v.branch().variant().product().name());
            m.put("variant", v.branch().variant().name());
            m.put("branch", v.branch().name());
            m.put("timestamp", Views.time(stamps.get(v)));
            m.put("url", versionHref(v));
            out.add(m);
        }
        return out;
    }
}
