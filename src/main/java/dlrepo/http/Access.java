package dlrepo.http;

import dlrepo.fs.ProductAccess;
import io.undertow.server.HttpServerExchange;

/**
 * Access control as the handlers see it: every request is checked against its canonical
 * path before it is answered, and listings show only what the caller may read.
 */
public interface Access {
    /** Throws 401 (anonymous) or 403 unless the caller may do this request on {@code path}. */
    void check(HttpServerExchange ex, String path);

    /** Whether the caller may read {@code path}. */
    boolean canRead(HttpServerExchange ex, String path);

    /** Whether the caller may add (upload, push) under {@code path}. */
    boolean canAdd(HttpServerExchange ex, String path);

    /**
     * What every decision of this class about the caller depends on (equal values: the
     * same answers): a listing computed for one caller may be served to another with an
     * equal viewer.
     */
    Object viewer(HttpServerExchange ex);

    /**
     * The {@link #viewer} of the caller of a request not yet identified, if it can be told
     * at once without blocking (anonymous, or credentials checked a moment ago); else null.
     */
    Object knownViewer(HttpServerExchange ex);

    /** The caller's rights as the product tree needs them. */
    default ProductAccess products(HttpServerExchange ex) {
        return path -> canAdd(ex, path);
    }

    /**
     * The refusal {@link #check} gives a caller who may not read {@code path} (401 or 403
     * naming that path), for a path the caller spelled whose target it may not read.
     */
    HttpError readRefusal(HttpServerExchange ex, String path);

    /** No access control ({@code DLREPO_AUTH_DISABLED=1}). */
    Access ALLOW_ALL = new Access() {
        @Override
        public void check(HttpServerExchange ex, String path) {
        }

        @Override
        public boolean canRead(HttpServerExchange ex, String path) {
            return true;
        }

        @Override
        public boolean canAdd(HttpServerExchange ex, String path) {
            return true;
        }

        @Override
        public HttpError readRefusal(HttpServerExchange ex, String path) {
            return new HttpError(403, "May not read " + path);
        }

        @Override
        public Object viewer(HttpServerExchange ex) {
            return "everybody";
        }

        @Override
        public Object knownViewer(HttpServerExchange ex) {
            return "everybody";
        }
    };
}
