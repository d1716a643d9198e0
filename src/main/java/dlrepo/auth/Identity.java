package dlrepo.auth;

import java.util.Set;

/** Who is calling: a login and its groups, or the anonymous caller (group ANONYMOUS). */
public record Identity(String login, Set<String> groups) {
    public static final String ANONYMOUS_GROUP = "ANONYMOUS";
    public static final Identity ANONYMOUS = new Identity(null, Set.of(ANONYMOUS_GROUP));

    public Identity {
        groups = Set.copyOf(groups);
    }

    public boolean isAnonymous() {
        return login == null;
    }
}
