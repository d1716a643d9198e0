package dlrepo.views;

import dlrepo.http.Access;
import dlrepo.http.ContentDisposition;
import dlrepo.http.HttpError;
import dlrepo.http.ResponseBody;
import dlrepo.http.Responses;
import dlrepo.http.TarStream;
import dlrepo.http.Target;
import dlrepo.http.Urls;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.Digest;
import dlrepo.fs.Job;
import dlrepo.fs.Names;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code <job>.tar} and {@code <format>.tar}: streamed archives with SHA256SUMS.txt. */
public final class ArchiveHandler implements HttpHandler {
    private enum Level { JOB, FORMAT, VERSION }

    private final Level level;
    private final Access access;

    private ArchiveHandler(Level level, Access access) {
        this.level = level;
        this.access = access;
    }

    /** {@code <job>.tar}: the formats of the job the caller may read. */
    public static ArchiveHandler job(Access access) {
        return new ArchiveHandler(Level.JOB, access);
    }

    public static ArchiveHandler format() {
        return new ArchiveHandler(Level.FORMAT, Access.ALLOW_ALL);
    }

    /** {@code /products/.../<version>.tar}: the formats of every job of the version. */
    public static ArchiveHandler version(Access access) {
        return new ArchiveHandler(Level.VERSION, access);
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        if (!Responses.isRead(ex)) {
            throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD");
        }
        Target t = Target.of(ex);
        List<TarStream.Source> sources = new ArrayList<>();
        if (level == Level.VERSION) {
            List<ArtifactFormat> formats = t.version().formats();
            if (formats.isEmpty()) {
                throw HttpError.notFound("Version " + t.version().name() + " not found");
            }
            for (ArtifactFormat f : formats) {
                if (access.canRead(ex, Urls.versionFormat(t.version(), f))) {
                    addFormat(sources, f, f.name() + "/");
                }
            }
            send(ex, t.version().archivePrefix(), sources, t.version().timestamp());
            return;
        }
        Job job = t.job();
        JobHandler.requireExists(job);
        String prefix = job.archivePrefix();
        if (level == Level.JOB) {
            for (ArtifactFormat f : job.formats()) {
                if (access.canRead(ex, Urls.format(f))) {
                    addFormat(sources, f, f.name() + "/");
                }
            }
        } else {
            ArtifactFormat f = t.format();
            if (!f.exists() || (f.isDirty() && ex.getRequestMethod().equals(Methods.HEAD))) {
                throw HttpError.notFound("Format " + f.name() + " not found" + (f.exists() ? " (not finalized)" : ""));
            }
            prefix += "-" + f.name();
            addFormat(sources, f, "");
        }
        send(ex, prefix, sources, job.timestamp());
    }

    /**
     * The prefix comes from names and from job metadata, which a restored or hand-edited
     * tree may hold unchecked: it is made one valid name (no '/', '\\', control or
     * invisible character, no leading dot) before it names the archive and its members.
     */
    private static void send(HttpServerExchange ex, String rawPrefix, List<TarStream.Source> sources, double mtime)
            throws IOException {
        String prefix = Names.replaceInvalid(rawPrefix);
        TarStream tar = new TarStream(prefix, sources, (long) mtime);
        ex.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/x-tar");
        ex.getResponseHeaders().put(Headers.CONTENT_DISPOSITION, ContentDisposition.attachment(prefix + ".tar"));
        ex.setResponseContentLength(tar.length());
        if (!ex.getRequestMethod().equals(Methods.HEAD)) {
            ResponseBody.send(ex, tar.parts());
        }
    }

    /** The files of {@code f}, but entries of its {@code .digests} that are not valid paths of the tree. */
    private static void addFormat(List<TarStream.Source> sources, ArtifactFormat f, String dir) throws IOException {
        if (!Names.isValid(f.name())) {
            return; // a folder restored by hand
        }
        Map<String, Digest> digests = f.digests();
        for (Map.Entry<String, java.nio.file.Path> e : f.locations(digests.keySet()).entrySet()) {
            sources.add(new TarStream.Source(dir + e.getKey(), e.getValue(), digests.get(e.getKey())));
        }
    }
}
