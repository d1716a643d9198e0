package dlrepo.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The ACL files of {@code DLREPO_ACLS_DIR}: one per group, named after it. */
public final class Acls {
    private static final Logger LOG = LoggerFactory.getLogger(Acls.class);

    /** An ACL file that cannot be read or has a line that cannot be parsed. */
    public static final class BrokenAcl extends IOException {
        private static final long serialVersionUID = 1L;

        BrokenAcl(String message) {
            super(message);
        }
    }

    private final Map<String, List<AclRule>> rules;

    private Acls(Map<String, List<AclRule>> rules) {
        this.rules = rules;
    }

    public static Acls load(Path dir) throws IOException {
        Map<String, List<AclRule>> rules = new HashMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path file : ds) {
                String group = file.getFileName().toString();
                if (group.startsWith(".") || !Files.isRegularFile(file)) {
                    continue;
                }
                rules.put(group, parse(file));
            }
        }
        return new Acls(Map.copyOf(rules));
    }

    private static List<AclRule> parse(Path file) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BrokenAcl(file + ": " + e.getMessage());
        }
        List<AclRule> list = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            try {
                list.add(AclRule.parse(line));
            } catch (AclRule.Ignored e) {
                LOG.warn("{}:{}: line ignored: {}", file, i + 1, e.getMessage());
            } catch (AclRule.BadRule e) {
                throw new BrokenAcl(file + ":" + (i + 1) + ": " + e.getMessage());
            }
        }
        return List.copyOf(list);
    }

    /** Whether a line of one of the caller's groups grants {@code op} on {@code path}. */
    public boolean allows(Identity who, Operation op, String path) {
        for (String group : who.groups()) {
            for (AclRule r : rules.getOrDefault(group, List.of())) {
                if (r.grants(op, path, who.login())) {
                    return true;
                }
            }
        }
        return false;
    }
}
