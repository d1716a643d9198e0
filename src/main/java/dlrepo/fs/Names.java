package dlrepo.fs;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * The rules for every name of the tree (branch, tag, job, format, product levels, user)
 * and for relative file paths below a format. Nothing that breaks them reaches the disk.
 *
 * <p>Besides '/', '.' and '..', a name may not hold what would make it a path elsewhere or
 * make it look like another name: '\' (a folder separator once extracted on Windows),
 * control characters (C0, DEL and C1, where U+0085 is a line break and U+009B starts a
 * terminal escape), the invisible format characters of Unicode category Cf (the bidi
 * controls U+061C, U+200E, U+200F, U+202A-U+202E and U+2066-U+2069, which reorder the
 * text shown around them, but also zero-width spaces and joiners, the soft hyphen, the
 * byte order mark and tag characters, which hide in a name so that two different names
 * look the same), and the line and paragraph separators U+2028/U+2029. The joiners
 * U+200C/U+200D are refused too: they serve some scripts' spelling and emoji sequences,
 * which artifact names can do without, and they are as invisible as the others.
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

    /** Whether {@code name} may be a name of the tree (of a folder found on disk, say). */
    public static boolean isValid(String name) {
        return problem(name) == null;
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
        if (name.indexOf('\\') >= 0) {
            return "'\\' is not allowed";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isSurrogate(c) && !(Character.isHighSurrogate(c) && i + 1 < name.length()
                    && Character.isLowSurrogate(name.charAt(i + 1)))) {
                return "invalid unicode";
            }
            int cp = name.codePointAt(i);
            if (Character.isSupplementaryCodePoint(cp)) {
                i++;
            }
            if (Character.getType(cp) == Character.CONTROL) {
                return "control characters are not allowed";
            }
            if (isInvisible(cp)) {
                return "invisible or bidirectional formatting characters (" + escape(cp) + ") are not allowed";
            }
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            return "longer than " + MAX_NAME_BYTES + " bytes";
        }
        return null;
    }

    /**
     * {@code s} made a valid name, for names built from others (an archive's prefix from
     * job metadata, which a restored tree may hold unchecked): what a name may not contain
     * replaced with '_', and a '_' before a leading dot.
     */
    public static String replaceInvalid(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> b.append(c == '/' || c == '\\' || Character.getType(c) == Character.CONTROL
                || isInvisible(c) || c <= 0xffff && Character.isSurrogate((char) c) ? "_" : Character.toString(c)));
        String name = b.toString();
        return name.isEmpty() || name.startsWith(".") ? "_" + name : name;
    }

    /** Format characters (category Cf) and the line and paragraph separators. */
    private static boolean isInvisible(int cp) {
        int type = Character.getType(cp);
        return type == Character.FORMAT || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR;
    }

    private static String escape(int cp) {
        return cp < 0x100 ? String.format("\\x%02x", cp) : String.format("U+%04X", cp);
    }

    /** {@code s} for an error message: what {@link #problem} refuses is escaped, so that it shows. */
    public static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(300).forEach(c -> {
            if (Character.getType(c) == Character.CONTROL || isInvisible(c) || Character.isSurrogate((char) c)
                    && c <= 0xffff) {
                b.append(escape(c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }
}
