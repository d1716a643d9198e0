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
import java.util.HashMap;
import java.util.LinkedHashSet;
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
 * Referrers (manifests with a {@code subject}: signatures, SBOMs) of its manifests are
 * linked in beside them; {@code .referrers} indexes them by subject (see
 * {@link #referrers}), derived from the entries whenever they change.
 */
public final class ContainerImage {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerImage.class);
    private static final String MARKER = ".manifest";
    static final String REFERRERS = ".referrers";
    private static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    private static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    /** The largest manifest the registry accepts, and so the largest read here. */
    static final long MAX_MANIFEST = 4 << 20;
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
        Disk disk = disk();
        format.replaceContents(files, true, who, () -> {
            writeReferrers(files, disk);
            disk.writeAtomically(format.path().resolve(MARKER), (top + "\n").getBytes(StandardCharsets.US_ASCII));
        });
    }

    /**
     * Links referrers into the image: {@code manifests} (the referrers and, for an index
     * referrer, its children) and {@code blobs}, all in the blob store, added to the
     * entries. NOT_FOUND if the image is gone or no longer holds {@code subject} (a delete
     * came first): a deleted image is never brought back.
     */
    public void attach(Digest subject, Collection<Digest> manifests, Collection<Digest> blobs, ProductAccess who)
            throws IOException {
        Disk disk = disk();
        Map<String, Digest> after = new TreeMap<>();
        format.updateContents(current -> {
            if (!exists() || manifestFile(subject).isEmpty()) {
                throw RepoException.notFound("Image " + format.path() + " no longer holds " + subject);
            }
            after.putAll(current);
            manifests.forEach(d -> after.put(rel("manifests", d), d));
            blobs.forEach(d -> after.put(rel("blobs", d), d));
            return after;
        }, who, () -> writeReferrers(after, disk));
    }

    /**
     * Unlinks referrers in one change: the manifest of each key of {@code referrers}, and
     * the files of its value (its blobs and children) that no manifest left in the image
     * references. A referrer the image does not hold, or holds as its tagged manifest
     * (deleting that deletes the image), is left alone. False if none was held.
     */
    public boolean detach(Map<Digest, ? extends Collection<Digest>> referrers) throws IOException {
        Disk disk = disk();
        Map<String, Digest> after = new TreeMap<>();
        boolean[] held = {false};
        try {
            format.updateContents(current -> {
                after.putAll(current);
                Optional<Digest> top = manifest();
                Set<Digest> files = new LinkedHashSet<>();
                referrers.forEach((referrer, linked) -> {
                    if (!top.equals(Optional.of(referrer)) && after.remove(rel("manifests", referrer)) != null) {
                        held[0] = true;
                        files.addAll(linked);
                    }
                });
                if (!held[0]) {
                    return after;
                }
                // the tagged manifest stays even when only a referrer lists it (an index over the image)
                Set<Digest> used = new HashSet<>(top.stream().toList());
                for (Map.Entry<String, Digest> e : after.entrySet()) {
                    if (e.getKey().equals(rel("manifests", e.getValue()))) {
                        readManifest(e.getKey()).ifPresent(m -> used.addAll(references(m)));
                    }
                }
                for (Digest d : files) {
                    // a child that is a referrer itself stays: it is listed for its own subject
                    boolean isReferrer = after.containsKey(rel("manifests", d))
                            && readManifest(rel("manifests", d)).map(c -> c.has("subject")).orElse(false);
                    if (!used.contains(d) && !isReferrer) {
                        after.remove(rel("manifests", d));
                        after.remove(rel("blobs", d));
                    }
                }
                return after;
            }, ProductAccess.NOBODY, () -> writeReferrers(after, disk));
        } catch (RepoException e) {
            if (e.kind() == RepoException.Kind.NOT_FOUND) {
                return false;
            }
            throw e;
        }
        return held[0];
    }

    /** The digests a manifest references: config, layers, children. */
    private static Set<Digest> references(JsonNode m) {
        Set<Digest> out = new HashSet<>();
        List<JsonNode> nodes = new ArrayList<>();
        nodes.add(m.path("config"));
        m.path("layers").forEach(nodes::add);
        m.path("manifests").forEach(nodes::add);
        for (JsonNode n : nodes) {
            try {
                out.add(Digest.parse(n.path("digest").asText("")));
            } catch (RepoException e) {
                // not a reference
            }
        }
        return out;
    }

    /**
     * The descriptors of the referrers of {@code subject} in this image, sorted by digest,
     * as {@code .referrers} lists them (empty if none, or no image).
     */
    public List<JsonNode> referrers(Digest subject) throws IOException {
        return referrersBySubject().getOrDefault(subject.toString(), List.of());
    }

    /** The whole {@code .referrers} index: subject digest to descriptors (empty when absent or not JSON). */
    public Map<String, List<JsonNode>> referrersBySubject() throws IOException {
        Optional<byte[]> bytes = Disk.readIfExists(format.path().resolve(REFERRERS));
        if (bytes.isEmpty()) {
            return Map.of();
        }
        JsonNode index;
        try {
            index = JSON.readTree(bytes.get());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            LOG.warn("{}: {} is not JSON: ignored", format.path(), REFERRERS);
            return Map.of();
        }
        Map<String, List<JsonNode>> out = new HashMap<>();
        index.fields().forEachRemaining(e -> {
            List<JsonNode> list = new ArrayList<>();
            e.getValue().forEach(list::add);
            out.put(e.getKey(), list);
        });
        return out;
    }

    /**
     * The descriptor of a referrer in a referrers list (OCI distribution 1.1):
     * {@code artifactType} is the manifest's, else an image manifest's config media type;
     * annotations copied.
     */
    public static com.fasterxml.jackson.databind.node.ObjectNode descriptor(JsonNode m, String mediaType, Digest d,
            long size) {
        var out = JSON.createObjectNode();
        out.put("mediaType", mediaType);
        out.put("digest", d.toString());
        out.put("size", size);
        String type = text(m.get("artifactType"));
        if (type == null && !m.has("manifests")) {
            type = text(m.path("config").get("mediaType"));
        }
        if (type != null) {
            out.put("artifactType", type);
        }
        if (m.get("annotations") instanceof com.fasterxml.jackson.databind.node.ObjectNode a && a.size() > 0) {
            out.set("annotations", a.deepCopy());
        }
        return out;
    }

    private static String text(JsonNode n) {
        return n != null && n.isTextual() && !n.asText().isEmpty() ? n.asText() : null;
    }

    /**
     * Writes {@code .referrers} for the manifests among {@code entries} that have a
     * subject: {@code {"<subject>": [descriptor...]}}, keys and lists sorted; removed when
     * there is none. Under the format's lock.
     */
    void writeReferrers(Map<String, Digest> entries, Disk disk) throws IOException {
        // a descriptor is a function of the manifest's bytes: those already indexed are not read again
        Map<String, Map.Entry<String, JsonNode>> known = new HashMap<>();
        referrersBySubject().forEach((subject, list) -> list.forEach(
                d -> known.put(d.path("digest").asText(), Map.entry(subject, d))));
        SortedMap<String, SortedMap<String, JsonNode>> index = new TreeMap<>();
        for (Map.Entry<String, Digest> e : entries.entrySet()) {
            Digest d = e.getValue();
            if (!e.getKey().equals(rel("manifests", d))) {
                continue;
            }
            Map.Entry<String, JsonNode> indexed = known.get(d.toString());
            if (indexed != null) {
                index.computeIfAbsent(indexed.getKey(), k -> new TreeMap<>()).put(d.toString(), indexed.getValue());
                continue;
            }
            Optional<JsonNode> m = readManifest(e.getKey());
            if (m.isEmpty() || !m.get().path("subject").isObject()) {
                continue;
            }
            Digest subject;
            try {
                subject = Digest.parse(m.get().path("subject").path("digest").asText(""));
            } catch (RepoException ex) {
                continue;
            }
            String type = text(m.get().get("mediaType"));
            if (type == null) {
                type = m.get().has("manifests") ? OCI_INDEX : OCI_MANIFEST;
            }
            long size = Files.size(format.file(e.getKey()));
            index.computeIfAbsent(subject.toString(), k -> new TreeMap<>())
                    .put(d.toString(), descriptor(m.get(), type, d, size));
        }
        Path file = format.path().resolve(REFERRERS);
        if (index.isEmpty()) {
            if (Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                disk.delete(file);
            }
            return;
        }
        var root = JSON.createObjectNode();
        index.forEach((subject, list) -> root.putArray(subject).addAll(list.values()));
        disk.writeAtomically(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
    }

    private Disk disk() {
        return format.job().tag().branch().repository().storage().disk();
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
        writeReferrers(entries, disk);
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

    /** The entry of {@code d} among the image's {@code kind} ("manifests" or "blobs"). */
    public static String rel(String kind, Digest d) {
        return kind + "/sha256/" + d.hex().substring(0, 2) + "/" + d.hex();
    }
}
