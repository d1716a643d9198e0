package dlrepo.registry;

import dlrepo.fs.Digest;
import dlrepo.fs.Storage;
import dlrepo.fs.Upload;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code /v2/<name>/blobs/uploads/[<uuid>]}: blob pushes, monolithic ({@code POST ?digest=}),
 * chunked ({@code POST}, {@code PATCH}*, {@code PUT ?digest=}) or mounted from another
 * image ({@code POST ?mount=}: free, blobs are global, but only a blob the caller may
 * reach through the {@code from} image or read elsewhere; otherwise an ordinary upload
 * session). A finished blob waits in the store, protected, for the manifest that links it
 * into a job, and meanwhile can be read through the name it was pushed to.
 */
final class UploadEndpoint {
    private static final HttpString UPLOAD_UUID = new HttpString("Docker-Upload-UUID");
    private static final Pattern CONTENT_RANGE = Pattern.compile("(?:bytes[ =])?(\\d+)-(\\d+)(?:/\\S+)?");

    private final Storage storage;
    private final dlrepo.http.Access access;
    private final ImageContent content;
    private final UploadSessions sessions;
    private final int chunkSize;

    UploadEndpoint(Storage storage, dlrepo.http.Access access, ImageContent content, UploadSessions sessions,
            int chunkSize) {
        this.storage = storage;
        this.access = access;
        this.content = content;
        this.sessions = sessions;
        this.chunkSize = chunkSize;
    }

    /** {@code POST /v2/<name>/blobs/uploads/}. */
    void start(HttpServerExchange ex, ImageName image) throws IOException {
        if (!ex.getRequestMethod().toString().equals("POST")) {
            throw RegistryError.unsupported("Start an upload with POST");
        }
        requireWritable(image);
        String mount = dlrepo.http.Responses.queryParam(ex, "mount");
        String digest = dlrepo.http.Responses.queryParam(ex, "digest");
        content.checkCanPush(ex, image, ManifestEndpoint.digest(mount != null ? mount : digest, null));
        if (mount != null) {
            Digest d = ManifestEndpoint.digest(mount);
            java.util.OptionalLong size = mountable(ex, d, dlrepo.http.Responses.queryParam(ex, "from"))
                    ? storage.blobs().probe(d) : java.util.OptionalLong.empty();
            if (size.isPresent()) {
                content.pushed(ex, image, PendingBlobs.Kind.BLOB, d);
                storage.blobs().linkedByClient(size.getAsLong());
                created(ex, image, d);
                return;
            }
        }
        if (digest != null) {
            Digest expected = ManifestEndpoint.digest(digest);
            if (image.repo().quota().isPresent()) {
                image.repo().quota().get().checkCanHold();
            }
            try (Upload u = storage.blobs().startUpload()) {
                image.repo().quota().ifPresent(q -> u.countAgainst(q, 0, null));
                u.readFrom(dlrepo.http.RequestBody.of(ex), java.nio.ByteBuffer.allocateDirect(chunkSize));
                Digest actual = u.finish();
                if (!actual.equals(expected)) {
                    throw RegistryError.digestInvalid("Received data has digest " + actual + ", not " + expected);
                }
                content.pushed(ex, image, PendingBlobs.Kind.BLOB, actual);
                storage.blobs().store(u.path(), actual);
                holdUnlinked(image, actual, u.size());
            }
            created(ex, image, expected);
            return;
        }
        if (image.repo().quota().isPresent()) {
            image.repo().quota().get().checkCanHold();
        }
        UploadSessions.Session s = sessions.start(image, image.repo().quota(), content.pushGoesOn(ex, image));
        if (ex.getRequestContentLength() > 0 || ex.getRequestHeaders().contains(Headers.TRANSFER_ENCODING)) {
            s.append(ex.getInputStream(), new byte[chunkSize], -1);
        }
        accepted(ex, image, s, 202);
    }

    /** {@code GET|PATCH|PUT|DELETE /v2/<name>/blobs/uploads/<uuid>}. */
    void session(HttpServerExchange ex, ImageName image, String uuid) throws IOException {
        UploadSessions.Session s = sessions.get(image, uuid);
        switch (ex.getRequestMethod().toString()) {
            case "GET", "HEAD" -> accepted(ex, image, s, 204);
            case "PATCH" -> {
                requireWritable(image);
                s.append(ex.getInputStream(), new byte[chunkSize], rangeStart(ex));
                accepted(ex, image, s, 202);
            }
            case "PUT" -> {
                requireWritable(image);
                Digest expected = ManifestEndpoint.digest(dlrepo.http.Responses.queryParam(ex, "digest"));
                Digest actual = s.finish(ex.getInputStream(), new byte[chunkSize], rangeStart(ex));
                try {
                    if (!actual.equals(expected)) {
                        throw RegistryError.digestInvalid("Received data has digest " + actual + ", not " + expected);
                    }
                    content.pushed(ex, image, PendingBlobs.Kind.BLOB, actual);
                    storage.blobs().store(s.file, actual);
                } finally {
                    sessions.remove(s);
                }
                holdUnlinked(image, actual, s.size());
                created(ex, image, actual);
            }
            case "DELETE" -> {
                sessions.remove(s);
                ex.setStatusCode(204);
                ex.setResponseContentLength(0);
            }
            default -> throw RegistryError.unsupported("Method " + ex.getRequestMethod() + " not allowed here");
        }
    }

    /**
     * Whether the caller may have blob {@code d} mounted: it may read the {@code from} image
     * and reach the blob through it, or it may read the blob elsewhere. Otherwise (an
     * invalid or unreadable name included) the client gets an upload session, as the
     * distribution specification allows, and learns nothing.
     */
    private boolean mountable(HttpServerExchange ex, Digest d, String from) throws IOException {
        if (from != null) {
            ImageName source = null;
            try {
                source = ImageName.parse(storage, java.util.Arrays.asList(from.split("/", -1)));
            } catch (dlrepo.http.HttpError | dlrepo.fs.RepoException e) {
                // not an image name: no source
            }
            if (source != null && access.canRead(ex, "/v2/" + source.name() + "/blobs/" + d)
                    && content.blob(ex, source, d).isPresent()) {
                return true;
            }
        }
        return content.readableElsewhere(ex, d);
    }

    /**
     * A blob pushed to a user's image counts against her quota until a manifest links it:
     * blobs that no manifest ever uses cannot fill the disk past the quota.
     */
    private void holdUnlinked(ImageName image, Digest d, long size) {
        if (image.repo().quota().isPresent()) {
            image.repo().quota().get().holdUnlinked(storage.blobs().path(d), size);
        }
    }

    private static void requireWritable(ImageName image) {
        if (!image.writable()) {
            throw RegistryError.denied(image.name() + " is a product image: push to <branch>/<job> instead");
        }
    }

    /** The first byte of a chunk from {@code Content-Range}, or -1 when absent. */
    private static long rangeStart(HttpServerExchange ex) {
        String header = ex.getRequestHeaders().getFirst(Headers.CONTENT_RANGE);
        if (header == null || header.isBlank()) {
            return -1;
        }
        Matcher m = CONTENT_RANGE.matcher(header.strip());
        if (!m.matches()) {
            throw RegistryError.of(416, "BLOB_UPLOAD_INVALID", "Invalid Content-Range " + header);
        }
        return Long.parseLong(m.group(1));
    }

    private static void accepted(HttpServerExchange ex, ImageName image, UploadSessions.Session s, int status) {
        long size = s.size();
        ex.setStatusCode(status);
        ex.getResponseHeaders().put(Headers.LOCATION, "/v2/" + image.name() + "/blobs/uploads/" + s.uuid);
        ex.getResponseHeaders().put(Headers.RANGE, "0-" + Math.max(0, size - 1));
        ex.getResponseHeaders().put(UPLOAD_UUID, s.uuid);
        ex.setResponseContentLength(0);
    }

    private static void created(HttpServerExchange ex, ImageName image, Digest d) {
        ex.setStatusCode(201);
        ex.getResponseHeaders().put(Headers.LOCATION, "/v2/" + image.name() + "/blobs/" + d);
        ex.getResponseHeaders().put(ManifestEndpoint.CONTENT_DIGEST, d.toString());
        ex.setResponseContentLength(0);
    }
}
