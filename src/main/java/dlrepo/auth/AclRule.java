package dlrepo.auth;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One line of an ACL file: {@code <access> <glob> [<glob>...]}. It grants a request when
 * its letters allow the operation, every positive glob matches the whole path and no
 * negated ({@code !}) glob does. Globs: {@code **} anything, {@code *} anything but '/',
 * {@code ?} one character but '/'; a glob starting with {@code ~} is a regular expression
 * anchored at the start; {@code $user} stands for the caller's login.
 */
final class AclRule {
    /** A line that cannot be parsed at all (invalid regular expression, no glob). */
    static final class BadRule extends Exception {
        private static final long serialVersionUID = 1L;

        BadRule(String message) {
            super(message);
        }
    }

    /** A line that is skipped on purpose (no 'r', unknown letters). */
    static final class Ignored extends Exception {
        private static final long serialVersionUID = 1L;

        Ignored(String message) {
            super(message);
        }
    }

    private record Glob(String source, boolean regex, boolean negated) {
        boolean perUser() {
            return source.contains("$user");
        }
    }

    private final Set<Operation> operations;
    private final List<Glob> globs;
    private final Map<String, Pattern> compiled = new ConcurrentHashMap<>();

    private AclRule(Set<Operation> operations, List<Glob> globs) {
        this.operations = operations;
        this.globs = globs;
    }

    static AclRule parse(String line) throws BadRule, Ignored {
        String[] tokens = line.strip().split("\\s+");
        if (tokens.length < 2) {
            throw new BadRule("expected '<access> <glob> [<glob>...]'");
        }
        Set<Operation> ops = EnumSet.noneOf(Operation.class);
        for (char c : tokens[0].toCharArray()) {
            switch (c) {
                case 'r' -> ops.add(Operation.READ);
                case 'a' -> ops.add(Operation.ADD);
                case 'd' -> ops.add(Operation.DELETE);
                case 'u' -> ops.add(Operation.UPDATE);
                case 'w' -> ops.addAll(EnumSet.of(Operation.ADD, Operation.DELETE, Operation.UPDATE));
                case 'o' -> {
                    // accepted and ignored, so that the old "ro"/"rw" forms keep working
                }
                default -> throw new Ignored("unknown access letter '" + c + "'");
            }
        }
        if (!ops.contains(Operation.READ)) {
            throw new Ignored("no 'r' in '" + tokens[0] + "'");
        }
        List<Glob> globs = new ArrayList<>();
        for (int i = 1; i < tokens.length; i++) {
            String t = tokens[i];
            boolean negated = t.startsWith("!");
            if (negated) {
                t = t.substring(1);
            }
            boolean regex = t.startsWith("~");
            if (regex) {
                t = t.substring(1);
            }
            if (t.isEmpty()) {
                throw new BadRule("empty glob");
            }
            Glob g = new Glob(t, regex, negated);
            if (!g.perUser()) {
                try {
                    compile(g, null);
                } catch (PatternSyntaxException e) {
                    throw new BadRule("invalid regular expression '" + t + "': " + e.getDescription());
                }
            } else if (regex) {
                try {
                    compile(g, "user");
                } catch (PatternSyntaxException e) {
                    throw new BadRule("invalid regular expression '" + t + "': " + e.getDescription());
                }
            }
            globs.add(g);
        }
        return new AclRule(ops, List.copyOf(globs));
    }

    boolean grants(Operation op, String path, String login) {
        if (!operations.contains(op)) {
            return false;
        }
        for (Glob g : globs) {
            if (g.perUser() && login == null) {
                // $user never matches for the anonymous caller
                if (!g.negated()) {
                    return false;
                }
                continue;
            }
            String user = g.perUser() ? login.toLowerCase(Locale.ROOT) : null;
            Pattern p = compiled.computeIfAbsent(g.source() + "\u0000" + g.regex() + "\u0000" + user,
                    k -> compile(g, user));
            boolean match = g.regex() ? p.matcher(path).lookingAt() : p.matcher(path).matches();
            if (match == g.negated()) {
                return false;
            }
        }
        return true;
    }

    private static Pattern compile(Glob g, String user) {
        if (g.regex()) {
            String src = user == null ? g.source() : g.source().replace("$user", Pattern.quote(user));
            return Pattern.compile(src);
        }
        // the login is literal: a login like "a*" must not act as a glob
        String src = g.source();
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < src.length(); i++) {
            char c = src.charAt(i);
            if (user != null && src.startsWith("$user", i)) {
                re.append(Pattern.quote(user));
                i += "$user".length() - 1;
            } else if (c == '*' && i + 1 < src.length() && src.charAt(i + 1) == '*') {
                re.append(".*");
                i++;
            } else if (c == '*') {
                re.append("[^/]*");
            } else if (c == '?') {
                re.append("[^/]");
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }
}
