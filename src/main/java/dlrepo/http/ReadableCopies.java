package dlrepo.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.BlobStore;
import dlrepo.fs.Branch;
import dlrepo.fs.Digest;
import dlrepo.fs.Job;
import dlrepo.fs.Storage;
import dlrepo.fs.Tag;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds a copy of some content that the caller may read, so that a digest never stands
 * for content the caller may not read: the dedup probe, {@code X-Dlrepo-Link} and the
 * registry's mounts answer a digest only when the caller may read a file of the tree
 * holding it. A copy is a regular file of a format (not a symbolic link) that is a hard
 * link of the blob (same inode, so exactly that content, whatever the size of the format)
 * and whose URL the ACLs let the caller read.
 *
 * <p>There is no index from digests to paths. The search looks, in this order, at the
 * files the blob was last linked at or found at ({@link dlrepo.fs.RecentLinks}, filled by
 * every upload and link); the target file itself; the same job, format and file in the
 * newest tags of the same branch, then any file of those formats with that digest (an
 * index of their {@code .digests}, kept while unchanged); the same format and file in
 * the other jobs of the same tag. That finds, cheaply, what a CI re-uploading its own artifacts into a new
 * tag already has. Without authentication ({@link Access#ALLOW_ALL}) every blob is
 * readable: the store is asked directly, as the probe always did.
 */
public final class ReadableCopies {
    /** Other tags of the branch looked at, newest first. */
    static final int NEWEST_TAGS = 3;
    /** Other jobs of the tag looked at. */
    static final int OTHER_JOBS = 16;
    /** How long a branch's list of newest tags is reused. */
    static final Duration TAG_LIST_TTL = Duration.ofSeconds(10);
    /** How many {@code .digests} entries the format indexes hold in all. */
    static final long INDEXED_ENTRIES = 200_000;

    /** The inverted {@code .digests} of a finalized format, valid while that file is the same. */
    private record FormatIndex(Object fileKey, FileTime modified, long size, Map<Digest, String> files) {
    }

    private final Path root;
    private final BlobStore blobs;
    private final Access access;
    private final Cache<Path, List<String>> newestTags =
            Caffeine.newBuilder().expireAfterWrite(TAG_LIST_TTL).maximumSize(1_000).build();
    private final Cache<Path, FormatIndex> indexes = Caffeine.newBuilder().maximumWeight(INDEXED_ENTRIES)
            .weigher((Path p, FormatIndex i) -> i.files().size() + 1).build();

    public ReadableCopies(Storage storage, Access access) {
        this.root = storage.root();
        this.blobs = storage.blobs();
        this.access = access;
    }

    /** Whether every caller may read everything (no authentication): any blob of the store is readable. */
    public boolean everythingReadable() {
        return access == Access.ALLOW_ALL;
    }

    /**
     * A file holding {@code d} that the caller may read (the blob itself when there is no
     * access control), or empty. {@code near} and {@code rel} (both may be null) are the
     * format and file being written, where the search starts.
     */
    public Optional<Path> find(HttpServerExchange ex, Digest d, ArtifactFormat near, String rel) throws IOException {
        Path blob = blobs.path(d);
        Object key;
        try {
            key = Files.readAttributes(blob, BasicFileAttributes.class).fileKey();
        } catch (NoSuchFileException e) {
            key = null;
        }
        if (everythingReadable()) {
            return key == null ? Optional.empty() : Optional.of(blob);
        }
        // a missing blob is searched for all the same: the time of the answer does not tell
        // "nowhere" from "only where the caller may not read"
        return new Search(ex, d, key).search(near, rel);
    }

    /** One search: the candidates already looked at are not looked at again. */
    private final class Search {
        private final HttpServerExchange ex;
        private final Digest d;
        private final Object key;
        private final Set<Path> seen = new HashSet<>();

        Search(HttpServerExchange ex, Digest d, Object key) {
            this.ex = ex;
            this.d = d;
            this.key = key;
        }

        Optional<Path> search(ArtifactFormat near, String rel) throws IOException {
            List<Path> recent = blobs.recent().of(d);
            for (Path p : recent) {
                if (check(p)) {
                    return found(p, recent);
                }
            }
            if (near == null) {
                return Optional.empty();
            }
            if (rel != null && check(file(near, rel))) {
                return found(file(near, rel), recent);
            }
            Job job = near.job();
            Tag tag = job.tag();
            for (String t : newestTags(tag.branch())) {
                if (t.equals(tag.name())) {
                    continue;
                }
                ArtifactFormat f = tag.branch().tag(t).job(job.name()).format(near.name());
                if (rel != null && check(file(f, rel))) {
                    return found(file(f, rel), recent);
                }
                Path indexed = indexed(f);
                if (check(indexed)) {
                    return found(indexed, recent);
                }
            }
            if (rel != null) {
                int n = 0;
                for (Job other : tag.jobs()) {
                    if (other.name().equals(job.name())) {
                        continue;
                    }
                    if (++n > OTHER_JOBS) {
                        break;
                    }
                    Path p = file(other.format(near.name()), rel);
                    if (check(p)) {
                        return found(p, recent);
                    }
                }
            }
            return Optional.empty();
        }

        /** {@code p}, remembered as the newest place of the content unless it is already. */
        private Optional<Path> found(Path p, List<Path> recent) {
            if (recent.isEmpty() || !recent.get(0).equals(p)) {
                blobs.recent().record(d, p);
            }
            return Optional.of(p);
        }

        /** Whether {@code file} (null: no candidate) is a copy of the blob the caller may read. */
        private boolean check(Path file) throws IOException {
            if (file == null || !seen.add(file)) {
                return false;
            }
            String url = url(file);
            if (url == null || !access.canRead(ex, url)) {
                return false;
            }
            if (!file.toFile().isFile()) {
                return false; // a missing file without the cost of an exception
            }
            try {
                BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                return a.isRegularFile() && key != null && key.equals(a.fileKey());
            } catch (java.nio.file.FileSystemException e) {
                return false; // missing, or a file where a folder of the path should be
            }
        }

        /** The file of finalized format {@code f} that {@code .digests} gives digest {@code d}, or null. */
        private Path indexed(ArtifactFormat f) throws IOException {
            Path digests = f.path().resolve(".digests");
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(digests, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (java.nio.file.FileSystemException e) {
                return null;
            }
            if (!a.isRegularFile() || f.isDirty()) {
                return null;
            }
            FormatIndex index = indexes.getIfPresent(f.path());
            if (index == null || !java.util.Objects.equals(index.fileKey(), a.fileKey())
                    || !index.modified().equals(a.lastModifiedTime()) || index.size() != a.size()) {
                Map<Digest, String> files = new HashMap<>();
                f.digests().forEach((relPath, digest) -> files.putIfAbsent(digest, relPath));
                index = new FormatIndex(a.fileKey(), a.lastModifiedTime(), a.size(), files);
                indexes.put(f.path(), index);
            }
            String relPath = index.files().get(d);
            return relPath == null ? null : file(f, relPath);
        }
    }

    /** Where {@code rel} is in format {@code f}, or null if the tree refuses that path there. */
    private static Path file(ArtifactFormat f, String rel) {
        try {
            return f.file(rel);
        } catch (dlrepo.fs.RepoException | java.io.UncheckedIOException e) {
            return null;
        }
    }

    /** The names of the newest tags of {@code branch} (a few more than looked at), newest first. */
    private List<String> newestTags(Branch branch) throws IOException {
        List<String> cached = newestTags.getIfPresent(branch.path());
        if (cached != null) {
            return cached;
        }
        List<Tag> tags = new ArrayList<>(branch.tags());
        tags.sort(Tag.NEWEST_FIRST);
        List<String> names = new ArrayList<>();
        for (Tag t : tags.subList(0, Math.min(tags.size(), NEWEST_TAGS + 1))) {
            names.add(t.name());
        }
        List<String> list = List.copyOf(names);
        newestTags.put(branch.path(), list);
        return list;
    }

    /**
     * The canonical URL path of a file of a format ({@code /branches/<b>/<t>/<j>/<f>/<rel>},
     * {@code /~<user>/branches/...}), the path the ACLs are checked against; null for a file
     * elsewhere (the blob store, the trash, a hidden file).
     */
    String url(Path file) {
        if (!file.startsWith(root)) {
            return null;
        }
        Path rel = root.relativize(file);
        int n = rel.getNameCount();
        List<String> segs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String s = rel.getName(i).toString();
            if (s.isEmpty() || s.startsWith(".")) {
                return null;
            }
            segs.add(s);
        }
        if (n >= 6 && segs.get(0).equals("branches")) {
            return "/" + String.join("/", segs);
        }
        if (n >= 8 && segs.get(0).equals("users") && segs.get(2).equals("branches")) {
            return "/~" + segs.get(1) + "/" + String.join("/", segs.subList(2, n));
        }
        return null;
    }
}
