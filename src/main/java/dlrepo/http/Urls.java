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

    /** {@code s} with every byte but the unreserved characters of RFC 3986 percent-encoded (UTF-8). */
    public static String encodeSegment(String s) {
        StringBuilder b = new StringBuilder();
        for (byte c : s.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.'
                    || c == '_' || c == '~') {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit((c >> 4) & 0xf, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return b.toString();
    }
}
