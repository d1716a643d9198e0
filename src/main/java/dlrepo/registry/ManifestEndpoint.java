package dlrepo.registry;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.BlobStore;
import dlrepo.fs.ContainerImage;
import dlrepo.fs.Digest;
import dlrepo.fs.Names;
import dlrepo.fs.RepoException;
import dlrepo.fs.Storage;
import dlrepo.fs.Upload;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** {@code /v2/<name>/manifests/<tag or digest>}: GET, HEAD, PUT, DELETE. */
final class ManifestEndpoint {
    static final HttpString CONTENT_DIGEST = new HttpString("Docker-Content-Digest");
    /** Tells a client that the registry knows referrers: it need not maintain the tag schema. */
    static final HttpString OCI_SUBJECT = new HttpString("OCI-Subject");
    private static final int MAX_MANIFEST = ImageContent.MAX_MANIFEST;
    /** A tag of the distribution specification. */
    private static final java.util.regex.Pattern TAG = java.util.regex.Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");

    private final Storage storage;
    private final dlrepo.http.Access access;
    private final ImageContent content;
    private final ReferrerAttachments referrers;

    ManifestEndpoint(Storage storage, dlrepo.http.Access access, ImageContent content, ReferrerAttachments referrers) {
        this.storage = storage;
        this.access = access;
        this.content = content;
        this.referrers = referrers;
    }

    void handle(HttpServerExchange ex, ImageName image, String ref) throws IOException {
        if (Names.isAlias(ref)) {
            // the router checked the path as spelled; the tag an alias stands for must be
            // readable too, and a refusal names the alias, never that tag
            if (Methods.GET.equals(ex.getRequestMethod()) || Methods.HEAD.equals(ex.getRequestMethod())) {
                Optional<String> tag = image.resolveTag(ref);
                if (tag.isPresent() && !access.canRead(ex, "/v2/" + image.name() + "/manifests/" + tag.get())) {
                    throw access.readRefusal(ex, "/v2/" + image.name() + "/manifests/" + ref);
                }
            }
        } else if (!ref.startsWith("sha256:") && !Names.canonical(ref).equals(ref)) {
            // a tag in another case: checked as the tag it is
            access.check(ex, "/v2/" + image.name() + "/manifests/" + Names.canonical(ref));
        }
        switch (ex.getRequestMethod().toString()) {
            case "GET", "HEAD" -> get(ex, image, ref);
            case "PUT" -> put(ex, image, ref);
            case "DELETE" -> delete(ex, image, ref);
            default -> throw RegistryError.unsupported("Manifests can be read, pushed and deleted, not "
                    + ex.getRequestMethod());
        }
    }

    private void get(HttpServerExchange ex, ImageName image, String ref) throws IOException {
        Path file = find(ex, image, ref).orElseThrow(() -> RegistryError.manifestUnknown(ref));
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw RegistryError.manifestUnknown(ref);
        }
        Manifest m = Manifest.parse(bytes, null);
        // the media type is the pusher's: served as uploaded content
        dlrepo.http.FileSender.untrusted(ex);
        ex.getResponseHeaders().put(Headers.CONTENT_TYPE, m.mediaType());
        ex.getResponseHeaders().put(CONTENT_DIGEST, m.digest().toString());
        ex.getResponseHeaders().put(Headers.ETAG, "\"" + m.digest() + "\"");
        ex.setResponseContentLength(bytes.length);
        if (!ex.getRequestMethod().equals(Methods.HEAD)) {
            ex.getResponseSender().send(ByteBuffer.wrap(bytes));
        }
    }

    /**
     * The manifest file a reference names: by tag, the image's tagged manifest; by digest,
     * one the caller may reach through this image ({@link ImageContent}): a manifest of the
     * image, or one pushed by digest to this name that waits for its index.
     */
    private Optional<Path> find(HttpServerExchange ex, ImageName image, String ref) throws IOException {
        if (!ref.startsWith("sha256:")) {
            Optional<ContainerImage> img = image.image(ref);
            if (img.isEmpty()) {
                return Optional.empty();
            }
            return img.get().manifestFile(img.get().manifest().orElseThrow());
        }
        return content.manifest(ex, image, digest(ref));
    }

    /**
     * Removes images (the container format of a job in a tag; the job keeps its other
     * formats): by tag, that tag's; by digest, every readable tag's whose image is that
     * manifest or an index of it. The router checked the delete right on the path as sent;
     * by digest each tag's path is checked too. Nothing is removed unless every image can be.
     * A referrer's digest unlinks it from the images of its subject instead (202), and
     * deleting a subject drops the referrers linked with it. Blobs left unreferenced are
     * the orphan GC's.
     */
    private void delete(HttpServerExchange ex, ImageName image, String ref) throws IOException {
        java.util.concurrent.locks.ReentrantLock lock = referrers.lock(image);
        lock.lock();
        try {
            deleteLocked(ex, image, ref);
        } finally {
            lock.unlock();
        }
    }

    private void deleteLocked(HttpServerExchange ex, ImageName image, String ref) throws IOException {
        if (!image.writable()) {
            throw RegistryError.unsupported(image.name() + " is a product image: delete from <branch>/<job> instead");
        }
        if (Names.isAlias(ref)) {
            throw RegistryError.unsupported(ref + " is an alias and cannot be deleted");
        }
        Map<String, ArtifactFormat> doomed = new java.util.TreeMap<>();
        if (ref.startsWith("sha256:")) {
            Digest d = digest(ref);
            for (Map.Entry<String, ArtifactFormat> e : image.formats().entrySet()) {
                String path = "/v2/" + image.name() + "/manifests/" + e.getKey();
                if (access.canRead(ex, path) && holds(new ContainerImage(e.getValue()), d)) {
                    access.check(ex, path);
                    doomed.put(e.getKey(), e.getValue());
                }
            }
        } else {
            Optional<ContainerImage> img = image.image(ref);
            if (img.isPresent()) {
                doomed.put(Names.canonical(ref), img.get().format());
            }
        }
        if (doomed.isEmpty()) {
            if (ref.startsWith("sha256:") && referrers.detach(ex, image, digest(ref))) {
                content.dropPendingManifest(ex, image, digest(ref));
                ex.setStatusCode(202); // a referrer: unlinked from the images of its subject
                ex.setResponseContentLength(0);
                return;
            }
            if (ref.startsWith("sha256:") && content.dropPendingManifest(ex, image, digest(ref))) {
                ex.setStatusCode(202); // pushed by digest, in no image yet
                ex.setResponseContentLength(0);
                return;
            }
            throw RegistryError.manifestUnknown(ref);
        }
        for (Map.Entry<String, ArtifactFormat> e : doomed.entrySet()) {
            if (e.getValue().job().isLocked()) {
                throw locked(image, e.getKey());
            }
        }
        for (Map.Entry<String, ArtifactFormat> e : doomed.entrySet()) {
            try {
                content.deleted(image, e.getValue().digests().entrySet().stream()
                        .filter(f -> f.getKey().startsWith("manifests/")).map(Map.Entry::getValue).toList());
                e.getValue().delete();
            } catch (RepoException r) {
                switch (r.kind()) {
                    case NOT_FOUND -> { } // deleted meanwhile
                    case BAD_REQUEST -> throw locked(image, e.getKey()); // locked meanwhile
                    default -> throw r;
                }
            }
        }
        ex.setStatusCode(202);
        ex.setResponseContentLength(0);
    }

    private static dlrepo.http.HttpError locked(ImageName image, String tag) {
        return RegistryError.denied("Job " + image.parts().get(0) + "/" + tag + "/" + image.parts().get(1)
                + " is locked: unlock it to delete its image");
    }

    /** Whether the image's tagged manifest is {@code d}, or an index of which {@code d} is a child. */
    private static boolean holds(ContainerImage image, Digest d) throws IOException {
        Optional<Digest> top = image.manifest();
        if (top.isEmpty()) {
            return false;
        }
        if (top.get().equals(d)) {
            return true;
        }
        Optional<Path> file = image.manifestFile(top.get());
        if (file.isEmpty() || image.manifestFile(d).isEmpty()) {
            return false;
        }
        try {
            return Manifest.parse(Files.readAllBytes(file.get()), null).children().contains(d);
        } catch (NoSuchFileException | dlrepo.http.HttpError e) {
            return false;
        }
    }

    private void put(HttpServerExchange ex, ImageName image, String ref) throws IOException {
        if (!image.writable()) {
            throw RegistryError.denied(image.name() + " is a product image: push to <branch>/<job> instead");
        }
        if (Names.isAlias(ref)) {
            throw RegistryError.unsupported(ref + " is an alias and cannot be pushed");
        }
        Manifest m = Manifest.parse(body(ex), ex.getRequestHeaders().getFirst(Headers.CONTENT_TYPE));
        if (m.subject() != null) {
            m.checkReferrerSize();
        }
        BlobStore blobs = storage.blobs();
        if (ref.startsWith("sha256:")) {
            if (!digest(ref).equals(m.digest())) {
                throw RegistryError.digestInvalid("Manifest digest is " + m.digest() + ", not " + ref);
            }
            // a child of an index pushed before it: kept in the store until the index links it
            requireBlobs(ex, image, new LinkedHashSet<>(m.blobs()));
            if (image.repo().quota().isPresent()) {
                image.repo().quota().get().checkCanHold();
            }
            content.pushed(ex, image, PendingBlobs.Kind.MANIFEST, m.digest());
            storeBytes(m);
            if (image.repo().quota().isPresent()) {
                // counted until the index that uses it is pushed, like a pushed blob
                image.repo().quota().get().holdUnlinked(blobs.path(m.digest()), m.bytes().length);
            }
            if (m.subject() != null) {
                java.util.concurrent.locks.ReentrantLock lock = referrers.lock(image);
                lock.lock();
                try {
                    referrers.pushed(ex, image, m);
                } finally {
                    lock.unlock();
                }
            }
        } else {
            String tag;
            try {
                if (!TAG.matcher(ref).matches()) {
                    throw RepoException.badRequest("Invalid tag '" + ref + "': a tag is [A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
                }
                tag = Names.checkCanonical("tag", ref);
                if (!tag.equals(ref)) {
                    // OCI tags are case-sensitive, dlrepo's are not: V1 would overwrite v1
                    throw RepoException.badRequest("Tag " + ref + ": dlrepo tags are lower case, push " + tag);
                }
            } catch (RepoException e) {
                throw RegistryError.of(400, "TAG_INVALID", e.getMessage());
            }
            ReferrerAttachments.Linked files = content.linkedBy(ex, image, m);
            Set<Digest> manifests = new LinkedHashSet<>(files.manifests());
            Set<Digest> layers = new LinkedHashSet<>(files.blobs());
            requireBlobs(ex, image, layers);
            for (Digest child : m.children()) {
                if (blobs.probe(child).isEmpty()) {
                    throw RegistryError.manifestBlobUnknown(child.toString());
                }
            }
            storeBytes(m);
            java.util.concurrent.locks.ReentrantLock lock = referrers.lock(image);
            lock.lock();
            try {
                replace(ex, image, tag, m.digest(), manifests, layers);
            } finally {
                lock.unlock();
            }
        }
        ex.setStatusCode(201);
        ex.getResponseHeaders().put(Headers.LOCATION, "/v2/" + image.name() + "/manifests/" + m.digest());
        ex.getResponseHeaders().put(CONTENT_DIGEST, m.digest().toString());
        if (m.subject() != null) {
            ex.getResponseHeaders().put(OCI_SUBJECT, m.subject().toString());
        }
        ex.setResponseContentLength(0);
    }

    /**
     * Makes {@code tag}'s image {@code top} over {@code manifests} and {@code layers}, with
     * the referrers of those manifests found in the name (waiting, or in its other tags).
     * Under the name's referrers lock.
     */
    private void replace(HttpServerExchange ex, ImageName image, String tag, Digest top, Set<Digest> manifests,
            Set<Digest> layers) throws IOException {
        List<ReferrerAttachments.Linked> brought = referrers.closure(ex, image, tag, new LinkedHashSet<>(manifests));
        for (ReferrerAttachments.Linked l : brought) {
            manifests.addAll(l.manifests());
            layers.addAll(l.blobs());
        }
        ContainerImage target = new ContainerImage(
                image.branch().tag(tag).job(image.parts().get(1)).format(ArtifactFormat.CONTAINER));
        try {
            content.linking(image, manifests, layers, () -> {
                target.replace(top, manifests, layers, access.products(ex));
                return null;
            });
        } catch (RepoException r) {
            switch (r.kind()) {
                case NOT_FOUND -> throw RegistryError.manifestBlobUnknown(r.getMessage());
                case BAD_REQUEST, QUOTA_EXCEEDED, FORBIDDEN, CONFLICT -> throw RegistryError.denied(r.getMessage());
                default -> throw r;
            }
        }
        for (Digest d : manifests) {
            content.tied(image, PendingBlobs.Kind.MANIFEST, d);
        }
        for (Digest d : layers) {
            content.tied(image, PendingBlobs.Kind.BLOB, d);
        }
        for (ReferrerAttachments.Linked l : brought) {
            referrers.forget(image, l.digest());
        }
    }

    /**
     * Every blob must be one the caller may reach through this image ({@link ImageContent})
     * and be in the store; each is refreshed and protected until it is linked.
     */
    private void requireBlobs(HttpServerExchange ex, ImageName image, Set<Digest> digests) throws IOException {
        for (Digest d : digests) {
            if (content.blob(ex, image, d).isEmpty() || storage.blobs().probe(d).isEmpty()) {
                throw RegistryError.manifestBlobUnknown(d.toString());
            }
        }
    }

    private void storeBytes(Manifest m) throws IOException {
        try (Upload u = storage.blobs().startUpload()) {
            u.write(m.bytes(), 0, m.bytes().length);
            storage.blobs().store(u.path(), u.finish());
        }
    }

    private static byte[] body(HttpServerExchange ex) throws IOException {
        if (ex.getRequestContentLength() > MAX_MANIFEST) {
            throw RegistryError.of(413, "SIZE_INVALID", "Manifest larger than " + MAX_MANIFEST + " bytes");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[16384];
        InputStream in = ex.getInputStream();
        int n;
        while ((n = in.read(buf)) != -1) {
            out.write(buf, 0, n);
            if (out.size() > MAX_MANIFEST) {
                throw RegistryError.of(413, "SIZE_INVALID", "Manifest larger than " + MAX_MANIFEST + " bytes");
            }
        }
        return out.toByteArray();
    }

    /** {@code text} parsed, or {@code absent} when it is null. */
    static Digest digest(String text, Digest absent) {
        return text == null ? absent : digest(text);
    }

    static Digest digest(String text) {
        try {
            return Digest.parse(text);
        } catch (RepoException e) {
            throw RegistryError.digestInvalid(e.getMessage());
        }
    }
}
