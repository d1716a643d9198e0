package dlrepo.fs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * What every path of the tree must be, besides made of valid {@link Names}: short enough
 * for the file system, and free of symbolic links.
 *
 * <p>Lengths are checked before anything is created, so that a refused request leaves no
 * folder behind. A folder must leave room for the server's own files and for the
 * temporary names it writes next to a file before renaming ({@link #temporarySibling}).
 *
 * <p>The tree is never read, written or deleted through a symbolic link: one put there by
 * hand, by a restore or by a post-process command could lead outside the root. The product
 * links the daemon makes itself are the only links it follows, and only into its own
 * {@code branches/} ({@link ProductTree#resolve}). A level that is a link does not exist; a
 * path going through one is refused. Links are checked from the root (itself trusted:
 * {@code DLREPO_ROOT_DIR} may be reached through links) down to the path, with one
 * {@code lstat} per component, just before the operation: this defends against links
 * lying in the tree, not against someone swapping folders for links while requests run.
 */
public final class TreePaths {
    /** Linux's PATH_MAX, the terminating NUL included. */
    public static final int PATH_MAX = 4096;
    /** The longest name of a folder entry, in bytes. */
    public static final int NAME_MAX = 255;
    /** What {@link #temporarySibling} adds to a name: a dot before, ".tmp-" and 32 hex digits after. */
    static final int TEMPORARY_EXTRA = 1 + 5 + 32;
    /** Room every folder keeps for the server's own entries ({@code .metadata} and its temporary name...). */
    static final int RESERVED_ENTRY = 64;

    private TreePaths() {
    }

    /** The length of {@code p} as the file system sees it: its absolute path in UTF-8. */
    static int bytes(Path p) {
        return p.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8).length;
    }

    private static int bytes(String name) {
        return name.getBytes(StandardCharsets.UTF_8).length;
    }

    /**
     * A 400-kind error unless folder {@code dir} can hold an entry of {@code nameBytes}
     * bytes (the full path of that entry, without its NUL, within {@link #PATH_MAX}).
     */
    static void checkRoom(String what, Path dir, int nameBytes) {
        if (bytes(dir) + 1 + nameBytes > PATH_MAX - 1) {
            throw RepoException.badRequest(what + " too long for the server's file system (at most " + PATH_MAX
                    + " bytes, counting the server's own folders)");
        }
    }

    /**
     * A 400-kind error unless {@code file} can be written: its folder keeps room for the
     * server's own entries and for the temporary name next to the file.
     */
    static void checkFile(String what, Path file) {
        int name = bytes(file.getFileName().toString());
        checkRoom(what, file.getParent(), Math.max(RESERVED_ENTRY, Math.min(NAME_MAX, name + TEMPORARY_EXTRA)));
    }

    /**
     * The temporary name next to {@code target} that a write renames onto it:
     * {@code .<name>.tmp-<random>}, the name cut (on a character boundary) so that the
     * whole fits in {@link #NAME_MAX} bytes.
     */
    public static Path temporarySibling(Path target) {
        String name = target.getFileName().toString();
        int room = NAME_MAX - TEMPORARY_EXTRA;
        if (bytes(name) > room) {
            int end = 0;
            int used = 0;
            while (end < name.length()) {
                int cp = name.codePointAt(end);
                int len = bytes(new String(Character.toChars(cp)));
                if (used + len > room) {
                    break;
                }
                used += len;
                end += Character.charCount(cp);
            }
            name = name.substring(0, end);
        }
        return target.resolveSibling("." + name + ".tmp-" + Disk.randomName());
    }

    /**
     * The first symbolic link among the components of {@code p} below {@code base} (the
     * last one, {@code p} itself, included), or null. A component that does not exist, or
     * is a file, ends the search: nothing below it exists.
     */
    public static Path firstLink(Path base, Path p) throws IOException {
        if (!p.startsWith(base)) {
            throw new IllegalArgumentException(p + " is not below " + base);
        }
        Path current = base;
        for (Path name : base.relativize(p)) {
            if (name.toString().isEmpty()) {
                break;
            }
            current = current.resolve(name);
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(current, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                return null;
            } catch (FileSystemException e) {
                if ("Not a directory".equals(e.getReason())) {
                    return null;
                }
                throw e;
            }
            if (a.isSymbolicLink()) {
                return current;
            }
            if (!a.isDirectory()) {
                return null;
            }
        }
        return null;
    }

    /** Whether {@code p} is a folder and neither it nor a folder between {@code base} and it is a link. */
    public static boolean isRealFolder(Path base, Path p) {
        try {
            return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) && firstLink(base, p) == null;
        } catch (IOException e) {
            return false;
        }
    }

    /** A 400-kind error naming the first link on the way to {@code p}, if there is one. */
    static void refuseLinks(java.util.function.Supplier<String> what, Path base, Path p) throws IOException {
        Path link = firstLink(base, p);
        if (link != null) {
            throw RepoException.badRequest(what.get() + ": " + Names.printable(base.relativize(link).toString())
                    + " is a symbolic link, which the server never follows");
        }
    }
}
