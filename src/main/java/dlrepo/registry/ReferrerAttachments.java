package dlrepo.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.ContainerImage;
import dlrepo.fs.Digest;
import dlrepo.fs.RepoException;
import dlrepo.fs.Storage;
import dlrepo.http.Access;
import dlrepo.http.RequestUser;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Links referrers into the images of their subjects: a referrer pushed by digest goes
 * into every tag whose image holds its subject (or waits, {@link Referrers}); a tag push
 * brings along the referrers of its manifests, waiting or linked into other tags of the
 * name, so that each tag holding a subject keeps its signatures through deletes and GC.
 * Callers hold the name's lock ({@link Referrers#lock}).
 */
final class ReferrerAttachments {
    private static final Logger LOG = LoggerFactory.getLogger(ReferrerAttachments.class);
    /** Referrers of one subject in one image: bounds what a listing reads. */
    static final int MAX_PER_SUBJECT = 1000;

    /** The files a referrer links (its manifest, an index's children, their blobs). */
    record Linked(Digest digest, Set<Digest> manifests, Set<Digest> blobs) {
    }

    private final Storage storage;
    private final Access access;
    private final ImageContent content;
    private final Referrers referrers;

    ReferrerAttachments(Storage storage, Access access, ImageContent content, Referrers referrers) {
        this.storage = storage;
        this.access = access;
        this.content = content;
        this.referrers = referrers;
    }

    ReentrantLock lock(ImageName image) {
        return referrers.lock(image);
    }

    /** {@code referrer} no longer waits. Under the name's lock. */
    boolean forget(ImageName image, Digest referrer) {
        return referrers.forget(image, referrer);
    }

    /**
     * Referrer {@code m}, pushed by digest (its bytes and blobs are in the store): linked
     * into every tag of the name that the caller may read and whose image holds its
     * subject, with the referrers waiting for it; else it waits. All or nothing: DENIED if one of those tags is in a locked job
     * or the caller may not push to it. Under the name's lock.
     */
    void pushed(HttpServerExchange ex, ImageName image, Manifest m) throws IOException {
        Linked files = content.linkedBy(ex, image, m);
        Map<String, ArtifactFormat> targets = new TreeMap<>();
        // the closure below needs these indexes too: each parsed once per push
        Map<String, Map<String, List<JsonNode>>> indexes = new HashMap<>();
        for (Map.Entry<String, ArtifactFormat> e : image.formats().entrySet()) {
            ContainerImage img = new ContainerImage(e.getValue());
            String path = "/v2/" + image.name() + "/manifests/" + e.getKey();
            // a tag the caller may not read is left alone, and never named in an answer
            if (access.canRead(ex, path) && img.exists() && img.manifestFile(m.subject()).isPresent()) {
                if (!access.canAdd(ex, path)) {
                    throw RegistryError.denied("May not push to " + path + ", which holds " + m.subject()
                            + ": the referrer " + m.digest() + " would be linked there");
                }
                if (e.getValue().job().isLocked()) {
                    throw locked(image, e.getKey(), m.subject());
                }
                Map<String, List<JsonNode>> index = img.referrersBySubject();
                indexes.put(e.getKey(), index);
                List<JsonNode> listed = index.getOrDefault(m.subject().toString(), List.of());
                if (listed.size() >= MAX_PER_SUBJECT && listed.stream()
                        .noneMatch(d -> d.path("digest").asText().equals(m.digest().toString()))) {
                    throw RegistryError.denied(m.subject() + " already has " + MAX_PER_SUBJECT + " referrers in "
                            + path + ": delete some first");
                }
                targets.put(e.getKey(), e.getValue());
            }
        }
        List<Linked> group = new ArrayList<>();
        group.add(files);
        group.addAll(closure(ex, image, null, Set.of(m.digest()), indexes));
        boolean attached = false;
        for (Map.Entry<String, ArtifactFormat> e : targets.entrySet()) {
            attached |= attach(ex, image, e.getKey(), new ContainerImage(e.getValue()), m.subject(), group);
        }
        if (!attached) {
            referrers.await(image, new Referrers.Waiting(m.digest(), m.subject(), m.descriptor(), files.manifests(),
                    files.blobs(), RequestUser.of(ex)), d -> Files.isRegularFile(storage.blobs().path(d)));
            return;
        }
        for (Linked l : group) {
            referrers.forget(image, l.digest());
            l.manifests().forEach(d -> content.tied(image, PendingBlobs.Kind.MANIFEST, d));
            l.blobs().forEach(d -> content.tied(image, PendingBlobs.Kind.BLOB, d));
        }
    }

    /**
     * Deletes referrer {@code d} of {@code image} by digest: unlinked from every tag the
     * caller may read that links it (each needs the delete right, refused on a locked
     * job; all or nothing), and forgotten if it waits and the caller sees it. False if
     * there was no such referrer. Under the name's lock.
     */
    boolean detach(HttpServerExchange ex, ImageName image, Digest d) throws IOException {
        Map<String, ContainerImage> holders = new TreeMap<>();
        for (Map.Entry<String, ArtifactFormat> e : image.formats().entrySet()) {
            String path = "/v2/" + image.name() + "/manifests/" + e.getKey();
            ContainerImage img = new ContainerImage(e.getValue());
            if (access.canRead(ex, path) && img.exists() && !img.manifest().equals(Optional.of(d))
                    && img.manifestFile(d).flatMap(ReferrerAttachments::readQuietly)
                            .map(m -> m.subject() != null).orElse(false)) {
                access.check(ex, path);
                if (e.getValue().job().isLocked()) {
                    throw lockedReferrer(image, e.getKey(), d);
                }
                holders.put(e.getKey(), img);
            }
        }
        boolean deleted = false;
        for (Map.Entry<String, ContainerImage> e : holders.entrySet()) {
            ContainerImage img = e.getValue();
            // its own referrers (a signature of an SBOM) leave with it
            Map<Digest, Set<Digest>> gone = new LinkedHashMap<>();
            Set<Digest> manifests = new LinkedHashSet<>();
            for (Digest r : withReferrersOf(img, d)) {
                Set<Digest> files = new LinkedHashSet<>();
                manifests.add(r);
                linkedIn(img, r).ifPresent(l -> {
                    files.addAll(l.manifests());
                    files.addAll(l.blobs());
                    manifests.addAll(l.manifests());
                });
                files.remove(r);
                gone.put(r, files);
            }
            try {
                deleted |= img.detach(gone);
            } catch (RepoException r) {
                if (r.kind() == RepoException.Kind.BAD_REQUEST) {
                    throw lockedReferrer(image, e.getKey(), d);
                }
                throw r;
            }
            content.deleted(image, manifests);
        }
        Optional<Referrers.Waiting> w = referrers.waiting(image, d);
        if (w.isPresent() && content.waitingVisible(ex, w.get().pusher())) {
            referrers.forget(image, d);
            deleted = true;
        }
        return deleted;
    }

    /** {@code d} and the referrers linked into {@code img} that refer to it, transitively. */
    private static Set<Digest> withReferrersOf(ContainerImage img, Digest d) throws IOException {
        Map<String, List<JsonNode>> index = img.referrersBySubject();
        Set<Digest> all = new LinkedHashSet<>();
        Deque<Digest> queue = new ArrayDeque<>(List.of(d));
        while (!queue.isEmpty()) {
            Digest next = queue.poll();
            if (all.add(next)) {
                for (JsonNode r : index.getOrDefault(next.toString(), List.of())) {
                    Digest referrer = digestOf(r);
                    if (referrer != null) {
                        queue.add(referrer);
                    }
                }
            }
        }
        return all;
    }

    /** Links {@code group} into one image; false if it no longer holds the subject. */
    private boolean attach(HttpServerExchange ex, ImageName image, String tag, ContainerImage target, Digest subject,
            List<Linked> group) throws IOException {
        Set<Digest> manifests = new LinkedHashSet<>();
        Set<Digest> blobs = new LinkedHashSet<>();
        group.forEach(l -> {
            manifests.addAll(l.manifests());
            blobs.addAll(l.blobs());
        });
        try {
            return content.linking(image, manifests, blobs, () -> {
                target.attach(subject, manifests, blobs, access.products(ex));
                return true;
            });
        } catch (RepoException r) {
            switch (r.kind()) {
                case NOT_FOUND -> {
                    return false; // deleted meanwhile
                }
                case BAD_REQUEST -> throw locked(image, tag, subject);
                case QUOTA_EXCEEDED, FORBIDDEN, CONFLICT -> throw RegistryError.denied(r.getMessage());
                default -> throw r;
            }
        }
    }

    private static dlrepo.http.HttpError lockedReferrer(ImageName image, String tag, Digest referrer) {
        return RegistryError.denied("Job " + image.parts().get(0) + "/" + tag + "/" + image.parts().get(1)
                + " is locked: unlock it to delete its referrer " + referrer);
    }

    private static dlrepo.http.HttpError locked(ImageName image, String tag, Digest subject) {
        return RegistryError.denied("Tag " + tag + " holds " + subject + " but job " + image.parts().get(0) + "/"
                + tag + "/" + image.parts().get(1) + " is locked: attach signatures and other referrers before"
                + " locking the job");
    }

    /**
     * The referrers of {@code roots}, and of those referrers, transitively: waiting ones,
     * those linked into {@code tag} (null: none; the image a push replaces there keeps
     * the referrers of the manifests it shares with the new one) and into the other tags
     * of the name the caller may read; each only if every file it links is in the store
     * (else left out, logged).
     */
    List<Linked> closure(HttpServerExchange ex, ImageName image, String tag, Set<Digest> roots) throws IOException {
        return closure(ex, image, tag, roots, Map.of());
    }

    /** {@link #closure}, with the {@code .referrers} of some tags ({@code read}, by tag) parsed already. */
    private List<Linked> closure(HttpServerExchange ex, ImageName image, String tag, Set<Digest> roots,
            Map<String, Map<String, List<JsonNode>>> read) throws IOException {
        Map<Digest, Linked> found = new LinkedHashMap<>();
        // each tag's index read once, not once per referrer found
        Map<ContainerImage, Map<String, List<JsonNode>>> others = new LinkedHashMap<>();
        for (Map.Entry<String, ArtifactFormat> e : image.formats().entrySet()) {
            if (e.getKey().equals(tag) || access.canRead(ex, "/v2/" + image.name() + "/manifests/" + e.getKey())) {
                ContainerImage img = new ContainerImage(e.getValue());
                Map<String, List<JsonNode>> index = read.get(e.getKey());
                if (index != null) {
                    others.put(img, index);
                } else if (img.exists()) {
                    others.put(img, img.referrersBySubject());
                }
            }
        }
        Deque<Digest> queue = new ArrayDeque<>(roots);
        Set<Digest> seen = new LinkedHashSet<>(roots);
        while (!queue.isEmpty()) {
            Digest subject = queue.poll();
            List<Linked> candidates = new ArrayList<>();
            for (Referrers.Waiting w : referrers.waitingFor(image, subject)) {
                candidates.add(new Linked(w.digest(), w.manifests(), w.blobs()));
            }
            for (Map.Entry<ContainerImage, Map<String, List<JsonNode>>> o : others.entrySet()) {
                for (JsonNode d : o.getValue().getOrDefault(subject.toString(), List.of())) {
                    Digest referrer = digestOf(d);
                    if (referrer != null && !seen.contains(referrer)) {
                        linkedIn(o.getKey(), referrer).ifPresent(candidates::add);
                    }
                }
            }
            for (Linked l : candidates) {
                if (seen.add(l.digest()) && stored(image, l)) {
                    found.put(l.digest(), l);
                    queue.add(l.digest());
                }
            }
        }
        return new ArrayList<>(found.values());
    }

    /** The digest of a descriptor of {@code .referrers}; null if it is not one (nothing is linked under it). */
    private static Digest digestOf(JsonNode descriptor) {
        try {
            return Digest.parse(descriptor.path("digest").asText(""));
        } catch (RepoException e) {
            return null;
        }
    }

    /** What manifest {@code d} links in {@code img}. */
    private static Optional<Linked> linkedIn(ContainerImage img, Digest d) throws IOException {
        Optional<Manifest> m = img.manifestFile(d).flatMap(ReferrerAttachments::readQuietly);
        if (m.isEmpty()) {
            return Optional.empty();
        }
        Set<Digest> manifests = new LinkedHashSet<>();
        Set<Digest> blobs = new LinkedHashSet<>(m.get().blobs());
        manifests.add(d);
        for (Digest child : m.get().children()) {
            Optional<Manifest> c = img.manifestFile(child).flatMap(ReferrerAttachments::readQuietly);
            if (c.isEmpty()) {
                return Optional.empty();
            }
            manifests.add(child);
            blobs.addAll(c.get().blobs());
        }
        return Optional.of(new Linked(d, manifests, blobs));
    }

    private boolean stored(ImageName image, Linked l) throws IOException {
        for (Set<Digest> set : List.of(l.manifests(), l.blobs())) {
            for (Digest d : set) {
                if (storage.blobs().probe(d).isEmpty()) {
                    LOG.info("{}: referrer {} left out: {} is no longer in the store", image.name(), l.digest(), d);
                    return false;
                }
            }
        }
        return true;
    }

    private static Optional<Manifest> readQuietly(Path p) {
        try {
            return read(p);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static Optional<Manifest> read(Path p) throws IOException {
        try {
            return Optional.of(Manifest.parse(Files.readAllBytes(p), null));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }
}
