package dlrepo.http;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.Branch;
import dlrepo.fs.Job;
import dlrepo.fs.Repository;
import dlrepo.fs.Tag;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;

/**
 * What the URL of a request designates, once the router has validated and canonicalized
 * it: the levels of the tree down to the deepest one named (the others are null) and, for
 * a file, its path below the format.
 */
public record Target(Repository repo, Branch branch, Tag tag, Job job, ArtifactFormat format, String relPath,
        boolean trailingSlash) {
    static final AttachmentKey<Target> KEY = AttachmentKey.create(Target.class);

    static Target of(HttpServerExchange ex) {
        return ex.getAttachment(KEY);
    }
}
