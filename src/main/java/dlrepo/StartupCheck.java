package dlrepo;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Before the daemon starts: can it use DLREPO_ROOT_DIR? A refusal names the cause in words
 * (permission, a file, a read-only or full file system) and what to do about it, rather
 * than the bare path a {@link FileSystemException} carries as its message.
 */
public final class StartupCheck {
    private StartupCheck() {
    }

    /** A root folder the daemon cannot use; the message is the whole explanation. */
    public static final class RootException extends IOException {
        private static final long serialVersionUID = 1L;

        RootException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Creates the root folder if needed (not for a replica) and writes a 1-byte probe file
     * into it (read-write servers only).
     */
    public static void root(Config config) throws RootException {
        Path dir = config.rootDir();
        try {
            if (config.readOnly()) {
                if (!Files.isDirectory(dir)) {
                    if (Files.exists(dir)) {
                        throw new NotDirectoryException(dir.toString());
                    }
                    throw new java.nio.file.NoSuchFileException(dir.toString(), null,
                            "it does not exist (a replica uses the read-write server's root)");
                }
                try (var list = Files.newDirectoryStream(dir)) {
                    list.iterator().hasNext();
                }
                return;
            }
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
            }
            // a new file of an unguessable name, never through a link planted there
            Path probe = dir.resolve(".dlrepo-start-" + Long.toHexString(new java.security.SecureRandom().nextLong()));
            try {
                Files.write(probe, new byte[] {'.'}, java.nio.file.StandardOpenOption.CREATE_NEW,
                        java.nio.file.StandardOpenOption.WRITE, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            } finally {
                Files.deleteIfExists(probe);
            }
        } catch (IOException e) {
            throw new RootException(describe(dir, e), e);
        }
    }

    /**
     * The same checks without creating or writing anything (dlrepo --check-config): the
     * problem, if any.
     */
    public static Optional<String> check(Config config) {
        Path dir = config.rootDir();
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return Optional.empty();
        }
        if (existing.equals(dir) && !Files.isDirectory(dir)) {
            return Optional.of(describe(dir, new NotDirectoryException(dir.toString())));
        }
        if (!existing.equals(dir) && config.readOnly()) {
            return Optional.of("DLREPO_ROOT_DIR=" + dir + ": it does not exist (a replica uses the read-write "
                    + "server's root)");
        }
        if (!Files.isDirectory(existing)) {
            return Optional.of(describe(dir, new NotDirectoryException(existing.toString())));
        }
        if (config.readOnly() ? !Files.isReadable(dir) : !Files.isWritable(existing)) {
            // access(2) says EROFS and EACCES alike: tell them apart by the mount
            if (!config.readOnly() && isReadOnlyMount(existing)) {
                return Optional.of(describe(dir, new FileSystemException(existing.toString(), null,
                        "Read-only file system")));
            }
            return Optional.of(describe(dir, new AccessDeniedException(existing.toString())));
        }
        return Optional.empty();
    }

    private static boolean isReadOnlyMount(Path p) {
        try {
            return Files.getFileStore(p).isReadOnly();
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code DLREPO_ROOT_DIR=<dir>: <cause>. <what to do>} for a failure on or under the root. */
    public static String describe(Path dir, IOException e) {
        String reason = e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : "";
        String text = reason.isEmpty() ? String.valueOf(e.getMessage()) : reason;
        String cause;
        if (e instanceof AccessDeniedException || text.contains("Permission denied")) {
            String user = System.getProperty("user.name", "?");
            cause = "permission denied for user " + user + " (uid " + uid() + "). Give it write access (chown -R "
                    + user + " " + dir + ") or choose another DLREPO_ROOT_DIR (under systemd: ReadWritePaths= in "
                    + "systemctl edit dlrepo)";
        } else if (e instanceof NotDirectoryException || e instanceof FileAlreadyExistsException
                || text.contains("Not a directory")) {
            cause = "it is a file, not a folder";
        } else if (text.contains("Read-only file system")) {
            cause = "read-only file system. Use a writable one, or DLREPO_READ_ONLY=1 for a replica";
        } else if (text.contains("No space left")) {
            cause = "no space left on its file system. Free some (df -h " + dir + ")";
        } else if (e instanceof java.nio.file.NoSuchFileException && reason.isEmpty()) {
            cause = "cannot create it: no such file or folder (" + e.getMessage() + ")";
        } else if (!reason.isEmpty()) {
            cause = reason;
        } else {
            cause = String.valueOf(e.getMessage());
        }
        return "DLREPO_ROOT_DIR=" + dir + ": " + cause;
    }

    /**
     * The first file system failure in the cause chain of {@code t}: a {@link FileSystemException},
     * or a write refused for lack of space or on a read-only file system.
     */
    public static Optional<IOException> fileSystemCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof FileSystemException f) {
                return Optional.of(f);
            }
            if (c instanceof IOException io && io.getMessage() != null
                    && (io.getMessage().contains("No space left") || io.getMessage().contains("Read-only file system"))) {
                return Optional.of(io);
            }
        }
        return Optional.empty();
    }

    private static String uid() {
        try {
            return String.valueOf(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException e) {
            return "?";
        }
    }
}
