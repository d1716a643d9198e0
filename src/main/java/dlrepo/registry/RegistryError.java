package dlrepo.registry;

import dlrepo.http.HttpError;
import java.util.Map;

/** The error codes of the distribution specification, with their status codes. */
final class RegistryError {
    private RegistryError() {
    }

    static HttpError of(int status, String code, String message) {
        return new HttpError(status, code, message, Map.of());
    }

    static HttpError nameUnknown(String name) {
        return of(404, "NAME_UNKNOWN", "Repository " + name + " not found");
    }

    static HttpError nameInvalid(String name, String why) {
        return of(400, "NAME_INVALID", "Invalid repository name " + name + ": " + why);
    }

    static HttpError manifestUnknown(String ref) {
        return of(404, "MANIFEST_UNKNOWN", "Manifest " + ref + " not found");
    }

    static HttpError manifestInvalid(String why) {
        return of(400, "MANIFEST_INVALID", "Invalid manifest: " + why);
    }

    static HttpError manifestBlobUnknown(String digest) {
        return of(400, "MANIFEST_BLOB_UNKNOWN", "Blob " + digest + " referenced by the manifest is unknown");
    }

    static HttpError blobUnknown(String digest) {
        return of(404, "BLOB_UNKNOWN", "Blob " + digest + " not found");
    }

    static HttpError uploadUnknown(String uuid) {
        return of(404, "BLOB_UPLOAD_UNKNOWN", "Upload " + uuid + " not found");
    }

    static HttpError digestInvalid(String why) {
        return of(400, "DIGEST_INVALID", why);
    }

    static HttpError denied(String why) {
        return of(403, "DENIED", why);
    }

    static HttpError unsupported(String why) {
        return of(405, "UNSUPPORTED", why);
    }
}
