package dlrepo.publish;

import java.io.IOException;

/** A publication step failed; the message is what the tag's status shows after {@code error: }. */
public class PublishException extends IOException {
    private static final long serialVersionUID = 1L;

    public PublishException(String message) {
        super(message);
    }

    public PublishException(String message, Throwable cause) {
        super(message, cause);
    }
}
