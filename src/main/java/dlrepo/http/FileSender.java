package dlrepo.http;

import dlrepo.fs.Digest;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sends one file: {@code Digest}, {@code ETag} (the digest), {@code If-None-Match},
 * single {@code Range} requests, zero-copy body, or only a header for the reverse proxy
 * when {@code DLREPO_X_SENDFILE_HEADER} is set. Every file is uploaded content, served so
 * that it cannot act as the person viewing it (see {@link #untrusted}), unless the site
 * trusts its uploaders ({@code DLREPO_TRUSTED_UPLOADS}).
 */
public final class FileSender {
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");
    static final HttpString CONTENT_SECURITY_POLICY = new HttpString("Content-Security-Policy");
    static final HttpString CONTENT_TYPE_OPTIONS = new HttpString("X-Content-Type-Options");
    /**
     * A page uploaded by one user and opened by another runs in a unique opaque origin:
     * its requests to the daemon are cross-origin (no access to the answers, methods and
     * headers that need a CORS preflight are never sent, the rest is refused by
     * {@link CrossSiteGuard}), it has no access to the daemon's cookies or storage, and
     * never to the pages of the daemon. What a documentation site needs stays allowed:
     * <ul>
     * <li>allow-scripts: navigation, search, highlighting, rendered math;
     * <li>allow-forms: search boxes (a GET to the site's search page);
     * <li>allow-popups: links with {@code target="_blank"};
     * <li>allow-popups-to-escape-sandbox: a page opened that way (an outside site, the
     *     daemon's own pages) works normally; uploaded files carry this policy again;
     * <li>allow-downloads: links to the release's files.
     * </ul>
     * Not allowed: allow-same-origin (the point), modals, top navigation from frames,
     * pointer lock, presentation.
     */
    static final String SANDBOX = "sandbox allow-scripts allow-forms allow-popups"
            + " allow-popups-to-escape-sandbox allow-downloads";
    private final Optional<String> xSendfileHeader;
    private final boolean trustedUploads;

    /**
     * {@code trustedUploads} ({@code DLREPO_TRUSTED_UPLOADS=1}): files are sent without the
     * sandbox, for sites that trust everyone who may upload (an uploaded page then acts as
     * whoever views it); {@code nosniff} stays.
     */
    public FileSender(Optional<String> xSendfileHeader, boolean trustedUploads) {
        this.xSendfileHeader = xSendfileHeader;
        this.trustedUploads = trustedUploads;
    }

    public FileSender(Optional<String> xSendfileHeader) {
        this(xSendfileHeader, false);
    }

    /**
     * Sends {@code file}; {@code digest} may be null when unknown. A symbolic link is never
     * followed: neither {@code file} nor its folder may be one (the caller vouches for the
     * folders above, see {@code ArtifactFormat.file}), and the file is opened without
     * following a link swapped in meanwhile.
     */
    public void send(HttpServerExchange ex, Path file, Digest digest) throws IOException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attrs.isRegularFile() || Files.isSymbolicLink(file.getParent())) {
                throw HttpError.notFound("File not found");
            }
        } catch (NoSuchFileException e) {
            throw HttpError.notFound("File not found");
        }
        long size = attrs.size();
        if (trustedUploads) {
            ex.getResponseHeaders().put(CONTENT_TYPE_OPTIONS, "nosniff");
        } else {
            untrusted(ex);
        }
        var h = ex.getResponseHeaders();
        h.put(Headers.CONTENT_TYPE, MimeTypes.of(file.getFileName().toString()));
        h.put(Headers.ACCEPT_RANGES, "bytes");
        String etag = null;
        if (digest != null) {
            etag = "\"" + digest.hex() + "\"";
            h.put(Headers.ETAG, etag);
            h.put(new HttpString("Digest"), digest.toString());
        }
        if (etag != null && matches(ex.getRequestHeaders().getFirst(Headers.IF_NONE_MATCH), etag)) {
            ex.setStatusCode(304);
            ex.setResponseContentLength(0);
            return;
        }
        if (xSendfileHeader.isPresent()) {
            h.put(new HttpString(xSendfileHeader.get()),
                    sendfileValue(xSendfileHeader.get(), file.toAbsolutePath().toString()));
            ex.setStatusCode(200);
            ex.setResponseContentLength(0);
            return;
        }
        long start = 0;
        long length = size;
        long[] range = range(ex, etag, size);
        if (range != null) {
            start = range[0];
            length = range[1] - range[0] + 1;
            ex.setStatusCode(206);
            h.put(Headers.CONTENT_RANGE, "bytes " + range[0] + "-" + range[1] + "/" + size);
        }
        ex.setResponseContentLength(length);
        if (ex.getRequestMethod().equals(Methods.HEAD) || length == 0) {
            return;
        }
        ResponseBody.send(ex, List.of(new ResponseBody.FileRegion(file, start, length, size)));
    }

    /**
     * Marks an answer as uploaded content: rendered in a sandbox (see {@link #SANDBOX}),
     * and only as the type the daemon gives it (a file is never sniffed into HTML or script).
     */
    public static void untrusted(HttpServerExchange ex) {
        ex.getResponseHeaders().put(CONTENT_SECURITY_POLICY, SANDBOX);
        ex.getResponseHeaders().put(CONTENT_TYPE_OPTIONS, "nosniff");
    }

    /**
     * The path as the reverse proxy reads it. nginx takes X-Accel-Redirect as a URI: it
     * decodes %XX and cuts at '?', so every byte of the UTF-8 path but unreserved ones and
     * '/' is percent-encoded. Other headers (X-Sendfile) carry the path's UTF-8 bytes as
     * they are (a header value goes out one byte per char).
     */
    static String sendfileValue(String header, String path) {
        byte[] utf8 = path.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (!header.equalsIgnoreCase("X-Accel-Redirect")) {
            return new String(utf8, java.nio.charset.StandardCharsets.ISO_8859_1);
        }
        StringBuilder sb = new StringBuilder(utf8.length + 16);
        for (byte b : utf8) {
            int c = b & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "/-._~".indexOf(c) >= 0) {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return sb.toString();
    }

    /** Whether an If-None-Match header names {@code etag} (or is {@code *}). */
    static boolean matches(String ifNoneMatch, String etag) {
        if (ifNoneMatch == null) {
            return false;
        }
        for (String candidate : ifNoneMatch.split(",")) {
            String c = candidate.strip();
            if (c.startsWith("W/")) {
                c = c.substring(2);
            }
            if (c.equals("*") || c.equals(etag)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The requested byte range {first, last}, or null for the whole file. Unsatisfiable
     * ranges are a 416; multiple ranges and unparsable headers get the whole file.
     */
    private static long[] range(HttpServerExchange ex, String etag, long size) {
        String header = ex.getRequestHeaders().getFirst(Headers.RANGE);
        if (header == null) {
            return null;
        }
        String ifRange = ex.getRequestHeaders().getFirst(Headers.IF_RANGE);
        if (ifRange != null && !ifRange.strip().equals(etag)) {
            return null;
        }
        Matcher m = RANGE.matcher(header.strip());
        if (!m.matches() || (m.group(1).isEmpty() && m.group(2).isEmpty())) {
            return null;
        }
        long first;
        long last;
        try {
            if (m.group(1).isEmpty()) {
                long suffix = Long.parseLong(m.group(2));
                if (suffix == 0) {
                    throw unsatisfiable(size);
                }
                first = Math.max(0, size - suffix);
                last = size - 1;
            } else {
                first = Long.parseLong(m.group(1));
                last = m.group(2).isEmpty() ? size - 1 : Math.min(Long.parseLong(m.group(2)), size - 1);
                if (last < first && !m.group(2).isEmpty() && Long.parseLong(m.group(2)) < first) {
                    return null;
                }
            }
        } catch (NumberFormatException e) {
            return null;
        }
        if (first >= size) {
            throw unsatisfiable(size);
        }
        return new long[] {first, last};
    }

    private static HttpError unsatisfiable(long size) {
        return new HttpError(416, "Requested range not satisfiable",
                java.util.Map.of("Content-Range", "bytes */" + size));
    }
}
