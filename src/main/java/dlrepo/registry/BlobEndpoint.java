package dlrepo.registry;

import dlrepo.fs.Digest;
import dlrepo.fs.Storage;
import dlrepo.http.FileSender;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Methods;
import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code /v2/<name>/blobs/<digest>}: a blob the caller may reach through that image
 * ({@link ImageContent}), served zero-copy with Range support; any other digest is
 * unknown. A HEAD, which clients send before pushing a layer, also protects the blob
 * until the manifest that uses it arrives.
 */
final class BlobEndpoint {
    private final Storage storage;
    private final FileSender sender;
    private final ImageContent content;

    BlobEndpoint(Storage storage, FileSender sender, ImageContent content) {
        this.storage = storage;
        this.sender = sender;
        this.content = content;
    }

    void handle(HttpServerExchange ex, ImageName image, String ref) throws IOException {
        RegistryHandler.requireRead(ex.getRequestMethod().toString());
        Digest d = ManifestEndpoint.digest(ref);
        Path file = content.blob(ex, image, d).orElseThrow(() -> RegistryError.blobUnknown(ref));
        if (ex.getRequestMethod().equals(Methods.HEAD)) {
            if (storage.blobs().probe(d).isEmpty()) {
                throw RegistryError.blobUnknown(ref);
            }
        }
        ex.getResponseHeaders().put(ManifestEndpoint.CONTENT_DIGEST, d.toString());
        try {
            sender.send(ex, file, d);
        } catch (dlrepo.http.HttpError e) {
            if (e.status() == 404) {
                throw RegistryError.blobUnknown(ref);
            }
            throw e;
        }
    }
}
