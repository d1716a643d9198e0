package dlrepo.views;

import dlrepo.http.PageRenderer;
import dlrepo.http.RequestUser;
import dlrepo.http.Responses;
import dlrepo.http.Router;
import io.pebbletemplates.pebble.PebbleEngine;
import io.pebbletemplates.pebble.error.PebbleException;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTML pages: the templates of {@code templates/} (and their overrides in
 * {@code DLREPO_TEMPLATES_DIR}) rendered by Pebble, which escapes every value unless a
 * template says otherwise. Every page gets {@code crumbs} (the path from the home page
 * to it), {@code user} (the caller's login, or "-") and {@code base_url} (where clients
 * reach this server: {@code DLREPO_PUBLIC_URL}, else the scheme and host of the request).
 */
public final class Pages implements PageRenderer {
    private static final Logger LOG = LoggerFactory.getLogger(Pages.class);

    private final TemplateLoader loader;
    private final PebbleEngine engine;
    private final Optional<String> publicUrl;

    public Pages(Optional<Path> templatesDir, Optional<String> publicUrl) {
        this.publicUrl = publicUrl.map(u -> u.replaceAll("/+$", ""));
        this.loader = new TemplateLoader(templatesDir);
        this.engine = new PebbleEngine.Builder().loader(loader).extension(new PageFilters()).autoEscaping(true)
                .strictVariables(false).newLineTrimming(false).build();
        templatesDir.ifPresent(this::checkOverrides);
    }

    /**
     * Compiles each override once at start-up: a broken one is one ERROR line with its file
     * and line, and the built-in template is used instead.
     */
    private void checkOverrides(Path dir) {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".html")).sorted().toList();
        } catch (IOException e) {
            LOG.error("DLREPO_TEMPLATES_DIR={}: cannot list it ({}); the built-in templates are used", dir,
                    e.getMessage());
            return;
        }
        for (Path p : files) {
            String name = p.getFileName().toString();
            name = name.substring(0, name.length() - ".html".length());
            if (loader.override(name).isEmpty()) {
                continue;
            }
            try {
                engine.getTemplate(name);
                LOG.info("DLREPO_TEMPLATES_DIR: {} replaces the built-in template", p);
            } catch (PebbleException e) {
                LOG.error("DLREPO_TEMPLATES_DIR: {}:{}: {}; the built-in template is used", p,
                        e.getLineNumber() == null ? "?" : e.getLineNumber(), e.getPebbleMessage());
                loader.markBroken(name);
            } catch (RuntimeException e) {
                LOG.error("DLREPO_TEMPLATES_DIR: {}: {}; the built-in template is used", p, e.getMessage());
                loader.markBroken(name);
            }
        }
        engine.getTemplateCache().invalidateAll();
    }

    @Override
    public byte[] render(HttpServerExchange ex, String template, Map<String, Object> values) {
        Map<String, Object> context = new HashMap<>(values);
        context.putIfAbsent("crumbs", crumbs(Responses.rawPath(ex)));
        context.put("user", RequestUser.of(ex));
        context.put("dlrepo_version", dlrepo.Version.get());
        context.put("base_url", publicUrl.orElseGet(() -> ex.getRequestScheme() + "://" + ex.getHostAndPort()));
        StringWriter out = new StringWriter();
        try {
            engine.getTemplate(template).evaluate(out, context);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** One crumb per segment of the path: its decoded name and its URL. */
    static List<Map<String, String>> crumbs(String rawPath) {
        List<Map<String, String>> crumbs = new ArrayList<>();
        StringBuilder url = new StringBuilder("/");
        for (String seg : rawPath.split("/")) {
            if (seg.isEmpty()) {
                continue;
            }
            url.append(seg).append('/');
            String name;
            try {
                name = Router.decode(seg);
            } catch (RuntimeException e) {
                name = seg;
            }
            crumbs.add(Map.of("name", name, "url", url.toString()));
        }
        return crumbs;
    }
}
