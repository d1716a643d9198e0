package dlrepo.http;

import java.io.IOException;

/** A client cut for moving a body slower than {@link MinimumRate}; its connection is closed. */
final class SlowClientException extends IOException {
    private static final long serialVersionUID = 1L;

    SlowClientException(String message) {
        super(message);
    }
}
