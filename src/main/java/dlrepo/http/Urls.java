package dlrepo.http;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.Branch;
import dlrepo.fs.Job;
import dlrepo.fs.Product;
import dlrepo.fs.ProductBranch;
import dlrepo.fs.ProductVariant;
import dlrepo.fs.ProductVersion;
import dlrepo.fs.Tag;

/** The canonical (decoded) URL path of each level of the trees, as ACLs see them. */
public final class Urls {
    private Urls() {
    }

    public static String branch(Branch b) {
        return b.repository().urlPrefix() + "branches/" + b.name() + "/";
    }

    public static String tag(Tag t) {
        return branch(t.branch()) + t.name() + "/";
    }

    public static String job(Job j) {
        return tag(j.tag()) + j.name() + "/";
    }

    public static String format(ArtifactFormat f) {
        return job(f.job()) + f.name() + "/";
    }

    public static String product(Product p) {
        return p.tree().repository().urlPrefix() + "products/" + p.name() + "/";
    }

    public static String variant(ProductVariant v) {
        return product(v.product()) + v.name() + "/";
    }

    public static String productBranch(ProductBranch b) {
        return variant(b.variant()) + b.name() + "/";
    }

    public static String version(ProductVersion v) {
        return productBranch(v.branch()) + v.name() + "/";
    }

    /** A format as seen through a product version. */
    public static String versionFormat(ProductVersion v, ArtifactFormat f) {
        return version(v) + f.name() + "/";
    }
}
