package dlrepo.views;

import dlrepo.http.FileSender;
import dlrepo.http.HttpError;
import dlrepo.http.PageRenderer;
import dlrepo.http.Responses;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.Digest;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The page of a format folder, or of a folder under it, for a browser: the folder's own
 * {@code index.html} when it has one (a documentation site works at every depth), else
 * its listing: folders first, then files with size, modification date and SHA-256. What
 * is listed comes from the format's recorded digests, like its JSON view; the caller's
 * right to read it was checked on the folder's path by the router.
 */
final class FormatPage {
    static final String INDEX = "index.html";

    private FormatPage() {
    }

    /**
     * Answers a browser asking for folder {@code dir} ("" for the format itself, else
     * {@code a/b}) of {@code f}; {@code json} is the format's JSON view at its root (null
     * below it, where JSON clients get 404). 404 when no file is below {@code dir}.
     */
    static void serve(HttpServerExchange ex, ArtifactFormat f, String dir, Object json, FileSender sender)
            throws IOException {
        SortedMap<String, Digest> digests = f.digests();
        String prefix = dir.isEmpty() ? "" : dir + "/";
        Digest index = digests.get(prefix + INDEX);
        if (index != null) {
            sender.send(ex, f.file(prefix + INDEX), index);
            return;
        }
        PageRenderer pages = PageRenderer.of(ex);
        if (pages == null) {
            throw HttpError.notFound("Not a file: " + dir);
        }
        Map<String, Integer> folders = new TreeMap<>();
        Map<String, Digest> files = new TreeMap<>();
        for (Map.Entry<String, Digest> e : digests.tailMap(prefix).entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                break;
            }
            String rest = e.getKey().substring(prefix.length());
            int slash = rest.indexOf('/');
            if (slash >= 0) {
                folders.merge(rest.substring(0, slash), 1, Integer::sum);
            } else {
                files.put(rest, e.getValue());
            }
        }
        if (!dir.isEmpty() && folders.isEmpty() && files.isEmpty()) {
            throw HttpError.notFound("Folder " + dir + " not found in format " + f.name());
        }
        List<Map<String, Object>> folderRows = new ArrayList<>();
        folders.forEach((name, count) -> folderRows.add(Map.of("name", name, "files", count)));
        List<String> rels = files.keySet().stream().map(n -> prefix + n).toList();
        SortedMap<String, Path> where = f.locations(rels);
        List<Map<String, Object>> fileRows = new ArrayList<>();
        for (Map.Entry<String, Digest> e : files.entrySet()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", e.getKey());
            row.put("sha256", e.getValue().hex());
            Path p = where.get(prefix + e.getKey());
            if (p != null) {
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class,
                            LinkOption.NOFOLLOW_LINKS);
                    if (a.isRegularFile()) {
                        row.put("size", a.size());
                        row.put("mtime", Views.time(a.lastModifiedTime().toMillis() / 1000.0));
                    }
                } catch (IOException missing) {
                    // listed without size and date
                }
            }
            fileRows.add(row);
        }
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("format", f.name());
        values.put("folder", dir);
        values.put("dirty", f.isDirty());
        values.put("internal", f.isInternal());
        values.put("folders", folderRows);
        values.put("files", fileRows);
        if (json != null) {
            View.send(ex, "format", json, values);
        } else {
            values.put("model", Map.of());
            Responses.html(ex, 200, pages.render(ex, "format", values));
        }
    }
}
