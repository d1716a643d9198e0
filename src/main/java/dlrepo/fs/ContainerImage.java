package dlrepo.fs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The container image of a job: its {@code container} format holds the manifests
 * ({@code manifests/sha256/<xx>/<hex>}) and the config and layer blobs
 * ({@code blobs/sha256/<xx>/<hex>}), all hard links into the blob store, and
 * {@code .manifest}, the digest of the manifest (or index) the registry tag stands for.
 */
public final class ContainerImage {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerImage.class);
    private static final String MARKER = ".manifest";
    /** The largest manifest the registry accepts, and so the largest read here. */
    private static final long MAX_MANIFEST = 4 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

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

    /**
     * Tags an image whose files came one by one through the artifact API (a server
     * publishing to this one): the tagged manifest is the one manifest or index of
     * {@code entries} that no index among them references, referrers (manifests with a
     * {@code subject}) left aside. Exactly one: the marker names it. None or several: a
     * WARN, and no marker is written; a marker already there is kept only if it still names
     * a manifest of the format (a registry push wrote it). For the format's finalization,
     * under its lock.
     */
    void tagTop(SortedMap<String, Digest> entries, Disk disk) throws IOException {
        Set<Digest> manifests = new HashSet<>();
        Set<Digest> referenced = new HashSet<>();
        List<Digest> candidates = new ArrayList<>();
        for (Map.Entry<String, Digest> e : entries.entrySet()) {
            Digest d = e.getValue();
            if (!e.getKey().equals(rel("manifests", d))) {
                continue; // a config or layer, or a manifest not stored under its digest
            }
            manifests.add(d);
            Optional<JsonNode> m = readManifest(e.getKey());
            if (m.isEmpty()) {
                continue;
            }
            for (JsonNode child : m.get().path("manifests")) {
                try {
                    referenced.add(Digest.parse(child.path("digest").asText("")));
                } catch (RepoException ex) {
                    LOG.warn("{}: {} references a bad digest", format.path(), e.getKey());
                }
            }
            if (!m.get().has("subject")) {
                candidates.add(d);
            }
        }
        candidates.removeAll(referenced);
        Path marker = format.path().resolve(MARKER);
        Optional<Digest> current = manifest();
        if (candidates.size() == 1) {
            if (!current.equals(Optional.of(candidates.get(0)))) {
                disk.writeAtomically(marker, (candidates.get(0) + "\n").getBytes(StandardCharsets.US_ASCII));
            }
            return;
        }
        boolean keep = current.isPresent() && manifests.contains(current.get());
        LOG.warn("{}: {} manifest(s) referenced by no index of the format ({}): {}", format.path(), candidates.size(),
                candidates, keep ? "the image stays tagged " + current.get() : "the image is not tagged (no " + MARKER
                        + "), it cannot be pulled by tag");
        if (!keep && Files.exists(marker, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            disk.delete(marker);
        }
    }

    /** The JSON object of manifest file {@code rel}, if it is one (a WARN if not). */
    private Optional<JsonNode> readManifest(String rel) throws IOException {
        Path p = format.file(rel);
        try {
            var attrs = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS);
            if (!attrs.isRegularFile() || attrs.size() > MAX_MANIFEST) {
                LOG.warn("{}: {} is not a regular file of at most {} bytes: not a manifest", format.path(), rel,
                        MAX_MANIFEST);
                return Optional.empty();
            }
            JsonNode n;
            try (var in = Files.newInputStream(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                n = JSON.readTree(in.readNBytes((int) MAX_MANIFEST));
            }
            if (n != null && n.isObject()) {
                return Optional.of(n);
            }
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            // not JSON: reported below
        }
        LOG.warn("{}: {} is not a JSON object: not a manifest", format.path(), rel);
        return Optional.empty();
    }

    private static String rel(String kind, Digest d) {
        return kind + "/sha256/" + d.hex().substring(0, 2) + "/" + d.hex();
    }
}
