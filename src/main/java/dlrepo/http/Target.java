package dlrepo.http;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.Branch;
import dlrepo.fs.Job;
import dlrepo.fs.ProductVersion;
import dlrepo.fs.Repository;
import dlrepo.fs.Tag;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;

/**
 * What the URL of a request designates, once the router has validated and canonicalized
 * it: the levels of the tree down to the deepest one named (the others are null) and, for
 * a file, its path below the format. Under {@code products/}, {@code version} is set and
 * the levels are those of the job its format links to.
 */
public record Target(Repository repo, Branch branch, Tag tag, Job job, ArtifactFormat format, String relPath,
        boolean trailingSlash, ProductVersion version) {
    static final AttachmentKey<Target> KEY = AttachmentKey.create(Target.class);

    public static Target of(HttpServerExchange ex) {
        return ex.getAttachment(KEY);
    }
}
