package dlrepo.fs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/** {@code branches/<b>/<t>/<job>/}: one CI job of a build, its metadata and formats. */
public final class Job extends Level {
    /** The metadata keys that place a job in the product tree. */
    public static final List<String> PRODUCT_KEYS = List.of("product", "product_variant", "product_branch", "version");

    private final Tag tag;

    Job(Tag tag, String name) {
        super(name, tag.path().resolve(name), tag.root());
        this.tag = tag;
    }

    public Tag tag() {
        return tag;
    }

    public double timestamp() {
        try {
            return Disk.timestamp(path().resolve(".stamp"));
        } catch (IOException e) {
            return tag.timestamp();
        }
    }

    public boolean isLocked() {
        return Disk.flag(path().resolve(".locked"));
    }

    public boolean isInternal() {
        return Disk.flag(path().resolve(".internal"));
    }

    public boolean isReleased() {
        return Disk.flag(path().resolve(".released"));
    }

    /** The digest computed when the job was locked, or "". */
    public String digest() throws IOException {
        return Disk.readText(path().resolve(".digest")).map(String::strip).orElse("");
    }

    public SortedMap<String, String> metadata() throws IOException {
        return JsonFiles.readStrings(path().resolve(".metadata"));
    }

    public ArtifactFormat format(String formatName) {
        return new ArtifactFormat(this, Names.checkCanonical("format", formatName));
    }

    public List<ArtifactFormat> formats() throws IOException {
        return children(n -> new ArtifactFormat(this, n));
    }

    /**
     * Merges {@code changes} into the metadata: a null value deletes its key. Refused
     * while the job is locked, and when the product version it names may not be joined by
     * the caller ({@code who}, see {@link ProductTree}).
     */
    public SortedMap<String, String> updateMetadata(Map<String, String> changes, ProductAccess who)
            throws IOException {
        try (TreeLocks.Lease l = lock(true)) {
            requireExists();
            if (isLocked()) {
                throw RepoException.badRequest("Job is locked");
            }
            SortedMap<String, String> meta = metadata();
            changes.forEach((k, v) -> {
                if (v == null) {
                    meta.remove(k);
                } else {
                    meta.put(k, v);
                }
            });
            tag.branch().repository().products().relink(this, meta, who,
                    () -> disk().writeAtomically(path().resolve(".metadata"), JsonFiles.serialize(meta)));
            return meta;
        }
    }

    /**
     * Changes the locked and internal flags (null leaves one alone). Unlocking comes
     * first, locking last, so one request may unlock, change and re-lock. Locking needs
     * every format finalized and records the job digest.
     */
    public void update(Boolean locked, Boolean internal) throws IOException {
        Disk disk = disk();
        try (TreeLocks.Lease l = lock(true)) {
            requireExists();
            if (Boolean.FALSE.equals(locked) && isLocked()) {
                disk.setFlag(path().resolve(".locked"), false);
                disk.delete(path().resolve(".digest"));
            }
            if (internal != null && internal != isInternal()) {
                if (isLocked()) {
                    throw RepoException.badRequest("Job is locked");
                }
                disk.setFlag(path().resolve(".internal"), internal);
            }
            if (Boolean.TRUE.equals(locked) && !isLocked()) {
                for (ArtifactFormat f : formats()) {
                    if (f.isDirty()) {
                        throw RepoException.badRequest("Job has dirty formats");
                    }
                }
                disk.writeAtomically(path().resolve(".digest"),
                        (computeDigest() + "\n").getBytes(StandardCharsets.US_ASCII));
                disk.setFlag(path().resolve(".locked"), true);
            }
        }
    }

    /** Marks the job published (or not); set by the publisher. */
    public void setReleased(boolean released) throws IOException {
        try (TreeLocks.Lease l = lock(true)) {
            requireExists();
            disk().setFlag(path().resolve(".released"), released);
        }
    }

    /**
     * The job digest of the layout: SHA-256 of the sorted JSON object that maps each
     * non-internal format to the digest of its {@code .digests} and ".metadata" to the
     * digest of {@code .metadata}.
     */
    public String computeDigest() throws IOException {
        Map<String, String> parts = new TreeMap<>();
        for (ArtifactFormat f : formats()) {
            if (!f.isInternal()) {
                Optional<Digest> manifest = f.name().equals(ArtifactFormat.CONTAINER)
                        ? new ContainerImage(f).manifest() : Optional.empty();
                parts.put(f.name(), (manifest.isPresent() ? manifest.get() : f.contentDigest()).toString());
            }
        }
        byte[] meta = Disk.readIfExists(path().resolve(".metadata")).orElse(JsonFiles.serialize(Map.of()));
        parts.put(".metadata", Digest.of(meta).toString());
        return Digest.of(JsonFiles.serialize(parts)).hex();
    }

    /** {@code <product>-<variant>-v<version>} for a product job, else {@code <job>-<tag>}. */
    public String archivePrefix() throws IOException {
        SortedMap<String, String> meta = metadata();
        if (meta.keySet().containsAll(PRODUCT_KEYS)) {
            return (meta.get("product") + "-" + meta.get("product_variant") + "-v" + meta.get("version"))
                    .toLowerCase(Locale.ROOT);
        }
        return name() + "-" + tag.name();
    }

    /** Deletes the job and everything in it, and its product links. */
    public void delete() throws IOException {
        try (TreeLocks.Lease l = lock(true)) {
            requireExists();
            Repository repo = tag.branch().repository();
            repo.products().unlinkAll(path(), 0);
            repo.remove(path());
        }
    }

    void requireExists() {
        if (!exists()) {
            throw RepoException.notFound("Job " + tag.branch().name() + "/" + tag.name() + "/" + name() + " not found");
        }
    }

    /** Creates the tag and job folders and stamps as needed; the caller holds a lock. */
    void create() throws IOException {
        tag.create();
        if (!exists()) {
            disk().createDirectories(path());
        }
        if (!Files.exists(path().resolve(".stamp"))) {
            disk().setFlag(path().resolve(".stamp"), true);
        }
    }

    TreeLocks.Lease lock(boolean exclusive) {
        return tag.branch().repository().lock(path(), exclusive);
    }

    private Disk disk() {
        return tag.branch().repository().storage().disk();
    }
}
