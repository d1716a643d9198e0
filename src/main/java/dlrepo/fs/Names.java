package dlrepo.fs;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * The rules for every name of the tree (branch, tag, job, format, product levels, user)
 * and for relative file paths below a format. Nothing that breaks them reaches the disk.
 */
public final class Names {
    /** Read-only tag (and product version) names resolved by creation time. */
    public static final Set<String> ALIASES = Set.of("latest", "stable", "oldstable");

    private static final int MAX_NAME_BYTES = 255;

    private Names() {
    }

    /** The canonical (lowercase) form of a name. */
    public static String canonical(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

    public static boolean isAlias(String name) {
        return ALIASES.contains(canonical(name));
    }

    /** Throws a 400-kind error unless {@code name} may be a name of the tree. */
    public static String check(String what, String name) {
        String why = problem(name);
        if (why != null) {
            throw RepoException.badRequest("Invalid " + what + " name '" + printable(name) + "': " + why);
        }
        return name;
    }

    /** Validates and lowercases. */
    public static String checkCanonical(String what, String name) {
        return canonical(check(what, name));
    }

    /**
     * Validates a relative path below a format: segments separated by '/', none of them
     * empty, '.', '..' or starting with '.' (those names are reserved).
     */
    public static String checkRelPath(String path) {
        if (path.isEmpty()) {
            throw RepoException.badRequest("Empty file path");
        }
        if (path.startsWith("/")) {
            throw RepoException.badRequest("Invalid file path '" + printable(path) + "': absolute");
        }
        for (String segment : path.split("/", -1)) {
            String why = problem(segment);
            if (why != null) {
                throw RepoException.badRequest("Invalid file path '" + printable(path) + "': " + why);
            }
        }
        return path;
    }

    private static String problem(String name) {
        if (name == null || name.isEmpty()) {
            return "empty name";
        }
        if (name.equals(".") || name.equals("..")) {
            return "'" + name + "' is not allowed";
        }
        if (name.startsWith(".")) {
            return "names starting with '.' are reserved";
        }
        if (name.indexOf('/') >= 0) {
            return "'/' is not allowed";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return "control characters are not allowed";
            }
            if (Character.isSurrogate(c) && !(Character.isHighSurrogate(c) && i + 1 < name.length()
                    && Character.isLowSurrogate(name.charAt(++i)))) {
                return "invalid unicode";
            }
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            return "longer than " + MAX_NAME_BYTES + " bytes";
        }
        return null;
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(300).forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\x%02x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }
}
