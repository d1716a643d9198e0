package dlrepo.registry;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.ContainerImage;
import dlrepo.fs.Digest;
import dlrepo.fs.Quota;
import dlrepo.fs.Storage;
import dlrepo.http.Access;
import dlrepo.http.ReadableCopies;
import dlrepo.http.RequestUser;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What a caller reaches by digest through an image name (whose read right the router
 * checked): blobs are global in the store, but {@code /v2/<name>/blobs/<d>} and
 * {@code manifests/<d>} answer only for content that
 * <ol>
 * <li>a manifest of that image references (config, layer, child manifest), in a tag whose
 * manifest the caller may read;</li>
 * <li>or was pushed to that same name by the caller and waits for its manifest
 * ({@link PendingBlobs}): until the manifest says which tag, and so which ACL, it belongs
 * to, only its pusher reads it back; so does a referrer waiting for its subject
 * ({@link Referrers}), and what it links, as long as it is listed;</li>
 * <li>or, without authentication (everyone may read everything), is anywhere in the store,
 * as the registry always answered; but a manifest deleted from that name answers 404 there
 * at once ({@link #deleted}).</li>
 * </ol>
 * A manifest's references must pass the same rule when it is pushed. A mount brings a blob
 * into a name (rule 2) only if the caller may reach it through the {@code from} image or
 * read it in the tree ({@link ReadableCopies}): a digest never reads content the caller
 * may not read.
 */
final class ImageContent {
    static final int MAX_MANIFEST = 4 << 20;

    private final Storage storage;
    private final Access access;
    private final ReadableCopies copies;
    private final PendingBlobs pending;
    /** {@code <name>@<digest>} of what deletes removed, while the store may still hold it ({@link #deleted}). */
    private final Cache<String, Boolean> deleted = Caffeine.newBuilder()
            .maximumSize(100_000).expireAfterWrite(Duration.ofDays(1)).build();
    private final Referrers referrers;

    ImageContent(Storage storage, Access access, ReadableCopies copies, PendingBlobs pending, Referrers referrers) {
        this.storage = storage;
        this.access = access;
        this.copies = copies;
        this.pending = pending;
        this.referrers = referrers;
    }

    /**
     * Records that the caller pushed {@code d} to (or mounted it into) {@code image};
     * DENIED when the caller has too many pushes waiting for a manifest. Nothing to record
     * when everyone may read everything.
     */
    void pushed(HttpServerExchange ex, ImageName image, PendingBlobs.Kind kind, Digest d) {
        deleted.invalidate(key(image, d));
        if (!copies.everythingReadable()) {
            pending.add(RequestUser.of(ex), image, kind, d);
        }
    }

    /**
     * DENIED when the caller has so many pushes waiting for a manifest that she may push
     * nothing new; blob {@code d} (null when not known yet) pushed to {@code image} again is
     * not new.
     */
    void checkCanPush(HttpServerExchange ex, ImageName image, Digest d) {
        if (!copies.everythingReadable()) {
            pending.checkRoom(RequestUser.of(ex), image, d);
        }
    }

    /** What keeps the caller's pushes to {@code image} while an upload of hers to it receives data. */
    Runnable pushGoesOn(HttpServerExchange ex, ImageName image) {
        String login = RequestUser.of(ex);
        return copies.everythingReadable() ? () -> { } : () -> pending.touch(login, image);
    }

    /** {@code d} is now in a manifest of {@code image}, tagged: it is no longer a pending push. */
    void tied(ImageName image, PendingBlobs.Kind kind, Digest d) {
        pending.remove(image, kind, d);
        deleted.invalidate(key(image, d));
    }

    /**
     * A delete removed manifests {@code ds} from {@code image}: without authentication rule
     * 3 would serve them from the store until the GC collects them, so they answer 404
     * through that name at once (unless a tag there still holds them), until pushed there
     * again. Blobs stay readable until the GC, as after any delete.
     */
    void deleted(ImageName image, Collection<Digest> ds) {
        if (copies.everythingReadable()) {
            ds.forEach(d -> deleted.put(key(image, d), Boolean.TRUE));
        }
    }

    /** Rule 3 for manifests: without authentication, any in the store but those deleted from that name. */
    private boolean anywhere(ImageName image, Digest d) {
        return copies.everythingReadable() && deleted.getIfPresent(key(image, d)) == null;
    }

    private static String key(ImageName image, Digest d) {
        return image.name() + "@" + d;
    }

    /**
     * Whether {@code d} is a manifest the caller pushed by digest to {@code image} and that
     * waits for its index (without authentication: any manifest in the store); it is no
     * longer kept for the caller, and the orphan GC collects it.
     */
    boolean dropPendingManifest(HttpServerExchange ex, ImageName image, Digest d) throws IOException {
        if (copies.everythingReadable()) {
            if (!anywhere(image, d) || !looksLikeManifest(storage.blobs().path(d))) {
                return false;
            }
            deleted(image, List.of(d));
            return true;
        }
        if (!pending.contains(RequestUser.of(ex), image, PendingBlobs.Kind.MANIFEST, d)) {
            return false;
        }
        pending.remove(image, PendingBlobs.Kind.MANIFEST, d);
        return true;
    }

    /**
     * Whether a referrer that {@code pusher} pushed and that waits for its subject (in no
     * tag yet, so under no tag's ACL) is visible to the caller: as rule 2, to its pusher,
     * or to everyone when everything is readable.
     */
    boolean waitingVisible(HttpServerExchange ex, String pusher) {
        return copies.everythingReadable() || RequestUser.of(ex).equals(pusher);
    }

    /** Whether a waiting referrer of {@code image} that the caller sees links {@code d}. */
    private boolean waitingLinks(HttpServerExchange ex, ImageName image, Digest d) {
        String login = RequestUser.of(ex);
        return referrers.waitingOf(image).stream().anyMatch(w -> w.pusher().equals(login)
                && (w.manifests().contains(d) || w.blobs().contains(d)));
    }

    /** The file holding config or layer {@code d} as the caller may reach it through {@code image}. */
    Optional<Path> blob(HttpServerExchange ex, ImageName image, Digest d) throws IOException {
        Path blob = storage.blobs().path(d);
        // the cheap rules first: a push waits for its manifest, or everything is readable
        if ((copies.everythingReadable() || pending.contains(RequestUser.of(ex), image, PendingBlobs.Kind.BLOB, d)
                || waitingLinks(ex, image, d)) && Files.isRegularFile(blob)) {
            return Optional.of(blob);
        }
        return referenced(ex, image, "blobs", d);
    }

    /** Whether the caller may read {@code d} in the tree (without authentication: whether it is in the store). */
    boolean readableElsewhere(HttpServerExchange ex, Digest d) throws IOException {
        return copies.find(ex, d, null, null).isPresent();
    }

    /**
     * The files manifest {@code m} links into an image: itself, its children (which the
     * caller must reach through {@code image}) and the blobs of both. MANIFEST_BLOB_UNKNOWN
     * for a child missing, MANIFEST_INVALID for a child that is an index itself.
     */
    ReferrerAttachments.Linked linkedBy(HttpServerExchange ex, ImageName image, Manifest m) throws IOException {
        Set<Digest> manifests = new LinkedHashSet<>();
        Set<Digest> blobs = new LinkedHashSet<>(m.blobs());
        manifests.add(m.digest());
        for (Digest child : m.children()) {
            Path p = manifest(ex, image, child).orElseThrow(() -> RegistryError.manifestBlobUnknown(child.toString()));
            Manifest c;
            try {
                c = Manifest.parse(Files.readAllBytes(p), null);
            } catch (NoSuchFileException e) {
                throw RegistryError.manifestBlobUnknown(child.toString());
            }
            if (!c.children().isEmpty()) {
                throw RegistryError.manifestInvalid("nested indexes are not supported");
            }
            manifests.add(child);
            blobs.addAll(c.blobs());
        }
        return new ReferrerAttachments.Linked(m.digest(), manifests, blobs);
    }

    /**
     * Runs {@code link}, which links {@code manifests} and {@code blobs} into an image of
     * {@code image}: a user's pushes no longer count them as unlinked from then on (the
     * usage counts them), and do again if it fails.
     */
    <T> T linking(ImageName image, Collection<Digest> manifests, Collection<Digest> blobs, Link<T> link)
            throws IOException {
        Optional<Quota> quota = image.repo().quota();
        if (quota.isEmpty()) {
            return link.run();
        }
        List<Path> linked = new ArrayList<>();
        manifests.forEach(d -> linked.add(storage.blobs().path(d)));
        blobs.forEach(d -> linked.add(storage.blobs().path(d)));
        Map<Path, Long> released = quota.get().releaseUnlinked(linked);
        try {
            return link.run();
        } catch (IOException | RuntimeException e) {
            released.forEach((blob, size) -> quota.get().holdUnlinked(blob, size));
            throw e;
        }
    }

    /** What {@link #linking} runs. */
    interface Link<T> {
        T run() throws IOException;
    }

    /** The file holding manifest {@code d} as the caller may reach it through {@code image}. */
    Optional<Path> manifest(HttpServerExchange ex, ImageName image, Digest d) throws IOException {
        Optional<Path> p = referenced(ex, image, "manifests", d);
        if (p.isPresent()) {
            return p;
        }
        Path blob = storage.blobs().path(d);
        boolean reachable = anywhere(image, d)
                || pending.contains(RequestUser.of(ex), image, PendingBlobs.Kind.MANIFEST, d)
                || waitingLinks(ex, image, d);
        return reachable && looksLikeManifest(blob) ? Optional.of(blob) : Optional.empty();
    }

    /** The image's file {@code <kind>/sha256/<xx>/<hex>}, in a tag whose manifest the caller may read. */
    private Optional<Path> referenced(HttpServerExchange ex, ImageName image, String kind, Digest d)
            throws IOException {
        String rel = ContainerImage.rel(kind, d);
        for (Map.Entry<String, ArtifactFormat> e : image.formats().entrySet()) {
            Path p = e.getValue().path().resolve(rel);
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                    && access.canRead(ex, "/v2/" + image.name() + "/manifests/" + e.getKey())
                    && new ContainerImage(e.getValue()).exists()) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private static boolean looksLikeManifest(Path blob) throws IOException {
        try {
            if (!Files.isRegularFile(blob) || Files.size(blob) > MAX_MANIFEST) {
                return false;
            }
            Manifest.parse(Files.readAllBytes(blob), null);
            return true;
        } catch (java.nio.file.NoSuchFileException | dlrepo.http.HttpError e) {
            return false;
        }
    }
}
