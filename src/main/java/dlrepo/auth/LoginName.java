package dlrepo.auth;

import dlrepo.fs.Names;
import dlrepo.fs.RepoException;

/**
 * A login is also a user name: {@code $user} in the ACLs and the {@code /~<user>/}
 * repository, both in lower case. So a login must be a valid name of the tree (no '/',
 * not '.' or '..', no leading '.', no control characters...) in its own case and in lower
 * case, without blanks around it; otherwise "alice/branches" would match the ACL line
 * {@code rw /~$user/**} on alice's repository.
 */
final class LoginName {
    private LoginName() {
    }

    /** Why {@code login} may not log in (for the log), or null if it may. */
    static String problem(String login) {
        try {
            Names.check("user", login);
            Names.check("user", Names.canonical(login));
        } catch (RepoException e) {
            return e.getMessage();
        }
        if (!login.strip().equals(login)) {
            return "Invalid user name '" + login + "': blanks around it";
        }
        return null;
    }
}
