package dlrepo.registry;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.Branch;
import dlrepo.fs.ContainerImage;
import dlrepo.fs.Names;
import dlrepo.fs.ProductBranch;
import dlrepo.fs.ProductVersion;
import dlrepo.fs.Repository;
import dlrepo.fs.Storage;
import dlrepo.fs.Tag;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An image name and what it maps to: {@code <branch>/<job>} (writable; the registry tag is
 * the dlrepo tag), {@code <product>/<variant>/<product_branch>} (read-only; the registry
 * tag is the version), each optionally prefixed by {@code u/<user>/} for a user repository.
 */
record ImageName(String name, Repository repo, List<String> parts) {
    /** A path component of the distribution specification. */
    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");

    static ImageName parse(Storage storage, List<String> segments) {
        String name = String.join("/", segments);
        for (String s : segments) {
            if (!COMPONENT.matcher(s).matches()) {
                throw RegistryError.nameInvalid(name, "'" + s + "' is not a lowercase name component");
            }
        }
        Repository repo = storage.repository();
        List<String> parts = segments;
        if ((segments.size() == 4 || segments.size() == 5) && segments.get(0).equals("u")) {
            repo = storage.userRepository(segments.get(1));
            parts = segments.subList(2, segments.size());
        }
        if (parts.size() != 2 && parts.size() != 3) {
            throw RegistryError.nameInvalid(name,
                    "expected <branch>/<job>, <product>/<variant>/<branch> or u/<user>/ and one of those");
        }
        try {
            parts.forEach(p -> Names.check("image", p));
        } catch (dlrepo.fs.RepoException e) {
            throw RegistryError.nameInvalid(name, e.getMessage());
        }
        return new ImageName(name, repo, List.copyOf(parts));
    }

    /** Job images can be pushed; product images are read-only views. */
    boolean writable() {
        return parts.size() == 2;
    }

    Branch branch() {
        return repo.branch(parts.get(0));
    }

    ProductBranch productBranch() {
        return repo.products().product(parts.get(0)).variant(parts.get(1)).branch(parts.get(2));
    }

    /** The container format for registry tag {@code tag} (it may not exist). */
    ArtifactFormat format(String tag) throws IOException {
        if (writable()) {
            return branch().tag(tag).job(parts.get(1)).format(ArtifactFormat.CONTAINER);
        }
        ProductVersion v = productBranch().version(tag);
        return v.exists() ? v.format(ArtifactFormat.CONTAINER) : null;
    }

    /**
     * The container formats of every tag (writable images) or version (product images),
     * by registry tag; they may not hold an image.
     */
    Map<String, ArtifactFormat> formats() throws IOException {
        Map<String, ArtifactFormat> formats = new LinkedHashMap<>();
        if (writable()) {
            for (Tag t : branch().tags()) {
                formats.put(t.name(), t.job(parts.get(1)).format(ArtifactFormat.CONTAINER));
            }
        } else {
            for (ProductVersion v : productBranch().versions()) {
                ArtifactFormat f = v.format(ArtifactFormat.CONTAINER);
                if (f != null) {
                    formats.put(v.name(), f);
                }
            }
        }
        return formats;
    }

    /** The tags holding an image, by name, with their creation times for the aliases. */
    Map<String, Double> tags() throws IOException {
        Map<String, Double> tags = new LinkedHashMap<>();
        if (writable()) {
            for (Tag t : branch().tags()) {
                if (ContainerImage.of(t.job(parts.get(1))).exists()) {
                    tags.put(t.name(), t.timestamp());
                }
            }
        } else {
            for (ProductVersion v : productBranch().versions()) {
                ArtifactFormat f = v.format(ArtifactFormat.CONTAINER);
                if (f != null && new ContainerImage(f).exists()) {
                    tags.put(v.name(), v.timestamp());
                }
            }
        }
        return tags;
    }

    /** The image of registry tag {@code ref} (aliases resolved among the tags holding one). */
    Optional<ContainerImage> image(String ref) throws IOException {
        Optional<String> resolved = resolveTag(ref);
        if (resolved.isEmpty()) {
            return Optional.empty();
        }
        String tag = resolved.get();
        try {
            Names.check("tag", tag);
        } catch (dlrepo.fs.RepoException e) {
            return Optional.empty();
        }
        ArtifactFormat f = format(tag);
        if (f == null) {
            return Optional.empty();
        }
        ContainerImage image = new ContainerImage(f);
        return image.exists() ? Optional.of(image) : Optional.empty();
    }

    /** The dlrepo tag a registry tag names: lowercased, aliases resolved; empty if none. */
    Optional<String> resolveTag(String ref) throws IOException {
        String tag = Names.canonical(ref);
        return Names.isAlias(tag) ? resolveAlias(tag) : Optional.of(tag);
    }

    private Optional<String> resolveAlias(String alias) throws IOException {
        List<Map.Entry<String, Double>> candidates = new ArrayList<>();
        for (Map.Entry<String, Double> e : tags().entrySet()) {
            if (alias.equals("latest") || isStable(e.getKey())) {
                candidates.add(e);
            }
        }
        candidates.sort(Map.Entry.<String, Double>comparingByValue().thenComparing(Map.Entry.comparingByKey())
                .reversed());
        int index = alias.equals("oldstable") ? 1 : 0;
        return candidates.size() > index ? Optional.of(candidates.get(index).getKey()) : Optional.empty();
    }

    private boolean isStable(String tag) throws IOException {
        if (writable()) {
            return branch().tag(tag).isStable();
        }
        return productBranch().version(tag).isStable();
    }
}
