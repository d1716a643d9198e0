package dlrepo.fs;

/**
 * A request the storage model refuses. The kind says which; the HTTP layer maps it to a
 * status code, the message is shown to the client as is.
 */
public final class RepoException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public enum Kind {
        /** bad input or an operation the current state forbids (locked, released, dirty...) */
        BAD_REQUEST,
        NOT_FOUND,
        /** a digest that is malformed or does not match the data */
        BAD_DIGEST,
        QUOTA_EXCEEDED,
        POST_PROCESS_FAILED,
        /** the caller's rights do not cover a consequence of the request (joining a product) */
        FORBIDDEN,
        /** the request would undo what a locked level holds */
        CONFLICT,
    }

    private final Kind kind;

    public RepoException(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static RepoException badRequest(String message) {
        return new RepoException(Kind.BAD_REQUEST, message);
    }

    public static RepoException notFound(String message) {
        return new RepoException(Kind.NOT_FOUND, message);
    }
}
