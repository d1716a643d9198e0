package dlrepo.registry;

import dlrepo.fs.Digest;
import dlrepo.fs.Storage;
import dlrepo.http.FileSender;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Methods;
import java.io.IOException;

/**
 * {@code /v2/<name>/blobs/<digest>}: blobs are global (one store for every image), served
 * zero-copy with Range support. A HEAD, which clients send before pushing a layer, also
 * protects the blob until the manifest that uses it arrives.
 */
final class BlobEndpoint {
    private final Storage storage;
    private final FileSender sender;

    BlobEndpoint(Storage storage, FileSender sender) {
        this.storage = storage;
        this.sender = sender;
    }

    void handle(HttpServerExchange ex, ImageName image, String ref) throws IOException {
        RegistryHandler.requireRead(ex.getRequestMethod().toString());
        Digest d = ManifestEndpoint.digest(ref);
        if (ex.getRequestMethod().equals(Methods.HEAD)) {
            if (storage.blobs().probe(d).isEmpty()) {
                throw RegistryError.blobUnknown(ref);
            }
        }
        ex.getResponseHeaders().put(ManifestEndpoint.CONTENT_DIGEST, d.toString());
        try {
            sender.send(ex, storage.blobs().path(d), d);
        } catch (dlrepo.http.HttpError e) {
            if (e.status() == 404) {
                throw RegistryError.blobUnknown(ref);
            }
            throw e;
        }
    }
}
