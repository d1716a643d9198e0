package dlrepo.publish;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/** The login and password of DLREPO_PUBLISH_AUTH, read at each run (a new password needs no restart). */
final class Credentials {
    private final String login;
    private final String password;

    private Credentials(String login, String password) {
        this.login = login;
        this.password = password;
    }

    /** The first line of {@code file}, {@code login:password}. */
    static Credentials read(Path file) throws PublishException {
        String line;
        try {
            line = Files.readAllLines(file, StandardCharsets.UTF_8).stream().findFirst().orElse("").strip();
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new PublishException("DLREPO_PUBLISH_AUTH=" + file + ": cannot read it: " + e.getMessage(), e);
        }
        int colon = line.indexOf(':');
        if (colon < 1) {
            throw new PublishException("DLREPO_PUBLISH_AUTH=" + file + ": its first line must be login:password");
        }
        return new Credentials(line.substring(0, colon), line.substring(colon + 1));
    }

    String login() {
        return login;
    }

    /** The value of a preemptive {@code Authorization} header. */
    String header() {
        return "Basic " + Base64.getEncoder().encodeToString((login + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return login + ":********";
    }
}
