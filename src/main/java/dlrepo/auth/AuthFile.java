package dlrepo.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The users of {@code DLREPO_AUTH_FILE}: lines {@code login:password:group1 group2}, where
 * the password may contain ':' (the login ends at the first one, the groups start after
 * the last one); blank lines and {@code #} comments are skipped.
 */
public final class AuthFile {
    private static final Logger LOG = LoggerFactory.getLogger(AuthFile.class);

    record User(String password, Set<String> groups) {
    }

    private final Map<String, User> users;

    private AuthFile(Map<String, User> users) {
        this.users = users;
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
            Set<String> groups = new LinkedHashSet<>();
            for (String g : line.substring(last + 1).split("[\\s,]+")) {
                if (!g.isEmpty()) {
                    groups.add(g);
                }
            }
            users.put(line.substring(0, first), new User(line.substring(first + 1, last), groups));
        }
        return new AuthFile(Map.copyOf(users));
    }

    User user(String login) {
        return users.get(login);
    }

    public int size() {
        return users.size();
    }
}
