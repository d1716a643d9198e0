package dlrepo.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/** Content negotiation, JSON bodies in and out, redirects and error pages. */
public final class Responses {
    static final ObjectMapper JSON = new ObjectMapper()
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .enable(com.fasterxml.jackson.core.JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN);
    private static final int MAX_JSON_BODY = 1 << 20;

    private Responses() {
    }

    /** Browsers ask for HTML; every other client gets JSON. */
    public static boolean wantsHtml(HttpServerExchange ex) {
        String accept = ex.getRequestHeaders().getFirst(Headers.ACCEPT);
        return accept != null && accept.contains("html");
    }

    public static boolean isRead(HttpServerExchange ex) {
        return ex.getRequestMethod().equals(Methods.GET) || ex.getRequestMethod().equals(Methods.HEAD);
    }

    public static void json(HttpServerExchange ex, int status, Object body) {
        // the same URL is a page for browsers: caches must keep the two apart
        ex.getResponseHeaders().put(Headers.VARY, "Accept");
        byte[] data;
        try {
            data = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        send(ex, status, "application/json; charset=utf-8", data);
    }

    public static void json(HttpServerExchange ex, Object body) {
        json(ex, 200, body);
    }

    public static void ok(HttpServerExchange ex) {
        json(ex, 200, Map.of());
    }

    public static void send(HttpServerExchange ex, int status, String contentType, byte[] data) {
        if (status == 200 && ListingCache.answer(ex, contentType, data)) {
            return;
        }
        ex.setStatusCode(status);
        ex.getResponseHeaders().put(Headers.CONTENT_TYPE, contentType);
        ex.setResponseContentLength(data.length);
        if (!ex.getRequestMethod().equals(Methods.HEAD)) {
            ex.getResponseSender().send(ByteBuffer.wrap(data));
        }
    }

    public static void redirect(HttpServerExchange ex, String location) {
        ex.setStatusCode(302);
        ex.getResponseHeaders().put(Headers.LOCATION, location);
        ex.setResponseContentLength(0);
    }

    /** The request path as sent, still percent-encoded, without scheme and authority. */
    public static String rawPath(HttpServerExchange ex) {
        String uri = ex.getRequestURI();
        if (!uri.startsWith("/")) {
            int scheme = uri.indexOf("://");
            if (scheme > 0) {
                int slash = uri.indexOf('/', scheme + 3);
                uri = slash < 0 ? "/" : uri.substring(slash);
            }
        }
        return uri;
    }

    /** Percent-encodes one path segment. */
    public static String encodeSegment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20").replace("%7E", "~");
    }

    /** {@code /a/b/c} from segments, each encoded. */
    public static String path(List<String> segments) {
        StringBuilder b = new StringBuilder();
        for (String s : segments) {
            b.append('/').append(encodeSegment(s));
        }
        return b.toString();
    }

    public static String queryParam(HttpServerExchange ex, String name) {
        Deque<String> d = ex.getQueryParameters().get(name);
        return d == null || d.isEmpty() ? null : d.getFirst();
    }

    /**
     * The request body as a JSON object, which must hold an object under {@code key}
     * ({@code {"tag": {...}}}); anything else is a 400 saying what is wrong.
     */
    public static JsonNode readObject(HttpServerExchange ex, String key) throws IOException {
        byte[] body = readBody(ex);
        JsonNode root;
        try {
            root = body.length == 0 ? null : JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw HttpError.badRequest("Invalid JSON body: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw HttpError.badRequest("Expected a JSON object {\"" + key + "\": {...}}");
        }
        JsonNode inner = root.get(key);
        if (inner == null || !inner.isObject()) {
            throw HttpError.badRequest("Expected a JSON object under \"" + key + "\"");
        }
        return inner;
    }

    private static byte[] readBody(HttpServerExchange ex) throws IOException {
        long declared = ex.getRequestContentLength();
        if (declared > MAX_JSON_BODY) {
            throw new HttpError(413, "JSON body larger than " + MAX_JSON_BODY + " bytes");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        InputStream in = ex.getInputStream();
        int n;
        while ((n = in.read(buf)) != -1) {
            out.write(buf, 0, n);
            if (out.size() > MAX_JSON_BODY) {
                throw new HttpError(413, "JSON body larger than " + MAX_JSON_BODY + " bytes");
            }
        }
        return out.toByteArray();
    }

    /** Boolean field of a request object, or null when absent; 400 if not a boolean. */
    public static Boolean optBoolean(JsonNode obj, String field) {
        JsonNode n = obj.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isBoolean()) {
            throw HttpError.badRequest("Field \"" + field + "\" must be a boolean");
        }
        return n.booleanValue();
    }

    /** Error body: {@code {"error": "..."}} for API clients, a page for browsers. */
    public static void error(HttpServerExchange ex, int status, String message, Map<String, String> headers) {
        headers.forEach((k, v) -> ex.getResponseHeaders().put(new HttpString(k), v));
        if (wantsHtml(ex)) {
            PageRenderer pages = PageRenderer.of(ex);
            byte[] page = null;
            if (pages != null) {
                try {
                    page = pages.render(ex, "error", Map.of("status", status, "message", message));
                } catch (RuntimeException e) {
                    // a broken error template must not hide the error
                }
            }
            if (page == null) {
                String esc = escapeHtml(message);
                page = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + status + "</title></head>"
                        + "<body><h1>" + status + "</h1><p>" + esc + "</p></body></html>\n")
                        .getBytes(StandardCharsets.UTF_8);
            }
            html(ex, status, page);
        } else {
            json(ex, status, Map.of("error", message));
        }
    }

    /**
     * Our own pages: nothing but this origin's styles, images and script may run in them
     * (names and metadata chosen by uploaders are escaped, and this is the second line).
     */
    public static void html(HttpServerExchange ex, int status, byte[] page) {
        ex.getResponseHeaders().put(new HttpString("Content-Security-Policy"), PAGE_POLICY);
        ex.getResponseHeaders().put(new HttpString("X-Content-Type-Options"), "nosniff");
        ex.getResponseHeaders().put(Headers.VARY, "Accept");
        send(ex, status, "text/html; charset=utf-8", page);
    }

    private static final String PAGE_POLICY = "default-src 'none'; style-src 'self'; img-src 'self' data:; "
            + "script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static String escapeHtml(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
