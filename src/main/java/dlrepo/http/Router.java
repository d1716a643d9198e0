package dlrepo.http;

import dlrepo.fs.Branch;
import dlrepo.fs.Names;
import dlrepo.fs.Repository;
import dlrepo.fs.Storage;
import dlrepo.fs.Tag;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.io.ByteArrayOutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The URL table. Decodes the raw path one segment at a time (an encoded '/' stays inside
 * its segment and is refused there), validates every name, answers canonical redirects
 * (case, aliases, trailing slash) and hands the request to the handler of its level with
 * a {@link Target}.
 */
public final class Router implements HttpHandler {
    /** The handlers of each URL level. */
    public record Routes(HttpHandler home, HttpHandler branches, HttpHandler branch, HttpHandler tag,
            HttpHandler job, HttpHandler jobArchive, HttpHandler format, HttpHandler formatFile,
            HttpHandler formatArchive, HttpHandler formatSums, HttpHandler artifact,
            Map<String, HttpHandler> others) {
    }

    private final Storage storage;
    private final Routes routes;

    public Router(Storage storage, Routes routes) {
        this.storage = storage;
        this.routes = routes;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        String raw = Responses.rawPath(ex);
        if (!raw.startsWith("/")) {
            throw HttpError.badRequest("Invalid request path");
        }
        String[] parts = raw.substring(1).split("/", -1);
        boolean slash = raw.length() > 1 && raw.endsWith("/");
        List<String> segs = new ArrayList<>();
        for (int i = 0; i < parts.length; i++) {
            if (parts[i].isEmpty()) {
                if (i == parts.length - 1) {
                    continue;
                }
                throw HttpError.badRequest("Invalid request path: empty segment");
            }
            String s = decode(parts[i]);
            if (s.indexOf('/') >= 0) {
                throw HttpError.badRequest("Invalid request path: encoded '/'");
            }
            if (s.equals(".") || s.equals("..")) {
                throw HttpError.badRequest("Invalid request path: '" + s + "' segment");
            }
            segs.add(s);
        }
        if (segs.isEmpty()) {
            routes.home().handleRequest(ex);
            return;
        }
        Repository repo = storage.repository();
        String area = segs.get(0);
        if (area.equals("branches")) {
            branches(ex, repo, List.of(), segs.subList(1, segs.size()), slash);
            return;
        }
        HttpHandler other = routes.others().get(area);
        if (other != null) {
            other.handleRequest(ex);
            return;
        }
        throw HttpError.notFound("Not found");
    }

    private void branches(HttpServerExchange ex, Repository repo, List<String> prefix, List<String> names,
            boolean slash) throws Exception {
        boolean read = Responses.isRead(ex);
        int depth = names.size();
        String suffix = "";
        List<String> levels = new ArrayList<>(names.subList(0, Math.min(depth, 4)));
        if (!slash && (depth == 3 || depth == 4)) {
            String last = levels.get(depth - 1);
            for (String s : depth == 3 ? List.of(".tar") : List.of(".tar", ".sha256")) {
                if (last.endsWith(s) && last.length() > s.length()) {
                    suffix = s;
                    levels.set(depth - 1, last.substring(0, last.length() - s.length()));
                    break;
                }
            }
        }
        String[] what = {"branch", "tag", "job", "format"};
        List<String> canonical = new ArrayList<>();
        for (int i = 0; i < levels.size(); i++) {
            canonical.add(Names.checkCanonical(what[i], levels.get(i)));
        }
        String relPath = depth > 4 ? String.join("/", names.subList(4, depth)) : null;
        if (relPath != null) {
            Names.checkRelPath(relPath);
        }
        if (canonical.size() >= 2 && Names.isAlias(canonical.get(1))) {
            if (!read) {
                throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD");
            }
            Branch b = repo.branch(canonical.get(0));
            Tag t = b.resolveAlias(canonical.get(1)).orElseThrow(
                    () -> HttpError.notFound("No tag of branch " + b.name() + " matches " + canonical.get(1)));
            canonical.set(1, t.name());
        }
        boolean dirLevel = depth >= 1 && depth <= 3 && suffix.isEmpty();
        if (read && (!canonical.equals(levels) || (dirLevel && !slash) || (depth == 0 && !slash))) {
            List<String> path = new ArrayList<>(prefix);
            path.add("branches");
            path.addAll(canonical);
            String location = Responses.path(path);
            if (depth > 4) {
                location += Responses.path(names.subList(4, depth));
            }
            location += suffix;
            if (slash || dirLevel || depth == 0) {
                location += "/";
            }
            String qs = ex.getQueryString();
            Responses.redirect(ex, qs == null || qs.isEmpty() ? location : location + "?" + qs);
            return;
        }
        Branch branch = depth >= 1 ? repo.branch(canonical.get(0)) : null;
        Tag tag = depth >= 2 ? branch.tag(canonical.get(1)) : null;
        var job = depth >= 3 ? tag.job(canonical.get(2)) : null;
        var format = depth >= 4 ? job.format(canonical.get(3)) : null;
        ex.putAttachment(Target.KEY, new Target(repo, branch, tag, job, format, relPath, slash));
        HttpHandler h = switch (depth) {
            case 0 -> routes.branches();
            case 1 -> routes.branch();
            case 2 -> routes.tag();
            case 3 -> suffix.isEmpty() ? routes.job() : routes.jobArchive();
            case 4 -> switch (suffix) {
                case ".tar" -> routes.formatArchive();
                case ".sha256" -> routes.formatSums();
                default -> read && !slash ? routes.formatFile() : routes.format();
            };
            default -> routes.artifact();
        };
        h.handleRequest(ex);
    }

    /** Strict percent-decoding of one segment as UTF-8. */
    static String decode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw HttpError.badRequest("Invalid percent-encoding in request path");
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw HttpError.badRequest("Invalid percent-encoding in request path");
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else {
                out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(out.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw HttpError.badRequest("Invalid UTF-8 in request path");
        }
    }
}
