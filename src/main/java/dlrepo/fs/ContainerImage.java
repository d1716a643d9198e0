package dlrepo.fs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The container image of a job: its {@code container} format holds the manifests
 * ({@code manifests/sha256/<xx>/<hex>}) and the config and layer blobs
 * ({@code blobs/sha256/<xx>/<hex>}), all hard links into the blob store, and
 * {@code .manifest}, the digest of the manifest (or index) the registry tag stands for.
 */
public final class ContainerImage {
    private static final String MARKER = ".manifest";

    private final ArtifactFormat format;

    public ContainerImage(ArtifactFormat format) {
        this.format = format;
    }

    public static ContainerImage of(Job job) {
        return new ContainerImage(job.format(ArtifactFormat.CONTAINER));
    }

    public ArtifactFormat format() {
        return format;
    }

    /** The tagged manifest's digest, if the job has an image. */
    public Optional<Digest> manifest() throws IOException {
        if (!format.exists()) {
            return Optional.empty();
        }
        Optional<String> text = Disk.readText(format.path().resolve(MARKER));
        if (text.isEmpty() || text.get().isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Digest.parse(text.get()));
        } catch (RepoException e) {
            return Optional.empty();
        }
    }

    public boolean exists() throws IOException {
        return manifest().isPresent();
    }

    /** Where manifest {@code d} of this image is, if it is one of its manifests. */
    public Optional<Path> manifestFile(Digest d) {
        Path p;
        try {
            p = format.file(rel("manifests", d));
        } catch (RepoException e) {
            return Optional.empty(); // through a symbolic link
        }
        return Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? Optional.of(p) : Optional.empty();
    }

    /**
     * Replaces the image: {@code top} is the tagged manifest, {@code manifests} every
     * manifest of the image (top included), {@code blobs} the configs and layers. Every one
     * must already be in the blob store. {@code who} decides whether a new image joins the
     * product version of its job (see {@link ProductTree}).
     */
    public void replace(Digest top, Collection<Digest> manifests, Collection<Digest> blobs, ProductAccess who)
            throws IOException {
        Map<String, Digest> files = new TreeMap<>();
        for (Digest d : manifests) {
            files.put(rel("manifests", d), d);
        }
        for (Digest d : blobs) {
            files.put(rel("blobs", d), d);
        }
        Disk disk = format.job().tag().branch().repository().storage().disk();
        format.replaceContents(files, true, who, () -> disk.writeAtomically(format.path().resolve(MARKER),
                (top + "\n").getBytes(StandardCharsets.US_ASCII)));
    }

    private static String rel(String kind, Digest d) {
        return kind + "/sha256/" + d.hex().substring(0, 2) + "/" + d.hex();
    }
}
