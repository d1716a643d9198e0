package dlrepo.http;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import java.util.Map;

/**
 * Renders the HTML pages (the views' templates). Attached to each exchange by the
 * {@link Dispatcher}, so that the machinery here (error pages) renders without knowing
 * the template engine.
 */
public interface PageRenderer {
    AttachmentKey<PageRenderer> KEY = AttachmentKey.create(PageRenderer.class);

    /** The page {@code template} with {@code values}, for the request {@code ex}. */
    byte[] render(HttpServerExchange ex, String template, Map<String, Object> values);

    /** The renderer of {@code ex}, or null (then errors are plain pages). */
    static PageRenderer of(HttpServerExchange ex) {
        return ex.getAttachment(KEY);
    }
}
