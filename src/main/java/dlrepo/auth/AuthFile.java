package dlrepo.auth;

import dlrepo.fs.Names;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The users of {@code DLREPO_AUTH_FILE}: lines {@code login:password:group1 group2}, where
 * the password may contain ':' (the login ends at the first one, the groups start after
 * the last one); blank lines and {@code #} comments are skipped. A login that is not a
 * valid user name, and logins that differ only in case (they would share one user
 * repository), are ignored and logged.
 */
public final class AuthFile {
    private static final Logger LOG = LoggerFactory.getLogger(AuthFile.class);

    record User(String password, Set<String> groups) {
        /** Whether the password is stored in a form that is fast to check (clear text, SHA-256). */
        boolean fast() {
            return Passwords.cost(password).equals("fast");
        }
    }

    private final Map<String, User> users;
    private final String dummyPassword;

    private AuthFile(Map<String, User> users) {
        this.users = users;
        this.dummyPassword = Passwords.dummy(typicalCost(users));
    }

    public static AuthFile empty() {
        return new AuthFile(Map.of());
    }

    /** Reads the file; a missing file means no users (logged). */
    public static AuthFile load(Path file) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            LOG.warn("{} does not exist: no user can log in with a password", file);
            return empty();
        }
        Map<String, User> users = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int first = line.indexOf(':');
            int last = line.lastIndexOf(':');
            if (first <= 0 || last == first) {
                LOG.warn("{}:{}: expected login:password:groups, line ignored", file, i + 1);
                continue;
            }
            String login = line.substring(0, first);
            String why = LoginName.problem(login);
            if (why != null) {
                LOG.warn("{}:{}: the login is not a valid user name, line ignored: {}", file, i + 1, why);
                continue;
            }
            Set<String> groups = new LinkedHashSet<>();
            for (String g : line.substring(last + 1).split("[\\s,]+")) {
                if (!g.isEmpty()) {
                    groups.add(g);
                }
            }
            users.put(login, new User(line.substring(first + 1, last), groups));
        }
        Map<String, Set<String>> byName = new TreeMap<>();
        for (String login : users.keySet()) {
            byName.computeIfAbsent(Names.canonical(login), k -> new TreeSet<>()).add(login);
        }
        byName.forEach((name, logins) -> {
            if (logins.size() > 1) {
                LOG.warn("{}: the logins {} differ only in case and would share the user repository /~{}/: "
                        + "none of them may log in", file, String.join(", ", logins), name);
                users.keySet().removeAll(logins);
            }
        });
        return new AuthFile(Map.copyOf(users));
    }

    /** The most common cost of the file's hashed password fields, "fast" if there are none. */
    private static String typicalCost(Map<String, User> users) {
        Map<String, Long> counts = users.values().stream()
                .collect(Collectors.groupingBy(u -> Passwords.cost(u.password()), Collectors.counting()));
        return counts.entrySet().stream()
                .max(Comparator.<Map.Entry<String, Long>, Boolean>comparing(e -> !e.getKey().equals("fast"))
                        .thenComparingLong(Map.Entry::getValue)
                        .thenComparing(Map.Entry::getKey))
                .map(Map.Entry::getKey).orElse("fast");
    }

    User user(String login) {
        return users.get(login);
    }

    /**
     * A password field of the file's typical hashed cost for a password nobody knows: an
     * unknown login (or one with a clear-text password) is also checked against it, so that
     * it takes as long as a known one with a hashed password.
     */
    String dummyPassword() {
        return dummyPassword;
    }

    public int size() {
        return users.size();
    }
}
