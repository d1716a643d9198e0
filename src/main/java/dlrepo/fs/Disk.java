package dlrepo.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The file operations every level of the tree shares: atomic small-file writes, flag
 * files, durable folder creation, listing and removal through a trash folder.
 * {@code fsync} decides whether acknowledged changes are forced to the disk.
 *
 * <p>What the daemon creates gets the modes of dlrepo-layout(7), whatever the umask: set
 * at creation (never more open than these) and again after it (a stricter umask must not
 * keep a web server in the daemon's group from reading what it sends for X-Accel-Redirect).
 */
public final class Disk {
    /** Folders of the tree and of the blob store: the group (a web server) may read them. */
    public static final Set<PosixFilePermission> DIR_MODE = mode("rwxr-x---");
    /** Files of the tree, blobs, the small JSON and flag files. */
    public static final Set<PosixFilePermission> FILE_MODE = mode("rw-r-----");
    /** {@code .uploads} and {@code .trash}: nobody but the daemon. */
    public static final Set<PosixFilePermission> PRIVATE_DIR_MODE = mode("rwx------");
    private static final SecureRandom RANDOM = new SecureRandom();
    private final boolean fsync;
    private final Path trash;
    /** The storage root (the trash's parent): no symbolic link is followed below it. */
    private final Path root;
    private final TreeVersions versions;
    /** A read-only replica's: every write method refuses (see {@link #checkWritable}). */
    private final boolean readOnly;

    public Disk(boolean fsync, Path trash) {
        this(fsync, trash, false);
    }

    /** {@code readOnly}: a replica's disk, on which every write method throws. */
    public Disk(boolean fsync, Path trash, boolean readOnly) {
        this.fsync = fsync;
        this.trash = trash;
        this.root = trash.getParent();
        this.versions = new TreeVersions(root);
        this.readOnly = readOnly;
    }

    /** Whether this is a read-only replica's disk (another daemon writes the root). */
    public boolean readOnly() {
        return readOnly;
    }

    /**
     * Defence in depth on a read-only replica: the writes are refused before routing
     * (ReadOnlyGuard), so reaching a write method there is a bug; it fails the request
     * (500) instead of changing a root another daemon writes.
     */
    public void checkWritable() {
        if (readOnly) {
            throw new IllegalStateException("read-only replica: refusing to write below " + root);
        }
    }

    /** The versions of the folders, raised by every change made through this class. */
    public TreeVersions versions() {
        return versions;
    }

    /**
     * Records that {@code p} changed, for a change not made by a method of this class
     * (links, renames, journal appends): call it once the change is made, and also when
     * it failed half-way.
     */
    public void changed(Path p) {
        versions.changed(p);
    }

    /** Deletes a file if it exists; returns whether it did. */
    public boolean delete(Path file) throws IOException {
        checkWritable();
        try {
            return Files.deleteIfExists(file);
        } finally {
            versions.changed(file);
        }
    }

    public boolean fsync() {
        return fsync;
    }

    private static Set<PosixFilePermission> mode(String text) {
        return Collections.unmodifiableSet(PosixFilePermissions.fromString(text));
    }

    static FileAttribute<Set<PosixFilePermission>> attribute(Set<PosixFilePermission> mode) {
        return PosixFilePermissions.asFileAttribute(mode);
    }

    /** Sets the mode of a file or folder the daemon just created (the umask may have removed bits). */
    public static void chmod(Path p, Set<PosixFilePermission> mode) throws IOException {
        Files.setPosixFilePermissions(p, mode);
    }

    /** Creates {@code dir} (its parent exists) with {@code mode}, or sets that mode if it exists. */
    public static void ensureDirectory(Path dir, Set<PosixFilePermission> mode) throws IOException {
        try {
            Files.createDirectory(dir, attribute(mode));
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw e;
            }
        }
        chmod(dir, mode);
    }

    public static String randomName() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** Writes {@code data} to a temporary file next to {@code target}, then renames it. */
    public void writeAtomically(Path target, byte[] data) throws IOException {
        checkWritable();
        Path tmp = TreePaths.temporarySibling(target);
        try (FileChannel ch = FileChannel.open(tmp, java.util.EnumSet.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE), attribute(FILE_MODE))) {
            chmod(tmp, FILE_MODE);
            ByteBuffer buf = ByteBuffer.wrap(data);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            if (fsync) {
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
            versions.changed(target);
        }
        syncDir(target.getParent());
    }

    public static Optional<byte[]> readIfExists(Path file) throws IOException {
        try {
            return Optional.of(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    public static Optional<String> readText(Path file) throws IOException {
        return readIfExists(file).map(b -> new String(b, java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Creates or removes an empty flag file. */
    public void setFlag(Path flag, boolean on) throws IOException {
        checkWritable();
        try {
            setFlagFile(flag, on);
        } finally {
            versions.changed(flag);
        }
    }

    private void setFlagFile(Path flag, boolean on) throws IOException {
        if (on) {
            try {
                Files.createFile(flag, attribute(FILE_MODE));
            } catch (FileAlreadyExistsException e) {
                return;
            }
            chmod(flag, FILE_MODE);
        } else if (!Files.deleteIfExists(flag)) {
            return;
        }
        syncDir(flag.getParent());
    }

    public static boolean flag(Path flag) {
        return Files.exists(flag, LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Creates {@code dir} and its missing parents (mode {@link #DIR_MODE}), syncing each
     * parent that changed. Refused (400-kind) when a symbolic link is on the way, or when
     * the path leaves no room for the files of the folder: nothing is created then.
     */
    public void createDirectories(Path dir) throws IOException {
        checkWritable();
        TreePaths.checkRoom("Path", dir, TreePaths.RESERVED_ENTRY);
        TreePaths.refuseLinks(() -> "Cannot create " + Names.printable(root.relativize(dir).toString()), root, dir);
        try {
            create(dir);
        } finally {
            versions.changed(dir);
        }
    }

    private void create(Path dir) throws IOException {
        if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Path parent = dir.getParent();
        create(parent);
        try {
            Files.createDirectory(dir, attribute(DIR_MODE));
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw e;
            }
            return;
        }
        chmod(dir, DIR_MODE);
        syncDir(parent);
    }

    public void syncDir(Path dir) throws IOException {
        checkWritable();
        if (fsync) {
            try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
                ch.force(true);
            }
        }
    }

    public static double timestamp(Path file) throws IOException {
        FileTime t = Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS);
        return t.to(java.util.concurrent.TimeUnit.MICROSECONDS) / 1e6;
    }

    /** Names of the sub-folders of {@code dir} that do not start with '.', sorted. */
    public static List<String> subfolders(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!n.startsWith(".") && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    names.add(n);
                }
            }
        } catch (NoSuchFileException e) {
            return List.of();
        }
        names.sort(null);
        return names;
    }

    /**
     * Removes a folder tree: first renamed into the trash (atomic: readers see it or not),
     * then deleted file by file. Whatever a crash leaves in the trash is purged later.
     */
    public void remove(Path dir) throws IOException {
        checkWritable();
        // a level reached through a link is not in the tree: never moved, whatever it is.
        // A level that is itself a link is moved as a link (a rename does not follow it)
        // and deleted as one.
        Path link = TreePaths.firstLink(root, dir.getParent());
        if (link != null) {
            throw new IOException("refusing to remove " + dir + ": " + link + " is a symbolic link");
        }
        if (!Files.isDirectory(trash, LinkOption.NOFOLLOW_LINKS)) {
            ensureDirectory(trash, PRIVATE_DIR_MODE);
        }
        Path doomed = trash.resolve(randomName());
        try {
            Files.move(dir, doomed, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            return;
        } finally {
            versions.changed(dir);
        }
        syncDir(dir.getParent());
        deleteTree(doomed);
    }

    /** Deletes what earlier removals left in the trash; returns how many folders that was. */
    public int purgeTrash() throws IOException {
        checkWritable();
        List<String> names = listAll(trash);
        for (String name : names) {
            deleteTree(trash.resolve(name));
        }
        return names.size();
    }

    /** The names of every entry of {@code dir} (none if it does not exist), unsorted. */
    static List<String> listAll(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(p -> names.add(p.getFileName().toString()));
        } catch (NoSuchFileException e) {
            return List.of();
        }
        return names;
    }

    /**
     * Deletes {@code root} and what it holds, never following a symbolic link: a link,
     * {@code root} itself or one found inside, is deleted as a link, never its target.
     */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isSymbolicLink(root)) {
            Files.deleteIfExists(root);
            return;
        }
        // without FOLLOW_LINKS the walk visits links as files and never enters them
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                if (exc instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw exc;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null && !(exc instanceof NoSuchFileException)) {
                    throw exc;
                }
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** A file time as the API gives it: seconds since the epoch, to the microsecond. */
    static double seconds(FileTime t) {
        return t.to(java.util.concurrent.TimeUnit.MICROSECONDS) / 1e6;
    }

    /**
     * The names in folder {@code dir} that start with '.' (the flags and small files of a
     * level), from one read of the folder; null if {@code dir} is not there. No entry is
     * looked at: one read instead of a stat per flag.
     */
    static Set<String> dotNames(Path dir) {
        // java.io lists a folder with less work per entry than a DirectoryStream: no Path each
        String[] all = dir.toFile().list();
        if (all == null) {
            // gone, or not readable: none of its flags is seen
            return Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) ? Set.of() : null;
        }
        Set<String> names = new java.util.HashSet<>();
        for (String n : all) {
            if (n.startsWith(".")) {
                names.add(n);
            }
        }
        return names;
    }

    /**
     * One read of folder {@code dir}: the names starting with '.', and its sub-folders (an
     * {@code lstat} each: a link is none) sorted by name, with their modification times;
     * null if {@code dir} is not there.
     */
    static Folder readFolder(Path dir) throws IOException {
        Set<String> dots = new java.util.HashSet<>();
        List<Folder.Sub> subs = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (n.startsWith(".")) {
                    dots.add(n);
                    continue;
                }
                BasicFileAttributes a;
                try {
                    a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (IOException e) {
                    continue;
                }
                if (a.isDirectory()) {
                    subs.add(new Folder.Sub(n, a.lastModifiedTime()));
                }
            }
        } catch (NoSuchFileException | java.nio.file.NotDirectoryException e) {
            return null;
        }
        subs.sort(java.util.Comparator.comparing(Folder.Sub::name));
        return new Folder(dots, subs);
    }

    /** What {@link #readFolder} finds in a folder. */
    record Folder(Set<String> dotNames, List<Sub> subfolders) {
        /** A sub-folder and its modification time. */
        record Sub(String name, FileTime modified) {
        }
    }

    /** The stripped text of a small file, null if absent or blank. */
    static String line(Path file) throws IOException {
        return readText(file).map(String::strip).filter(s -> !s.isEmpty()).orElse(null);
    }

    /**
     * The modification time of {@code folder} in nanoseconds, -1 if it is missing: what
     * is kept in memory about a folder is checked against it, so that an entry added or
     * removed right there by hand is noticed.
     */
    public static long modifiedNanos(Path folder) {
        try {
            return Files.readAttributes(folder, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS);
        } catch (IOException e) {
            return -1;
        }
    }
}
