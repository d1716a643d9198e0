package dlrepo.http;

import java.util.Map;

/** An error answer: status code, message for the client, optional extra headers. */
public final class HttpError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String code;
    private final transient Map<String, String> headers;

    public HttpError(int status, String message) {
        this(status, message, Map.of());
    }

    public HttpError(int status, String message, Map<String, String> headers) {
        this(status, null, message, headers);
    }

    /** An error with a machine-readable code (the registry's error codes). */
    public HttpError(int status, String code, String message, Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.headers = headers;
    }

    /** The error code, or null when the status says it all. */
    public String code() {
        return code;
    }

    public int status() {
        return status;
    }

    public Map<String, String> headers() {
        return headers;
    }

    public static HttpError badRequest(String message) {
        return new HttpError(400, message);
    }

    public static HttpError notFound(String message) {
        return new HttpError(404, message);
    }

    public static HttpError methodNotAllowed(String method, String allowed) {
        return new HttpError(405, "Method " + method + " not allowed here (allowed: " + allowed + ")",
                Map.of("Allow", allowed));
    }
}
