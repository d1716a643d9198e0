package dlrepo.views;

import dlrepo.http.Access;
import dlrepo.http.FileSender;
import dlrepo.http.HttpError;
import dlrepo.http.ReadableCopies;
import dlrepo.http.RequestBody;
import dlrepo.http.Responses;
import dlrepo.http.Target;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.Digest;
import dlrepo.fs.Upload;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * {@code .../<f>/<relpath>}: download (GET/HEAD), the dedup probe (HEAD with
 * {@code Digest}) and upload (PUT, streamed body or {@code X-Dlrepo-Link}). A folder is
 * 404 for JSON clients, its page for browsers (see {@link FormatPage}).
 */
public final class ArtifactHandler implements HttpHandler {
    static final HttpString DIGEST = new HttpString("Digest");
    static final HttpString LINK = new HttpString("X-Dlrepo-Link");
    private static final HttpString USER_AGENT = new HttpString("User-Agent");
    /** Agents allowed to write the container format: other dlrepo servers publishing. */
    private static final String SERVER_AGENT = "dlrepo-server/";

    private final FileSender sender;
    private final int chunkSize;
    private final Access access;
    private final ReadableCopies copies;

    public ArtifactHandler(FileSender sender, int chunkSize, Access access, ReadableCopies copies) {
        this.sender = sender;
        this.chunkSize = chunkSize;
        this.access = access;
        this.copies = copies;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        Target t = Target.of(ex);
        switch (ex.getRequestMethod().toString()) {
            case "GET" -> get(ex, t);
            case "HEAD" -> {
                String probe = ex.getRequestHeaders().getFirst(DIGEST);
                if (probe != null) {
                    probe(ex, t, Digest.parse(probe));
                } else {
                    get(ex, t);
                }
            }
            case "PUT" -> put(ex, t);
            default -> throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD, PUT");
        }
    }

    private void get(HttpServerExchange ex, Target t) throws Exception {
        ArtifactFormat f = t.format();
        Path file = f.file(t.relPath());
        if (t.trailingSlash() || Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
            if (!Responses.wantsHtml(ex)) {
                throw HttpError.notFound("Not a file: " + t.relPath());
            }
            // a browser gets the folder's page, at its URL with the slash (relative links)
            if (!t.trailingSlash()) {
                Responses.redirect(ex, Responses.rawPath(ex) + "/");
                return;
            }
            FormatPage.serve(ex, f, t.relPath(), null, sender);
            return;
        }
        var digests = f.digests();
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS) && t.relPath().endsWith(".sha256")) {
            String base = t.relPath().substring(0, t.relPath().length() - ".sha256".length());
            Digest d = digests.get(base);
            if (d != null) {
                String name = base.substring(base.lastIndexOf('/') + 1);
                FileSender.untrusted(ex);
                Responses.send(ex, 200, "text/plain; charset=utf-8",
                        (d.hex() + "  " + name + "\n").getBytes(StandardCharsets.UTF_8));
                return;
            }
        }
        sender.send(ex, file, digests.get(t.relPath()));
    }

    /**
     * The dedup probe: may the caller read this content somewhere? The same 404 whether
     * the blob is missing or only in files the caller may not read; only a 200 protects
     * the blob from the collector.
     */
    private void probe(HttpServerExchange ex, Target t, Digest d) throws Exception {
        t.format().file(t.relPath());
        if (copies.find(ex, d, t.format(), t.relPath()).isEmpty()) {
            throw HttpError.notFound("Blob " + d + " not found");
        }
        OptionalLong size = t.repo().storage().blobs().probe(d);
        if (size.isEmpty()) {
            throw HttpError.notFound("Blob " + d + " not found");
        }
        ex.getResponseHeaders().put(DIGEST, d.toString());
        ex.setResponseContentLength(size.getAsLong());
        ex.setStatusCode(200);
    }

    /** The size of the regular file an upload would replace, else 0. */
    private static long replacedSize(Path file) {
        try {
            var a = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            return a.isRegularFile() ? a.size() : 0;
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    /** A chunk, or less for a smaller body of known length (one read past it sees its end). */
    private int bufferSize(long declared) {
        return declared >= 0 && declared < chunkSize ? (int) declared + 1 : chunkSize;
    }

    private void put(HttpServerExchange ex, Target t) throws Exception {
        ArtifactFormat f = t.format();
        f.file(t.relPath());
        if (t.trailingSlash()) {
            throw HttpError.badRequest("Not a file path (ends with '/'): " + t.relPath() + "/");
        }
        String header = ex.getRequestHeaders().getFirst(DIGEST);
        if (header == null) {
            throw HttpError.badRequest("Missing Digest header (sha256:<hex> of the body)");
        }
        Digest expected = Digest.parse(header);
        String agent = ex.getRequestHeaders().getFirst(USER_AGENT);
        boolean allowContainer = agent != null && agent.startsWith(SERVER_AGENT);
        f.checkWritable(allowContainer);
        String link = ex.getRequestHeaders().getFirst(LINK);
        if (link != null) {
            if (!Digest.parse(link).equals(expected)) {
                throw HttpError.badRequest("X-Dlrepo-Link and Digest headers differ");
            }
            // only content the caller may read somewhere: the same 404 as for a missing blob
            if (copies.find(ex, expected, f, t.relPath()).isEmpty()) {
                throw HttpError.notFound("Blob " + expected + " not found");
            }
            f.link(t.relPath(), expected, allowContainer, access.products(ex));
        } else {
            long declared = ex.getRequestContentLength();
            long replaced = t.repo().quota().isPresent() ? replacedSize(f.file(t.relPath())) : 0;
            if (declared > 0 && t.repo().quota().isPresent()) {
                // refuse before reading the body; counted again as the body streams, and
                // exactly before linking. A replaced file gives its size back.
                t.repo().quota().get().check(declared - replaced);
            }
            try (Upload upload = t.repo().storage().blobs().startUpload()) {
                t.repo().quota().ifPresent(q -> upload.countAgainst(q, replaced, f.file(t.relPath())));
                upload.readFrom(RequestBody.of(ex), ByteBuffer.allocateDirect(bufferSize(declared)));
                Digest actual = upload.finish();
                if (!actual.equals(expected)) {
                    throw new dlrepo.fs.RepoException(dlrepo.fs.RepoException.Kind.BAD_DIGEST,
                            "Received data does not match digest: expected " + expected + ", got " + actual);
                }
                f.put(t.relPath(), upload, allowContainer, access.products(ex));
            }
        }
        ex.setStatusCode(201);
        ex.getResponseHeaders().put(DIGEST, expected.toString());
        Responses.json(ex, 201, java.util.Map.of());
    }
}
