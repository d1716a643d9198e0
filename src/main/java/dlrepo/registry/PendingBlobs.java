package dlrepo.registry;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dlrepo.fs.Digest;

/**
 * What was pushed to an image name and is not in any of its manifests yet: blobs
 * (uploaded or mounted) and manifests pushed by digest (an index's children). The
 * distribution flow reads them back through that name before the manifest that links
 * them arrives; once it has, they are reached through its tag (whose ACL then applies).
 * In memory, for as long as an upload session may stay idle; after a restart a client
 * pushes again (the store keeps one copy).
 */
final class PendingBlobs {
    enum Kind {
        BLOB, MANIFEST
    }

    private final Cache<String, Boolean> pushed;

    PendingBlobs(java.time.Duration idle) {
        pushed = Caffeine.newBuilder().expireAfterWrite(idle).maximumSize(100_000).build();
    }

    void add(ImageName image, Kind kind, Digest d) {
        pushed.put(key(image, kind, d), Boolean.TRUE);
    }

    /** {@code d} is now in a manifest of the image: what reaches it is that manifest's tag. */
    void remove(ImageName image, Kind kind, Digest d) {
        pushed.invalidate(key(image, kind, d));
    }

    boolean contains(ImageName image, Kind kind, Digest d) {
        return pushed.getIfPresent(key(image, kind, d)) != null;
    }

    private static String key(ImageName image, Kind kind, Digest d) {
        return kind + " " + image.name() + " " + d.hex();
    }
}
