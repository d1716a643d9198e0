package dlrepo.views;

import dlrepo.http.Access;
import dlrepo.http.HttpError;
import dlrepo.http.Responses;
import dlrepo.http.Target;
import dlrepo.http.Urls;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.ProductVersion;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /products/<p>/<v>/<b>/<version>/}: its formats. */
public final class VersionHandler implements HttpHandler {
    private final Access access;

    public VersionHandler(Access access) {
        this.access = access;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        ProductVersion v = Target.of(ex).version();
        List<ArtifactFormat> formats = v.formats();
        if (formats.isEmpty()) {
            throw HttpError.notFound("Version " + v.name() + " not found");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", v.name());
        m.put("artifact_formats", formats.stream().filter(f -> access.canRead(ex, Urls.versionFormat(v, f)))
                .map(ArtifactFormat::name).toList());
        Responses.json(ex, Map.of("version", m));
    }
}
