package dlrepo.views;

import dlrepo.http.PageRenderer;
import dlrepo.http.Responses;
import io.undertow.server.HttpServerExchange;
import java.util.HashMap;
import java.util.Map;

/**
 * One level's view data, answered as JSON (the API, unchanged) or rendered as a page for a
 * browser: the page's template gets the JSON model as {@code model}, and whatever only a
 * page shows beside it.
 */
final class View {
    private View() {
    }

    /** {@code json} as JSON, or the page {@code template} for a browser. */
    static void send(HttpServerExchange ex, String template, Object json, Map<String, Object> pageOnly) {
        PageRenderer pages = PageRenderer.of(ex);
        if (pages == null || !Responses.wantsHtml(ex)) {
            Responses.json(ex, json);
            return;
        }
        Map<String, Object> values = new HashMap<>(pageOnly);
        values.put("model", json);
        Responses.html(ex, 200, pages.render(ex, template, values));
    }

    static void send(HttpServerExchange ex, String template, Object json) {
        send(ex, template, json, Map.of());
    }
}
