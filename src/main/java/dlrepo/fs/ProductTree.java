package dlrepo.fs;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code products/}: the read-only view of the jobs whose metadata names a product,
 * variant, product branch and version. A version folder holds one relative symlink per
 * format, pointing into {@code branches/}; the job holds {@code .product}, a symlink back
 * to its version. This class keeps both sides in step; one lock serializes the changes.
 */
public final class ProductTree {
    private static final Logger LOG = LoggerFactory.getLogger(ProductTree.class);
    private final Repository repo;
    private final ReentrantLock lock = new ReentrantLock();
    /** {@link #jobsFeeding} by product branch folder, the most recently used ones; under the lock. */
    private final Map<Path, Set<Path>> feeding = new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Path, Set<Path>> eldest) {
            return size() > 1000;
        }
    };

    ProductTree(Repository repo) {
        this.repo = repo;
    }

    public Repository repository() {
        return repo;
    }

    public Path path() {
        return repo.path().resolve("products");
    }

    public Product product(String name) {
        return new Product(this, Names.checkCanonical("product", name));
    }

    public List<Product> products() throws IOException {
        List<Product> list = new ArrayList<>();
        if (TreePaths.firstLink(repo.storage().root(), path()) != null) {
            return list;
        }
        for (String n : Disk.subfolders(path())) {
            list.add(new Product(this, n));
        }
        return list;
    }

    /**
     * The product version folder named by job metadata, or empty when one of the four
     * keys is missing; a 400-kind error when a value is not a valid name.
     */
    public Optional<Path> versionPath(Map<String, String> metadata) {
        String[] what = {"product", "product variant", "product branch", "version"};
        Path p = path();
        for (int i = 0; i < Job.PRODUCT_KEYS.size(); i++) {
            String v = metadata.get(Job.PRODUCT_KEYS.get(i));
            if (v == null) {
                return Optional.empty();
            }
            p = p.resolve(Names.checkCanonical(what[i], v));
        }
        if (Names.isAlias(p.getFileName().toString())) {
            throw RepoException.badRequest("Invalid version '" + p.getFileName()
                    + "': latest, stable and oldstable are aliases of other versions");
        }
        // room for the link of any format the job may have, and its temporary name
        TreePaths.checkRoom("Product path", p, TreePaths.NAME_MAX);
        return Optional.of(p);
    }

    /** A change made while the product tree's lock is held. */
    interface Commit {
        void run() throws IOException;
    }

    /**
     * Changes a job's metadata and its product links in one step: refuses, before
     * {@code commit} runs, a version the caller may not join ({@link #mayJoin}) or where a
     * format of the job would replace one of a locked job; then commits the metadata and
     * links the job where it says (or unlinks it). The caller holds the job's lock.
     */
    void relink(Job job, Map<String, String> metadata, ProductAccess who, Commit commit) throws IOException {
        Optional<Path> target = versionPath(metadata);
        lock.lock();
        try {
            Path current = linkedVersion(job);
            List<ArtifactFormat> formats = job.formats();
            if (target.isPresent()) {
                Path version = target.get();
                if (!version.equals(current) && !mayJoin(job, version, who)) {
                    throw refused(version);
                }
                for (ArtifactFormat f : formats) {
                    if (heldByLockedJob(version.resolve(f.name()), job)) {
                        throw new RepoException(RepoException.Kind.CONFLICT, "Format " + f.name()
                                + " of product version " + describe(version) + " comes from a locked job");
                    }
                }
            }
            commit.run();
            if (current != null && !Optional.of(current).equals(target)) {
                removeLinks(job.path(), current);
            }
            if (target.isEmpty() || formats.isEmpty()) {
                // a version folder exists only while it links a format (its first
                // format, created later, links the job: linkFormat)
                repo.storage().disk().delete(job.path().resolve(".product"));
                return;
            }
            Path version = target.get();
            createVersion(version);
            for (ArtifactFormat f : formats) {
                symlink(version.resolve(f.name()), f.path());
            }
            symlink(job.path().resolve(".product"), version);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Refuses a new format of {@code job} when the job's metadata names a version the
     * caller may not join: checked before the format is written.
     */
    void checkJoin(Job job, ProductAccess who) throws IOException {
        Optional<Path> target = versionOf(job);
        if (target.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            if (!mayJoin(job, target.get(), who)) {
                throw refused(target.get());
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Adds a format created after its job's metadata named a version. The version is
     * taken from the metadata (not from {@code .product}): it may have been pruned when
     * the job's last format was deleted, and is then created again. A version the caller
     * may not join, or a link of a locked job under the same name, is left alone.
     */
    void linkFormat(ArtifactFormat f, ProductAccess who) throws IOException {
        Optional<Path> target = versionOf(f.job());
        if (target.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            Path version = target.get();
            Path link = version.resolve(f.name());
            if (!mayJoin(f.job(), version, who) || heldByLockedJob(link, f.job())) {
                LOG.info("{}: not linked into product version {}", f.path(), describe(version));
                return;
            }
            createVersion(version);
            if (!pointsTo(link, f.path())) {
                symlink(link, f.path());
            }
            Path marker = f.job().path().resolve(".product");
            if (!pointsTo(marker, version)) {
                symlink(marker, version);
            }
        } finally {
            lock.unlock();
        }
    }

    /** The version a job's metadata names, if valid. */
    private Optional<Path> versionOf(Job job) throws IOException {
        try {
            return versionPath(job.metadata());
        } catch (RepoException e) {
            return Optional.empty();
        }
    }

    private void createVersion(Path version) throws IOException {
        Disk disk = repo.storage().disk();
        disk.createDirectories(version);
        if (!Files.exists(version.resolve(".stamp"))) {
            disk.setFlag(version.resolve(".stamp"), true);
        }
    }

    /**
     * Whether {@code job} may join {@code version}: it is linked there already, or the
     * caller may add under the version's URL, or to every other job that feeds its product
     * branch (a product branch nobody feeds yet is free to take). So whoever writes the
     * jobs of a product decides what else becomes part of it, its latest and stable
     * versions included.
     */
    private boolean mayJoin(Job job, Path version, ProductAccess who) throws IOException {
        if (version.equals(linkedVersion(job)) || who.mayAdd(url(version))) {
            return true;
        }
        for (Path other : jobsFeeding(version.getParent())) {
            if (!other.equals(job.path()) && !who.mayAdd(repo.urlPrefix() + "branches/"
                    + repo.branchesDir().relativize(other) + "/")) {
                return false;
            }
        }
        return true;
    }

    /**
     * The job folders linked from any version of a product branch folder. Kept per product
     * branch (joining checks them on every new format and metadata change) until a link of
     * that product branch changes; under the tree's lock.
     */
    private Set<Path> jobsFeeding(Path productBranch) throws IOException {
        Set<Path> cached = feeding.get(productBranch);
        if (cached != null) {
            return cached;
        }
        Set<Path> jobs = new LinkedHashSet<>();
        Path branches = repo.branchesDir();
        for (String v : Disk.subfolders(productBranch)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(productBranch.resolve(v))) {
                for (Path p : ds) {
                    if (p.getFileName().toString().startsWith(".") || !Files.isSymbolicLink(p)) {
                        continue;
                    }
                    // only the job's URL matters here: the link is not followed
                    Path target = p.getParent().resolve(Files.readSymbolicLink(p)).normalize();
                    if (target.startsWith(branches) && branches.relativize(target).getNameCount() == 4) {
                        jobs.add(target.getParent());
                    }
                }
            } catch (NoSuchFileException e) {
                // pruned meanwhile
            }
        }
        feeding.put(productBranch, jobs);
        return jobs;
    }

    /** A link of {@code version} changed: the jobs feeding its product branch are counted again. */
    private void changed(Path version) {
        if (version.startsWith(path())) {
            feeding.remove(version.getParent());
        }
    }

    /** Whether {@code link} points to a format of a locked job other than {@code job}. */
    private boolean heldByLockedJob(Path link, Job job) throws IOException {
        ArtifactFormat f = resolve(link);
        return f != null && !f.job().path().equals(job.path()) && f.job().isLocked();
    }

    private String url(Path version) {
        return repo.urlPrefix() + "products/" + path().relativize(version) + "/";
    }

    private String describe(Path version) {
        return path().relativize(version).toString();
    }

    private RepoException refused(Path version) {
        return new RepoException(RepoException.Kind.FORBIDDEN, "You may not add to product version "
                + describe(version) + ": other jobs feed its product branch. A job joins a product branch only "
                + "if you may add to the jobs already in it, or under " + url(version));
    }

    /** Removes a format's link from its version (and the version if nothing is left). */
    void unlinkFormat(ArtifactFormat f) throws IOException {
        lock.lock();
        try {
            Path version = linkedVersion(f.job());
            if (version != null) {
                removeLinks(f.path(), version);
                if (!hasLinksInto(version, f.job().path())) {
                    // the job has no format left in the version, which another job's
                    // unlinking may prune at any time: its link back would dangle
                    repo.storage().disk().delete(f.job().path().resolve(".product"));
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Removes every product link of the jobs in {@code dir} (a job, tag or branch folder). */
    void unlinkAll(Path dir, int depth) throws IOException {
        if (depth == 0) {
            lock.lock();
            try {
                Path version = linkedVersion(dir);
                if (version != null) {
                    removeLinks(dir, version);
                    repo.storage().disk().delete(dir.resolve(".product"));
                }
            } finally {
                lock.unlock();
            }
            return;
        }
        for (String child : Disk.subfolders(dir)) {
            unlinkAll(dir.resolve(child), depth - 1);
        }
    }

    private Path linkedVersion(Job job) throws IOException {
        return linkedVersion(job.path());
    }

    /** Where {@code jobDir/.product} points, if it points inside this product tree. */
    private Path linkedVersion(Path jobDir) throws IOException {
        Path marker = jobDir.resolve(".product");
        try {
            Path target = marker.getParent().resolve(Files.readSymbolicLink(marker)).normalize();
            return target.startsWith(path()) ? target : null;
        } catch (NoSuchFileException | java.nio.file.NotLinkException e) {
            return null;
        }
    }

    /** Deletes the links of {@code version} pointing into {@code dir}, then empty folders up the tree. */
    private void removeLinks(Path dir, Path version) throws IOException {
        if (TreePaths.firstLink(repo.storage().root(), version) != null) {
            return; // not a version of this tree: nothing of it is deleted
        }
        boolean left = false;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(version)) {
            for (Path p : ds) {
                if (!Files.isSymbolicLink(p)) {
                    continue;
                }
                Path target = p.getParent().resolve(Files.readSymbolicLink(p)).normalize();
                if (target.startsWith(dir)) {
                    changed(version);
                    repo.storage().disk().delete(p);
                } else {
                    left = true;
                }
            }
        } catch (NoSuchFileException e) {
            return;
        }
        if (left) {
            return;
        }
        repo.storage().disk().delete(version.resolve(".stamp"));
        for (Path p = version; p.startsWith(path()) && !p.equals(path()); p = p.getParent()) {
            try {
                repo.storage().disk().delete(p);
            } catch (DirectoryNotEmptyException e) {
                break;
            }
        }
    }

    /** Whether a symlink of {@code version} points into {@code dir}. */
    private static boolean hasLinksInto(Path version, Path dir) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(version)) {
            for (Path p : ds) {
                if (Files.isSymbolicLink(p) && p.getParent().resolve(Files.readSymbolicLink(p)).normalize()
                        .startsWith(dir)) {
                    return true;
                }
            }
        } catch (NoSuchFileException e) {
            return false;
        }
        return false;
    }

    private static boolean pointsTo(Path link, Path target) throws IOException {
        try {
            return link.getParent().resolve(Files.readSymbolicLink(link)).normalize().equals(target);
        } catch (NoSuchFileException | java.nio.file.NotLinkException e) {
            return false;
        }
    }

    /** Creates or atomically replaces {@code link} with a relative symlink to {@code target}. */
    private void symlink(Path link, Path target) throws IOException {
        changed(link.getParent());
        Path rel = link.getParent().relativize(target);
        Path tmp = TreePaths.temporarySibling(link);
        try {
            Files.createSymbolicLink(tmp, rel);
            Files.move(tmp, link, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
            repo.storage().disk().changed(link);
        }
        repo.storage().disk().syncDir(link.getParent());
    }

    /**
     * The format a version's symlink stands for, if it still points into this repository's
     * branches, at format depth. These links are the only ones the server follows, and only
     * when neither the version's folders nor the format's are reached through another link.
     */
    ArtifactFormat resolve(Path link) throws IOException {
        Path root = repo.storage().root();
        Path target;
        try {
            if (!link.equals(TreePaths.firstLink(root, link))) {
                return null; // not a link, or one reached through another link
            }
            target = link.getParent().resolve(Files.readSymbolicLink(link)).normalize();
        } catch (NoSuchFileException e) {
            return null;
        }
        if (!target.startsWith(repo.branchesDir()) || !TreePaths.isRealFolder(root, target)) {
            return null;
        }
        Path rel = repo.branchesDir().relativize(target);
        if (rel.getNameCount() != 4) {
            return null;
        }
        return repo.branch(rel.getName(0).toString()).tag(rel.getName(1).toString())
                .job(rel.getName(2).toString()).format(rel.getName(3).toString());
    }
}
