package dlrepo.fs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code .../<job>/<format>/}: a folder of artifacts of one kind. Its entries (the files
 * and their digests) are {@code .digests} with the {@link FormatJournal journal} of later
 * uploads applied; {@code .dirty} exists from the first upload until the format is
 * finalized, which folds the journal into {@code .digests}.
 *
 * <p>Every change marks the format dirty first. An upload records its entry (one journal
 * line) before it links the file, and takes the entry back if the link fails: a failure
 * leaves neither, a crash at most an entry without its file. Whole rewrites (post-processing,
 * replaced contents) repair the format if they fail half-way. Whatever a crash leaves is
 * repaired, in dirty formats, at start-up ({@link #recover}); finalizing repairs too, so a
 * format is never finalized with files that are not its entries.
 */
public final class ArtifactFormat extends Level {
    private static final Logger LOG = LoggerFactory.getLogger(ArtifactFormat.class);
    /** The format the container registry writes. */
    public static final String CONTAINER = "container";

    private final Job job;

    ArtifactFormat(Job job, String name) {
        super(name, job.path().resolve(name), job.root());
        this.job = job;
    }

    public Job job() {
        return job;
    }

    public boolean isInternal() {
        return storage().isInternalFormat(name());
    }

    public boolean isDirty() {
        return Disk.flag(path().resolve(".dirty"));
    }

    /** The entries: relative path to digest, sorted. */
    public SortedMap<String, Digest> digests() throws IOException {
        // .digests and the journal are read as one state, never half-folded
        try (TreeLocks.Lease l = lockEntries(false)) {
            if (!storage().disk().readOnly()) {
                SortedMap<String, Digest> map = readDigestsFile();
                journal().replay(map);
                return map;
            }
            // a replica: the writer, another process, may fold the journal meanwhile (new
            // .digests renamed in, then the journal deleted): an old .digests read before
            // and a journal gone after would lose entries. The rename gives .digests a new
            // inode: read again until it did not change while both were read.
            Path file = path().resolve(".digests");
            for (int attempt = 1;; attempt++) {
                Object before = stamp(file);
                SortedMap<String, Digest> map = readDigestsFile();
                journal().replay(map);
                if (java.util.Objects.equals(before, stamp(file))) {
                    return map;
                }
                if (attempt == 20) {
                    throw new IOException(file + " kept changing while it was read");
                }
            }
        }
    }

    /** What identifies one version of a file written by rename: inode, mtime, size (null if missing). */
    private static Object stamp(Path file) throws IOException {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return java.util.List.of(String.valueOf(a.fileKey()), a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS), a.size());
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }

    /** {@code .digests} alone, without the journal. */
    private SortedMap<String, Digest> readDigestsFile() throws IOException {
        SortedMap<String, Digest> map = new TreeMap<>();
        for (Map.Entry<String, String> e : JsonFiles.readStrings(path().resolve(".digests")).entrySet()) {
            try {
                map.put(e.getKey(), Digest.parse(e.getValue()));
            } catch (RepoException ex) {
                LOG.warn("{}: ignoring bad digest of {}", path().resolve(".digests"), e.getKey());
            }
        }
        return map;
    }

    private FormatJournal journal() {
        return new FormatJournal(path(), storage().disk());
    }

    /**
     * The digest of the {@code .digests} file itself: what the job digest records. Of the
     * file it will be once the journal is folded, if there is one (a dirty format).
     */
    Digest contentDigest() throws IOException {
        try (TreeLocks.Lease l = lockEntries(false)) {
            if (journal().exists()) {
                return Digest.of(serialize(digests()));
            }
            return Digest.of(Disk.readIfExists(path().resolve(".digests")).orElse(JsonFiles.serialize(Map.of())));
        }
    }

    /** The relative paths of the files, sorted. */
    public List<String> files() throws IOException {
        return new ArrayList<>(digests().keySet());
    }

    /**
     * Where {@code relPath} lives on disk: validated, always inside the format, short
     * enough to be written, and reached without going through a symbolic link (the file
     * itself may be one: readers open it without following it, writers replace it).
     */
    public Path file(String relPath) {
        Names.checkRelPath(relPath);
        Path p = path().resolve(relPath).normalize();
        if (!p.startsWith(path()) || p.equals(path())) {
            throw RepoException.badRequest("Invalid file path '" + Names.printable(relPath) + "'");
        }
        TreePaths.checkFile("File path", p);
        try {
            TreePaths.refuseLinks(() -> "Invalid file path '" + Names.printable(relPath) + "'", root(), p.getParent());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return p;
    }

    /**
     * Where the files of {@code relPaths} are, for reading them all (an archive): those
     * {@link #file} would refuse (a hand-edited {@code .digests}, a symbolic link on the
     * way) are left out. Each folder is checked for links once.
     */
    public SortedMap<String, Path> locations(java.util.Collection<String> relPaths) throws IOException {
        SortedMap<String, Path> found = new TreeMap<>();
        if (TreePaths.firstLink(root(), path()) != null) {
            return found;
        }
        java.util.Set<Path> realFolders = new java.util.HashSet<>();
        realFolders.add(path());
        for (String rel : relPaths) {
            Path p;
            try {
                Names.checkRelPath(rel);
                p = path().resolve(rel);
                TreePaths.checkFile("File path", p);
            } catch (RepoException e) {
                continue;
            }
            Path dir = p.getParent();
            if (!realFolders.contains(dir)) {
                if (TreePaths.firstLink(path(), dir) != null) {
                    continue;
                }
                realFolders.add(dir);
            }
            found.put(rel, p);
        }
        return found;
    }

    /** {@link #file}, or null when {@code relPath} is not a valid path of the tree (a hand-edited {@code .digests}). */
    private Path fileOrNull(String relPath) {
        try {
            return file(relPath);
        } catch (RepoException e) {
            LOG.warn("{}: ignoring {}: {}", path(), Names.printable(relPath), e.getMessage());
            return null;
        }
    }

    /**
     * Refuses writes the job's state forbids: a locked job (unless this format is
     * internal) and the container format (written by the registry and the publisher only).
     */
    public void checkWritable(boolean allowContainer) {
        if (name().equals(CONTAINER) && !allowContainer) {
            throw RepoException.badRequest("The container format is written through the registry (/v2/)");
        }
        if (job.isLocked() && !isInternal()) {
            throw RepoException.badRequest("Job is locked");
        }
    }

    /**
     * Stores a finished upload at {@code relPath}. A new format joins the product version
     * its job's metadata names, if {@code who} may join it (see {@link ProductTree}).
     */
    public void put(String relPath, Upload upload, boolean allowContainer, ProductAccess who) throws IOException {
        Digest d = upload.finish();
        store(relPath, d, upload.size(), allowContainer, who,
                target -> storage().blobs().commit(upload.path(), d, target));
    }

    /** Hard-links the existing blob {@code d} at {@code relPath} (404-kind if missing). */
    public void link(String relPath, Digest d, boolean allowContainer, ProductAccess who) throws IOException {
        // checked again under the digest lock; this keeps a failed link from creating
        // the tag, job and a dirty format
        long size = storage().blobs().size(d).orElseThrow(() -> RepoException.notFound("Blob " + d + " not found"));
        store(relPath, d, size, allowContainer, who, target -> storage().blobs().link(d, target));
        storage().blobs().linkedByClient(size);
    }

    private interface Linker {
        void link(Path target) throws IOException;
    }

    private void store(String relPath, Digest d, long size, boolean allowContainer, ProductAccess who,
            Linker linker) throws IOException {
        Path target = file(relPath);
        Disk disk = storage().disk();
        try (TreeLocks.Lease l = lock(true)) {
            checkWritable(allowContainer);
            boolean created = !exists();
            if (created) {
                repository().products().checkJoin(job, who);
            }
            try {
                repository().changeUsage(() -> size - sizeIfFile(target), () -> {
                    job.create();
                    disk.createDirectories(path());
                    disk.setFlag(path().resolve(".dirty"), true);
                    prepareParent(target);
                    recordAndLink(relPath, d, target, linker);
                });
            } catch (IOException | RuntimeException e) {
                if (created) {
                    discardEmpty();
                }
                throw e;
            }
            if (created) {
                joinProduct(who);
            }
        }
    }

    /**
     * The entry first (a journal line), then the file: see the class comment. If the link
     * fails, the entry is taken back.
     */
    private void recordAndLink(String relPath, Digest d, Path target, Linker linker) throws IOException {
        boolean existed = Files.exists(target, LinkOption.NOFOLLOW_LINKS);
        try (TreeLocks.Lease entries = lockEntries(true)) {
            FormatJournal journal = journal();
            long mark = journal.append(relPath, d);
            try {
                linker.link(target);
            } catch (IOException | RuntimeException e) {
                takeBack(journal, mark, relPath, d, existed, e);
                throw e;
            }
        }
    }

    /**
     * Undoes an upload whose link failed: the file, if it was linked (a later step such as
     * syncing its folder failed) and is new, and the entry. A replaced file that was linked
     * stays with its entry: both agree, and the old file is gone.
     */
    private void takeBack(FormatJournal journal, long mark, String relPath, Digest d, boolean existed,
            Exception failure) {
        Path target = path().resolve(relPath);
        try {
            boolean linked = sameFile(target, storage().blobs().path(d));
            if (linked && !existed) {
                storage().disk().delete(target);
                storage().disk().syncDir(target.getParent());
                linked = false;
            }
            if (!linked) {
                journal.truncate(mark);
            }
            if (!existed) {
                removeEmptyParents(target);
            }
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
            LOG.error("{}: cannot take back the failed upload of {} ({}): the format stays dirty and is repaired "
                    + "when it is finalized or at the next start", path(), relPath, e.toString());
        }
    }

    /** Removes the format folder a failed first upload created, if nothing is in it. */
    private void discardEmpty() {
        if (!exists()) {
            return;
        }
        try {
            if (digests().isEmpty() && scan().visible().isEmpty()) {
                Disk.deleteTree(path());
                storage().disk().syncDir(path().getParent());
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: cannot remove the format a failed upload created: {}", path(), e.toString());
        }
    }

    private static boolean sameFile(Path a, Path b) throws IOException {
        try {
            return Files.readAttributes(a, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey()
                    .equals(Files.readAttributes(b, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey());
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
    }

    /** Removes the folders between {@code file} and the format folder that are empty. */
    private void removeEmptyParents(Path file) throws IOException {
        for (Path dir = file.getParent(); dir.startsWith(path()) && !dir.equals(path()); dir = dir.getParent()) {
            try {
                Files.delete(dir);
                storage().disk().changed(dir);
            } catch (java.nio.file.DirectoryNotEmptyException | java.nio.file.NoSuchFileException e) {
                break;
            }
        }
    }

    /** Work done while the format's locks are held (see {@link #replaceContents}). */
    public interface LockedStep {
        void run() throws IOException;
    }

    /**
     * Makes the format hold exactly {@code files} (relative path to the digest of an
     * existing blob), finalized, in one step under the format's lock: new files linked,
     * others removed, {@code .digests} rewritten, then {@code andThen} runs. For contents
     * written as a whole, such as a container image.
     */
    public void replaceContents(Map<String, Digest> files, boolean allowContainer, ProductAccess who,
            LockedStep andThen) throws IOException {
        try (TreeLocks.Lease l = lock(true)) {
            checkWritable(allowContainer);
            replaceLocked(files, digests(), who, andThen);
        }
    }

    /** {@link #replaceContents} once its lock is held and the current entries ({@code before}) read. */
    private void replaceLocked(Map<String, Digest> files, SortedMap<String, Digest> before, ProductAccess who,
            LockedStep andThen) throws IOException {
        BlobStore blobs = storage().blobs();
        Disk disk = storage().disk();
        boolean created = !exists();
        if (created) {
            repository().products().checkJoin(job, who);
        }
        // only what changes is looked at on disk: an entry kept is linked already, and a
        // format of thousands of entries (an image with its referrers) changes by a few
        Map<String, Digest> added = new TreeMap<>();
        files.forEach((rel, d) -> {
            if (!d.equals(before.get(rel))) {
                added.put(rel, d);
            }
        });
        List<String> removed = before.keySet().stream().filter(rel -> !files.containsKey(rel)).toList();
        repository().changeUsage(() -> {
            long delta = 0;
            for (Map.Entry<String, Digest> e : added.entrySet()) {
                file(e.getKey());
                Digest d = e.getValue();
                delta += blobs.size(d).orElseThrow(() -> RepoException.notFound("Blob " + d + " not found"));
            }
            List<String> replaced = added.keySet().stream().filter(before::containsKey).toList();
            return delta - sizeOfFiles(removed) - sizeOfFiles(replaced);
        }, () -> {
            job.create();
            disk.createDirectories(path());
            // dirty until done: a crash in between is repaired at start-up (recover)
            disk.setFlag(path().resolve(".dirty"), true);
            try (TreeLocks.Lease entries = lockEntries(true)) {
                for (String rel : removed) {
                    Path p = fileOrNull(rel);
                    if (p != null) {
                        disk.delete(p);
                    }
                }
                for (Map.Entry<String, Digest> e : added.entrySet()) {
                    Path target = file(e.getKey());
                    prepareParent(target);
                    blobs.link(e.getValue(), target);
                }
                writeDigests(new TreeMap<>(files));
                andThen.run();
            } catch (IOException | RuntimeException e) {
                repairAfter(e);
                throw e;
            }
            disk.setFlag(path().resolve(".dirty"), false);
        });
        if (created) {
            joinProduct(who);
        }
    }

    /** A change of a format's entries, computed from its current ones under its lock. */
    public interface Change {
        Map<String, Digest> apply(SortedMap<String, Digest> current) throws IOException;
    }

    /**
     * Like {@link #replaceContents}, for an existing format: the new entries are computed
     * by {@code change} from the current ones inside the format's lock, so that a change
     * made meanwhile (a tag policy, a delete) is never undone. NOT_FOUND if the format does
     * not exist; nothing is written if the entries stay the same.
     */
    public void updateContents(Change change, ProductAccess who, LockedStep andThen) throws IOException {
        try (TreeLocks.Lease l = lock(true)) {
            if (!exists()) {
                throw RepoException.notFound("Format " + name() + " not found");
            }
            checkWritable(true);
            SortedMap<String, Digest> current = digests();
            Map<String, Digest> files = change.apply(java.util.Collections.unmodifiableSortedMap(current));
            if (!files.equals(current)) {
                replaceLocked(files, current, who, andThen);
            }
        }
    }

    private long sizeOfFiles(java.util.Collection<String> relPaths) throws IOException {
        long total = 0;
        for (String rel : relPaths) {
            Path p = fileOrNull(rel);
            total += p == null ? 0 : sizeIfFile(p);
        }
        return total;
    }

    private static long sizeIfFile(Path p) throws IOException {
        try {
            var a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return a.isRegularFile() ? a.size() : 0;
        } catch (java.nio.file.NoSuchFileException e) {
            return 0;
        } catch (java.nio.file.FileSystemException e) {
            if ("Not a directory".equals(e.getReason())) {
                return 0; // a file is in the way of a parent folder: prepareParent answers 400
            }
            throw e;
        }
    }

    private void prepareParent(Path target) throws IOException {
        try {
            storage().disk().createDirectories(target.getParent());
        } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.NotDirectoryException e) {
            throw RepoException.badRequest("A file is in the way of " + path().relativize(target));
        }
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            throw RepoException.badRequest(path().relativize(target) + " is a folder");
        }
    }

    /**
     * Makes {@code digests} the format's entries. A journal is folded into {@code .digests}
     * first: a crash between writing the new file and deleting the journal would otherwise
     * replay old entries over it.
     */
    private void writeDigests(SortedMap<String, Digest> digests) throws IOException {
        FormatJournal journal = journal();
        if (journal.exists()) {
            SortedMap<String, Digest> current = digests();
            writeDigestsFile(current);
            journal.delete();
            if (current.equals(digests)) {
                return;
            }
        }
        writeDigestsFile(digests);
    }

    private void writeDigestsFile(SortedMap<String, Digest> digests) throws IOException {
        storage().disk().writeAtomically(path().resolve(".digests"), serialize(digests));
    }

    /** The bytes of {@code .digests} holding {@code digests}. */
    private static byte[] serialize(Map<String, Digest> digests) {
        return JsonFiles.serialize(digests); // a Digest is written as its toString
    }

    /** After a failed whole rewrite: the format made consistent again (it is dirty), as at start-up. */
    private void repairAfter(Exception failure) {
        try {
            repair();
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
            LOG.error("{}: cannot repair the format after a failed change ({}): it stays dirty and is repaired "
                    + "at the next start", path(), e.toString());
        }
    }

    /**
     * Ends the upload phase: runs the post-process command when configured and its filter
     * matches, stores what it added or changed, drops what it removed, clears the dirty
     * flag. A failing command changes nothing and the format stays dirty.
     */
    public void finalizeFormat(ProductAccess who) throws IOException {
        try (TreeLocks.Lease l = lock(true)) {
            if (!exists()) {
                throw RepoException.notFound("Format " + name() + " not found");
            }
            if (!isDirty()) {
                return;
            }
            // folds the journal, and no file a failed upload could not take back gets finalized
            SortedMap<String, Digest> digests = repair().digests();
            if (storage().postProcessor().appliesTo(digests.keySet())) {
                postProcess(digests);
            }
            if (name().equals(CONTAINER)) {
                // an image copied file by file (a publishing server) is tagged here
                new ContainerImage(this).tagTop(digests(), storage().disk());
            }
            storage().disk().setFlag(path().resolve(".dirty"), false);
            // a product link its first upload could not make (a full disk) is made now
            joinProduct(who);
        }
    }

    /**
     * Links the format into the product version its job names, if {@code who} may join
     * it. The files are stored and acknowledged already: a failure here is logged, not
     * answered, and finalizing the format tries again.
     */
    private void joinProduct(ProductAccess who) {
        try {
            repository().products().linkFormat(this, who);
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: not linked into its product version: {}", path(), e.toString());
        }
    }

    private void postProcess(SortedMap<String, Digest> before) throws IOException {
        BlobStore blobs = storage().blobs();
        String workName = blobs.reserveUploadName();
        String logName = blobs.reserveUploadName();
        Path work = blobs.uploadsDir().resolve(workName);
        Path log = blobs.uploadsDir().resolve(logName);
        try {
            Files.createDirectories(work);
            for (String rel : before.keySet()) {
                Path src = fileOrNull(rel);
                if (src == null) {
                    continue;
                }
                Path dst = work.resolve(rel);
                Files.createDirectories(dst.getParent());
                // a link is copied as a link, which the command's output then ignores
                Files.copy(src, dst, LinkOption.NOFOLLOW_LINKS);
            }
            storage().postProcessor().run(work, log, path());
            SortedMap<String, Path> after = collect(work);
            repository().changeUsage(() -> {
                long delta = 0;
                for (Path p : after.values()) {
                    delta += Files.size(p);
                }
                return delta - sizeOfFiles(before.keySet());
            }, () -> {
                try (TreeLocks.Lease entries = lockEntries(true)) {
                    commitPostProcessed(before, after);
                } catch (IOException | RuntimeException e) {
                    repairAfter(e);
                    throw e;
                }
            });
        } finally {
            Disk.deleteTree(work);
            blobs.releaseUploadName(workName);
            blobs.releaseUploadName(logName);
        }
    }

    private void commitPostProcessed(SortedMap<String, Digest> before, SortedMap<String, Path> after)
            throws IOException {
        SortedMap<String, Digest> digests = new TreeMap<>();
        for (String rel : before.keySet()) {
            Path p = after.containsKey(rel) ? null : fileOrNull(rel);
            if (p != null) {
                storage().disk().delete(p);
            }
        }
        for (Map.Entry<String, Path> e : after.entrySet()) {
            Digest d = hash(e.getValue());
            digests.put(e.getKey(), d);
            if (!d.equals(before.get(e.getKey()))) {
                Path target = file(e.getKey());
                prepareParent(target);
                storage().blobs().commit(e.getValue(), d, target);
            }
        }
        writeDigests(digests);
    }

    /** The regular files the command left, by relative path(); others are skipped. */
    private SortedMap<String, Path> collect(Path work) throws IOException {
        SortedMap<String, Path> files = new TreeMap<>();
        Files.walkFileTree(work, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String rel = work.relativize(file).toString();
                if (!attrs.isRegularFile()) {
                    LOG.warn("post-process of {}: ignoring {} (not a regular file)", path(), rel);
                    return FileVisitResult.CONTINUE;
                }
                try {
                    file(rel); // a valid name and path, short enough, in the format
                    files.put(rel, file);
                } catch (RepoException e) {
                    LOG.warn("post-process of {}: ignoring {}: {}", path(), rel, e.getMessage());
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return files;
    }

    private Digest hash(Path file) throws IOException {
        MessageDigest md = Digest.sha256();
        byte[] buf = new byte[storage().chunkSize()];
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            int n;
            while ((n = in.read(buf)) != -1) {
                md.update(buf, 0, n);
            }
        }
        return Digest.of(md);
    }

    /** Deletes the format; refused in a locked job unless the format is internal. */
    public void delete() throws IOException {
        try (TreeLocks.Lease l = lock(true)) {
            if (!exists()) {
                throw RepoException.notFound("Format " + name() + " not found");
            }
            if (job.isLocked() && !isInternal()) {
                throw RepoException.badRequest("Job is locked");
            }
            repository().products().unlinkFormat(this);
            repository().remove(path());
        }
    }

    TreeLocks.Lease lock(boolean exclusive) {
        return job.tag().branch().repository().lock(path(), exclusive);
    }

    /**
     * The lock of the entries ({@code .digests} and the journal), apart from the tree's:
     * readers take it shared and nothing else, so that they wait only while the entries
     * change, never for a whole finalization (a post-processing command may run minutes
     * under the format's lock). Writers hold the format's lock first, then this one.
     */
    private TreeLocks.Lease lockEntries(boolean exclusive) {
        return storage().entryLocks().lock(path().getParent(), path(), exclusive);
    }

    private Storage storage() {
        return repository().storage();
    }

    private Repository repository() {
        return job.tag().branch().repository();
    }

    /** Temporary names of {@link Disk#writeAtomically} and {@link BlobStore}'s replacing links. */
    private static final java.util.regex.Pattern TEMPORARY = java.util.regex.Pattern.compile("\\..+\\.tmp-[0-9a-f]{32}");

    /** The files of the format folder (not in dot-named folders): visible ones and temporary names. */
    private record Scan(SortedMap<String, Object> visible, List<Path> temporary) {
    }

    /** Visible files by relative path, with their file key (device and inode). */
    private Scan scan() throws IOException {
        Scan scan = new Scan(new TreeMap<>(), new ArrayList<>());
        Files.walkFileTree(path(), new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                return dir.equals(path()) || !dir.getFileName().toString().startsWith(".")
                        ? FileVisitResult.CONTINUE : FileVisitResult.SKIP_SUBTREE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String n = file.getFileName().toString();
                if (TEMPORARY.matcher(n).matches()) {
                    scan.temporary().add(file);
                } else if (attrs.isRegularFile() && !n.startsWith(".")) {
                    scan.visible().put(path().relativize(file).toString(), attrs.fileKey());
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return scan;
    }

    /** Deletes the temporary names and the visible files that are not entries; returns how many. */
    private int removeStrays(Scan scan, Map<String, Digest> digests) throws IOException {
        int removed = 0;
        for (Path t : scan.temporary()) {
            storage().disk().delete(t);
            removed++;
        }
        for (String rel : scan.visible().keySet()) {
            if (!digests.containsKey(rel)) {
                LOG.warn("{}: removing {}, a file without its .digests entry (interrupted or failed upload)",
                        path(), rel);
                Path file = path().resolve(rel);
                Files.delete(file);
                storage().disk().changed(file);
                removeEmptyParents(file);
                removed++;
            }
        }
        return removed;
    }

    /**
     * Repairs what a crash (SIGKILL, power loss) between the steps of an upload or of a
     * post-processing run leaves in a dirty format, so that its files are again exactly
     * its entries, and folds the journal into {@code .digests}: see {@link #repair}. Only
     * dirty formats can be in such a state: every write marks the format dirty first, and
     * finalizing repairs. For start-up, before requests are served. Returns the number of
     * repairs.
     */
    int recover() throws IOException {
        if (!exists() || !isDirty()) {
            return 0;
        }
        Repaired repaired = repair();
        if (name().equals(CONTAINER)) {
            // a registry change cut short may have left the referrers index behind its entries
            new ContainerImage(this).writeReferrers(repaired.digests(), storage().disk());
        }
        return repaired.repairs();
    }

    /**
     * Removes the files of a finalized format that are not its entries (ghosts that
     * versions before the journal could leave when {@code .digests} could not be written
     * on a full disk), and temporary names; entries are left alone. For start-up.
     */
    int removeUnknownFiles() throws IOException {
        if (!exists()) {
            return 0;
        }
        return removeStrays(scan(), digests());
    }

    /**
     * Makes the files exactly the entries, and folds the journal into {@code .digests}: a
     * journal line cut short or damaged is skipped, a file without its entry is removed (it
     * was never acknowledged), an entry whose file is missing or holds other content is
     * linked again from its blob (or dropped, or set to the file's digest, when that blob is
     * gone), temporary links are deleted. The caller holds the format's lock or runs before
     * requests are served. Returns the number of repairs and the entries.
     */
    private Repaired repair() throws IOException {
        try (TreeLocks.Lease entries = lockEntries(true)) {
            return repairEntries();
        }
    }

    private Repaired repairEntries() throws IOException {
        Scan scan = scan();
        SortedMap<String, Digest> digests = readDigestsFile();
        FormatJournal journal = journal();
        FormatJournal.Replay replay = journal.replay(digests);
        int repairs = replay.skipped();
        if (replay.skipped() > 0) {
            LOG.warn("{}: skipped {} incomplete or damaged line(s) of {} (cut by a crash)", path(), replay.skipped(),
                    FormatJournal.NAME);
        }
        boolean changed = journal.exists();
        if (replay.lastPath() != null && !holds(scan, replay.lastPath(), digests.get(replay.lastPath()))) {
            // the last change was cut between its entry and its file: it was never
            // acknowledged, so it is undone rather than completed
            LOG.warn("{}: {} was not stored (interrupted upload), its entry is taken back", path(), replay.lastPath());
            if (replay.beforeLast() == null) {
                digests.remove(replay.lastPath());
            } else {
                digests.put(replay.lastPath(), replay.beforeLast());
            }
            repairs++;
        }
        repairs += removeStrays(scan, digests);
        BlobStore blobs = storage().blobs();
        for (Map.Entry<String, Digest> e : new TreeMap<>(digests).entrySet()) {
            String rel = e.getKey();
            Digest d = e.getValue();
            Path file;
            try {
                file = file(rel);
            } catch (RepoException ex) {
                LOG.warn("{}: dropping invalid .digests entry {}", path(), rel);
                digests.remove(rel);
                changed = true;
                repairs++;
                continue;
            }
            Path blob = blobs.path(d);
            if (scan.visible().containsKey(rel)) {
                if (sameFileKey(scan.visible().get(rel), blob)) {
                    continue;
                }
                Digest actual = hash(file);
                if (actual.equals(d)) {
                    continue; // an older generation of the blob (link limit)
                }
                if (Files.exists(blob)) {
                    LOG.warn("{}: {} does not hold {}, linking it again (interrupted replacement)", path(), rel, d);
                    blobs.link(d, file);
                } else {
                    LOG.warn("{}: {} does not hold {} and that blob is gone, keeping {}", path(), rel, d, actual);
                    digests.put(rel, actual);
                    changed = true;
                }
                repairs++;
            } else {
                try {
                    prepareParent(file);
                    blobs.link(d, file);
                    LOG.warn("{}: {} was missing, linked it again from its blob", path(), rel);
                } catch (RepoException ex) {
                    LOG.warn("{}: {} and its blob are missing, dropping its .digests entry", path(), rel);
                    digests.remove(rel);
                    changed = true;
                }
                repairs++;
            }
        }
        if (changed) {
            writeDigestsFile(digests);
            journal.delete();
        }
        if (repairs > 0) {
            repository().products().linkFormat(this, ProductAccess.NOBODY);
        }
        return new Repaired(repairs, digests);
    }

    private record Repaired(int repairs, SortedMap<String, Digest> digests) {
    }

    /** Whether the file at {@code rel} holds {@code d} (a link of its blob, or the same bytes). */
    private boolean holds(Scan scan, String rel, Digest d) throws IOException {
        Object key = scan.visible().get(rel);
        if (key == null || d == null) {
            return false;
        }
        Path file;
        try {
            file = file(rel);
        } catch (RepoException e) {
            return false;
        }
        return sameFileKey(key, storage().blobs().path(d)) || hash(file).equals(d);
    }

    private static boolean sameFileKey(Object fileKey, Path blob) throws IOException {
        try {
            return fileKey != null && fileKey.equals(
                    Files.readAttributes(blob, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey());
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
    }
}
