package dlrepo.http;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.Digest;
import dlrepo.fs.Job;
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
    private final boolean wholeJob;

    private ArchiveHandler(boolean wholeJob) {
        this.wholeJob = wholeJob;
    }

    public static ArchiveHandler job() {
        return new ArchiveHandler(true);
    }

    public static ArchiveHandler format() {
        return new ArchiveHandler(false);
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        if (!Responses.isRead(ex)) {
            throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD");
        }
        Target t = Target.of(ex);
        Job job = t.job();
        JobHandler.requireExists(job);
        String prefix = job.archivePrefix();
        List<TarStream.Source> sources = new ArrayList<>();
        if (wholeJob) {
            for (ArtifactFormat f : job.formats()) {
                addFormat(sources, f, f.name() + "/");
            }
        } else {
            ArtifactFormat f = t.format();
            if (!f.exists() || (f.isDirty() && ex.getRequestMethod().equals(Methods.HEAD))) {
                throw HttpError.notFound("Format " + f.name() + " not found" + (f.exists() ? " (not finalized)" : ""));
            }
            prefix += "-" + f.name();
            addFormat(sources, f, "");
        }
        TarStream tar = new TarStream(prefix, sources, (long) job.timestamp());
        ex.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/x-tar");
        ex.getResponseHeaders().put(Headers.CONTENT_DISPOSITION, "attachment; filename=\"" + prefix + ".tar\"");
        ex.setResponseContentLength(tar.length());
        if (!ex.getRequestMethod().equals(Methods.HEAD)) {
            BlockingSink sink = new BlockingSink(ex);
            tar.write(sink);
            sink.finish();
        }
    }

    private static void addFormat(List<TarStream.Source> sources, ArtifactFormat f, String dir) throws IOException {
        for (Map.Entry<String, Digest> e : f.digests().entrySet()) {
            sources.add(new TarStream.Source(dir + e.getKey(), f.path().resolve(e.getKey()), e.getValue()));
        }
    }
}
