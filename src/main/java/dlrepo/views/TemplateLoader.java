package dlrepo.views;

import io.pebbletemplates.pebble.error.LoaderException;
import io.pebbletemplates.pebble.loader.Loader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds a template: in {@code DLREPO_TEMPLATES_DIR} first (unless that file was found
 * broken at start-up), then among the built-in ones ({@code templates/} in the jar). A
 * name starting with {@code builtin/} is always the built-in one, so an override can
 * extend the template it replaces ({@code {% extends "builtin/base" %}}).
 */
final class TemplateLoader implements Loader<String> {
    static final String BUILTIN = "builtin/";

    private final Optional<Path> dir;
    private final Set<String> broken = ConcurrentHashMap.newKeySet();

    TemplateLoader(Optional<Path> dir) {
        this.dir = dir;
    }

    /** The override of {@code name}, if there is a usable one. */
    Optional<Path> override(String name) {
        if (dir.isEmpty() || name.startsWith(BUILTIN) || broken.contains(name) || !valid(name)) {
            return Optional.empty();
        }
        Path p = dir.get().resolve(name + ".html");
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }

    void markBroken(String name) {
        broken.add(name);
    }

    private static boolean valid(String name) {
        return name.matches("[a-z0-9_-]+(/[a-z0-9_-]+)*");
    }

    private static String builtinName(String name) {
        return name.startsWith(BUILTIN) ? name.substring(BUILTIN.length()) : name;
    }

    @Override
    public Reader getReader(String key) {
        String name = key.substring(key.indexOf(':') + 1);
        try {
            if (key.startsWith("file:")) {
                Path p = override(name).orElseThrow(() -> new LoaderException(null, "no template " + name));
                return new StringReader(Files.readString(p, StandardCharsets.UTF_8));
            }
            String b = builtinName(name);
            InputStream in = valid(b) ? TemplateLoader.class.getResourceAsStream("/templates/" + b + ".html") : null;
            if (in == null) {
                throw new LoaderException(null, "no template " + name);
            }
            return new InputStreamReader(in, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new LoaderException(e, "cannot read template " + name);
        }
    }

    @Override
    public String createCacheKey(String name) {
        return (override(name).isPresent() ? "file:" : "builtin:") + name;
    }

    @Override
    public boolean resourceExists(String name) {
        return override(name).isPresent()
                || TemplateLoader.class.getResource("/templates/" + builtinName(name) + ".html") != null;
    }

    @Override
    public String resolveRelativePath(String relativePath, String anchorPath) {
        return relativePath;
    }

    @Override
    public void setSuffix(String suffix) {
    }

    @Override
    public void setPrefix(String prefix) {
    }

    @Override
    public void setCharset(String charset) {
    }
}
