package dlrepo.fs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a job's page shows of its container image: the tagged manifest's digest and media
 * type; its platforms (an index's {@code manifests[].platform}, or a single manifest's
 * config); the build attestations BuildKit puts in an index as children of platform
 * {@code unknown/unknown}; and the referrers the registry recorded in
 * {@code container/.referrers} (signatures, SBOMs, attestations, other artifacts),
 * grouped by kind. Everything a pusher chose (types, annotations, platform names) is cut
 * to {@value #MAX_TEXT} characters; the page's template escapes it.
 */
public record ImageSummary(Digest digest, String mediaType, List<Platform> platforms, int morePlatforms,
        List<Group> groups) {
    private static final Logger LOG = LoggerFactory.getLogger(ImageSummary.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int MAX_TEXT = 200;
    /** Rows of one table: an index of thousands of children is summed up past these. */
    private static final int MAX_ROWS = 100;
    private static final int MAX_ANNOTATIONS = 20;
    private static final long MAX_CONFIG = 1 << 20;
    private static final String BUILDKIT_TYPE = "vnd.docker.reference.type";
    private static final String BUILDKIT_SUBJECT = "vnd.docker.reference.digest";
    private static final String CREATED = "org.opencontainers.image.created";

    /** One platform of the image: an index's child, or the image itself. */
    public record Platform(String name, String digest, String shortDigest, String href) {
    }

    /** A signature, SBOM, attestation or other artifact of the image, or one of its platforms. */
    public record Artifact(String digest, String shortDigest, String type, String subject, String created,
            List<Annotation> annotations, String href) {
    }

    public record Annotation(String key, String value) {
    }

    /** The artifacts of one kind: {@code label} is "Signatures", "SBOMs", "Attestations" or the type itself. */
    public record Group(String label, List<Artifact> artifacts, int more) {
    }

    private enum Kind {
        SIGNATURE("Signatures", "signature"), SBOM("SBOMs", "SBOM"), ATTESTATION("Attestations", "attestation"),
        OTHER(null, "artifact");

        final String label;
        final String singular;

        Kind(String label, String singular) {
            this.label = label;
            this.singular = singular;
        }

        static Kind of(String type) {
            return switch (type) {
                case "application/vnd.dev.cosign.artifact.sig.v1+json", "application/vnd.cncf.notary.signature" ->
                    SIGNATURE;
                case "application/spdx+json", "application/vnd.cyclonedx+json", "text/spdx" -> SBOM;
                case "application/vnd.in-toto+json" -> ATTESTATION;
                default -> type.startsWith("application/vnd.dev.sigstore.bundle") ? ATTESTATION : OTHER;
            };
        }
    }

    /** The link to the tagged manifest, relative to the job's page. */
    public String href() {
        return href(digest);
    }

    /** The summary of {@code image}, if the job has one (its {@code .manifest} names a manifest of the format). */
    public static Optional<ImageSummary> of(ContainerImage image) throws IOException {
        Optional<Digest> top = image.manifest();
        if (top.isEmpty()) {
            return Optional.empty();
        }
        ArtifactFormat format = image.format();
        Optional<JsonNode> manifest = readManifest(format, top.get());
        if (manifest.isEmpty()) {
            return Optional.empty();
        }
        JsonNode m = manifest.get();
        String mediaType = cut(m.path("mediaType").asText(""));
        // what each subject of a referrer is called on the page, and where it comes in the list
        Map<Digest, String> subjects = new LinkedHashMap<>();
        subjects.put(top.get(), "the image");
        List<Platform> platforms = new ArrayList<>();
        int more = 0;
        List<Artifact> buildAttestations = new ArrayList<>();
        int moreAttestations = 0;
        if (m.has("manifests")) {
            Map<Digest, String> attestationOf = new LinkedHashMap<>();
            for (JsonNode child : m.path("manifests")) {
                Optional<Digest> d = digest(child.path("digest"));
                if (d.isEmpty()) {
                    continue;
                }
                JsonNode annotations = child.path("annotations");
                if ("attestation-manifest".equals(annotations.path(BUILDKIT_TYPE).asText(""))) {
                    attestationOf.put(d.get(), annotations.path(BUILDKIT_SUBJECT).asText(""));
                    continue;
                }
                String name = platform(child.path("platform"));
                subjects.putIfAbsent(d.get(), name);
                if (platforms.size() < MAX_ROWS) {
                    platforms.add(new Platform(name, d.get().toString(), shortDigest(d.get()), href(d.get())));
                } else {
                    more++;
                }
            }
            for (Map.Entry<Digest, String> a : attestationOf.entrySet()) {
                if (buildAttestations.size() >= MAX_ROWS) {
                    moreAttestations++;
                    continue;
                }
                String of = digest(a.getValue()).map(subjects::get).orElse(null);
                buildAttestations.add(buildAttestation(image, a.getKey(), of == null ? "the image" : of));
            }
        } else {
            Optional<Digest> config = digest(m.path("config").path("digest"));
            String name = config.flatMap(c -> file(format, ContainerImage.rel("blobs", c)))
                    .flatMap(p -> readJson(format, p, MAX_CONFIG, false)).map(ImageSummary::platform).orElse("unknown");
            platforms.add(new Platform(name, top.get().toString(), shortDigest(top.get()), href(top.get())));
        }
        return Optional.of(new ImageSummary(top.get(), mediaType, platforms, more,
                groups(image, subjects, buildAttestations, moreAttestations)));
    }

    /** An attestation manifest of BuildKit: its type is the predicate types of its layers (in-toto statements). */
    private static Artifact buildAttestation(ContainerImage image, Digest d, String subject) {
        List<String> predicates = new ArrayList<>();
        readManifest(image.format(), d).ifPresent(a -> {
            for (JsonNode layer : a.path("layers")) {
                String p = layer.path("annotations").path("in-toto.io/predicate-type").asText("");
                if (!p.isEmpty() && !predicates.contains(p)) {
                    predicates.add(p);
                }
            }
        });
        String type = "in-toto (BuildKit)" + (predicates.isEmpty() ? "" : ": " + String.join(", ", predicates));
        return new Artifact(d.toString(), shortDigest(d), cut(type), "attestation of " + subject, "", List.of(), href(d));
    }

    /**
     * The referrers of {@code .referrers} and the build attestations, by kind: signatures,
     * SBOMs, attestations, then the other types in alphabetical order. A referrer of a
     * referrer (the signature of an SBOM) names the referrer it is about.
     */
    private static List<Group> groups(ContainerImage image, Map<Digest, String> subjects, List<Artifact> build,
            int moreBuild) throws IOException {
        Map<Digest, List<JsonNode>> bySubject = new LinkedHashMap<>();
        image.referrersBySubject().forEach((s, list) -> digest(s).ifPresent(d -> bySubject.put(d, list)));
        // names of referrers as subjects, before any is listed: "the signature of SBOM sha256:…"
        Map<Digest, String> names = new HashMap<>(subjects);
        Map<Digest, Integer> rank = new HashMap<>();
        int r = 0;
        for (Digest s : subjects.keySet()) {
            rank.put(s, r++);
        }
        for (List<JsonNode> list : bySubject.values()) {
            for (JsonNode d : list) {
                digest(d.path("digest")).ifPresent(x -> names.putIfAbsent(x,
                        Kind.of(type(d)).singular + " " + shortDigest(x)));
            }
        }
        Map<String, List<Artifact>> byLabel = new HashMap<>();
        Map<String, Integer> more = new HashMap<>();
        if (!build.isEmpty()) {
            byLabel.put(Kind.ATTESTATION.label, new ArrayList<>(build));
            more.put(Kind.ATTESTATION.label, moreBuild);
        }
        List<Map.Entry<Digest, List<JsonNode>>> ordered = new ArrayList<>(bySubject.entrySet());
        ordered.sort(Comparator.comparing((Map.Entry<Digest, List<JsonNode>> e) ->
                rank.getOrDefault(e.getKey(), Integer.MAX_VALUE)).thenComparing(e -> e.getKey().hex()));
        for (Map.Entry<Digest, List<JsonNode>> e : ordered) {
            String subject = names.getOrDefault(e.getKey(), "sha256:" + shortDigest(e.getKey()));
            for (JsonNode d : e.getValue()) {
                Optional<Digest> digest = digest(d.path("digest"));
                if (digest.isEmpty()) {
                    continue;
                }
                String type = type(d);
                Kind kind = Kind.of(type);
                String label = kind == Kind.OTHER ? cut(type) : kind.label;
                List<Artifact> list = byLabel.computeIfAbsent(label, k -> new ArrayList<>());
                if (list.size() >= MAX_ROWS) {
                    more.merge(label, 1, Integer::sum);
                    continue;
                }
                List<Annotation> annotations = new ArrayList<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = d.path("annotations").fields(); it.hasNext()
                        && annotations.size() < MAX_ANNOTATIONS;) {
                    Map.Entry<String, JsonNode> a = it.next();
                    annotations.add(new Annotation(cut(a.getKey()), cut(a.getValue().asText(""))));
                }
                list.add(new Artifact(digest.get().toString(), shortDigest(digest.get()), cut(type), subject,
                        cut(d.path("annotations").path(CREATED).asText("")), annotations, href(digest.get())));
            }
        }
        List<Group> groups = new ArrayList<>();
        for (Kind k : List.of(Kind.SIGNATURE, Kind.SBOM, Kind.ATTESTATION)) {
            List<Artifact> list = byLabel.remove(k.label);
            if (list != null) {
                groups.add(new Group(k.label, list, more.getOrDefault(k.label, 0)));
            }
        }
        byLabel.keySet().stream().sorted().forEach(label ->
                groups.add(new Group(label, byLabel.get(label), more.getOrDefault(label, 0))));
        return groups;
    }

    /** A referrer's artifact type (the registry takes its config's media type if need be), else its media type. */
    private static String type(JsonNode descriptor) {
        String t = descriptor.path("artifactType").asText("");
        return t.isEmpty() ? descriptor.path("mediaType").asText("unknown") : t;
    }

    /** "os/architecture/variant" of a platform object or an image config. */
    private static String platform(JsonNode p) {
        String os = p.path("os").asText("");
        String arch = p.path("architecture").asText("");
        String variant = p.path("variant").asText("");
        if (os.isEmpty() && arch.isEmpty()) {
            return "unknown";
        }
        return cut((os.isEmpty() ? "?" : os) + "/" + (arch.isEmpty() ? "?" : arch)
                + (variant.isEmpty() ? "" : "/" + variant));
    }

    /** Manifest {@code d} of the image, if it is a JSON object (a WARN if not). */
    private static Optional<JsonNode> readManifest(ArtifactFormat format, Digest d) {
        return file(format, ContainerImage.rel("manifests", d))
                .flatMap(p -> readJson(format, p, ContainerImage.MAX_MANIFEST, true));
    }

    /**
     * The JSON object in file {@code p} of the format, if it is a regular file of at most
     * {@code max} bytes. Else a WARN if {@code ours} (a manifest the registry checked, the
     * index it wrote), a DEBUG line for what a pusher chose (an image configuration).
     */
    private static Optional<JsonNode> readJson(ArtifactFormat format, Path p, long max, boolean ours) {
        try {
            BasicFileAttributes attrs = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attrs.isRegularFile() || attrs.size() > max) {
                log(ours, "{}: {} is not a regular file of at most {} bytes: not shown", format.path(),
                        p.getFileName(), max);
                return Optional.empty();
            }
            try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
                JsonNode n = JSON.readTree(in.readNBytes((int) max));
                if (n != null && n.isObject()) {
                    return Optional.of(n);
                }
            }
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            log(ours, "{}: {} is not JSON or unreadable, not shown ({})", format.path(), p.getFileName(),
                    e.getClass().getSimpleName());
            return Optional.empty();
        }
        log(ours, "{}: {} is not a JSON object, not shown", format.path(), p.getFileName(), "");
        return Optional.empty();
    }

    private static void log(boolean warn, String message, Object a, Object b, Object c) {
        if (warn) {
            LOG.warn(message, a, b, c);
        } else {
            LOG.debug(message, a, b, c);
        }
    }

    /** Where {@code rel} is in the format, unless a symbolic link is on the way. */
    private static Optional<Path> file(ArtifactFormat format, String rel) {
        try {
            return Optional.of(format.file(rel));
        } catch (RepoException | java.io.UncheckedIOException e) {
            return Optional.empty();
        }
    }

    private static Optional<Digest> digest(JsonNode n) {
        return digest(n.asText(""));
    }

    private static Optional<Digest> digest(String text) {
        try {
            return Optional.of(Digest.parse(text));
        } catch (RepoException e) {
            return Optional.empty();
        }
    }

    private static String shortDigest(Digest d) {
        return d.hex().substring(0, 12);
    }

    /** The link to manifest {@code d}, relative to the job's page. */
    private static String href(Digest d) {
        return ArtifactFormat.CONTAINER + "/" + ContainerImage.rel("manifests", d);
    }

    /** A pusher's text for the page: control characters as spaces, at most {@value #MAX_TEXT} characters. */
    static String cut(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(MAX_TEXT).forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? ' ' : c));
        return s.codePointCount(0, s.length()) > MAX_TEXT ? b.append('…').toString() : b.toString();
    }
}
