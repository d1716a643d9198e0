package dlrepo.http;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;

/** The login of the caller, set by authentication; "-" for anonymous. */
public final class RequestUser {
    public static final AttachmentKey<String> KEY = AttachmentKey.create(String.class);

    private RequestUser() {
    }

    public static String of(HttpServerExchange ex) {
        String u = ex.getAttachment(KEY);
        return u == null ? "-" : u;
    }
}
