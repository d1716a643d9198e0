package dlrepo.auth;

import java.util.Set;

/** Who is calling: a login and its groups, or the anonymous caller (group ANONYMOUS). */
public record Identity(String login, Set<String> groups) {
    public static final String ANONYMOUS_GROUP = "ANONYMOUS";
    public static final Identity ANONYMOUS = new Identity(null, Set.of(ANONYMOUS_GROUP));

    public Identity {
        // $user and /~<user>/ take the login as a name: never one that is not a valid name
        if (login != null && LoginName.problem(login) != null) {
            throw new IllegalArgumentException("not a valid user name");
        }
        groups = Set.copyOf(groups);
    }

    public boolean isAnonymous() {
        return login == null;
    }
}
