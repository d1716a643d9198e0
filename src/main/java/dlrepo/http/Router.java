package dlrepo.http;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.Branch;
import dlrepo.fs.Names;
import dlrepo.fs.Product;
import dlrepo.fs.ProductBranch;
import dlrepo.fs.ProductVariant;
import dlrepo.fs.ProductVersion;
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
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The URL table. Decodes the raw path one segment at a time (an encoded '/' stays inside
 * its segment and is refused there), validates every name, answers canonical redirects
 * (case, aliases, trailing slash) and hands the request to the handler of its level with
 * a {@link Target}. {@code /~<user>/} prefixes the same tables for a user repository.
 */
public final class Router implements HttpHandler {
    /** The handlers of each URL level. */
    public record Routes(HttpHandler home, HttpHandler userHome, HttpHandler branches, HttpHandler branch,
            HttpHandler tag, HttpHandler job, HttpHandler jobArchive, HttpHandler format, HttpHandler formatFile,
            HttpHandler formatArchive, HttpHandler formatSums, HttpHandler artifact, HttpHandler products,
            HttpHandler product, HttpHandler variant, HttpHandler productBranch, HttpHandler version,
            HttpHandler versionArchive, Map<String, HttpHandler> others) {
    }

    private static final String[] TREE_LEVELS = {"branch", "tag", "job", "format"};
    private static final String[] PRODUCT_LEVELS = {"product", "product variant", "product branch", "version", "format"};

    private final Storage storage;
    private final Routes routes;
    private final Access access;

    public Router(Storage storage, Access access, Routes routes) {
        this.storage = storage;
        this.access = access;
        this.routes = routes;
    }

    /** A parsed request path: decoded segments and whether it ended with '/'. */
    private record Path(List<String> segments, boolean slash) {
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        Path path = parse(Responses.rawPath(ex));
        List<String> segs = path.segments();
        if (segs.isEmpty()) {
            access.check(ex, "/");
            routes.home().handleRequest(ex);
            return;
        }
        Repository repo = storage.repository();
        List<String> prefix = List.of();
        if (segs.get(0).startsWith("~")) {
            String user = segs.get(0).substring(1);
            String canonical = Names.checkCanonical("user", user);
            prefix = List.of("~" + canonical);
            repo = storage.userRepository(canonical);
            if (segs.size() == 1) {
                access.check(ex, "/~" + canonical + "/");
            }
            if (Responses.isRead(ex) && (!canonical.equals(user) || (segs.size() == 1 && !path.slash()))) {
                List<String> all = new ArrayList<>(prefix);
                all.addAll(segs.subList(1, segs.size()));
                redirect(ex, all, path.slash() || segs.size() == 1);
                return;
            }
            segs = segs.subList(1, segs.size());
            if (segs.isEmpty()) {
                ex.putAttachment(Target.KEY, new Target(repo, null, null, null, null, null, true, null));
                routes.userHome().handleRequest(ex);
                return;
            }
        }
        String area = segs.get(0);
        List<String> rest = segs.subList(1, segs.size());
        switch (area) {
            case "branches" -> branches(ex, repo, prefix, rest, path.slash());
            case "products" -> products(ex, repo, prefix, rest, path.slash());
            default -> {
                HttpHandler other = prefix.isEmpty() ? routes.others().get(area) : null;
                if (other == null) {
                    throw HttpError.notFound("Not found");
                }
                access.check(ex, "/" + String.join("/", segs) + (path.slash() ? "/" : ""));
                other.handleRequest(ex);
            }
        }
    }

    private void branches(HttpServerExchange ex, Repository repo, List<String> prefix, List<String> names,
            boolean slash) throws Exception {
        boolean read = Responses.isRead(ex);
        int depth = names.size();
        Levels lv = levels(names, slash, 4, TREE_LEVELS);
        if (lv.canonical.size() >= 2 && Names.isAlias(lv.canonical.get(1))) {
            rejectWrite(ex);
            String alias = lv.canonical.get(1);
            Branch b = repo.branch(lv.canonical.get(0));
            resolveAlias(ex, prefix, "branches", names, slash, lv, 4, 1,
                    b.resolveAlias(alias).map(Tag::name),
                    () -> HttpError.notFound("No tag of branch " + b.name() + " matches " + alias));
        }
        access.check(ex, canonicalPath(prefix, "branches", names, slash, lv, 4));
        if (!lv.suffix.isEmpty()) {
            // a .tar or .sha256 exposes its folder: it needs the folder's right too
            access.check(ex, folderPath(prefix, "branches", lv));
        }
        if (read && canonicalRedirect(ex, prefix, "branches", names, slash, lv, 4)) {
            return;
        }
        Branch branch = depth >= 1 ? repo.branch(lv.canonical.get(0)) : null;
        Tag tag = depth >= 2 ? branch.tag(lv.canonical.get(1)) : null;
        var job = depth >= 3 ? tag.job(lv.canonical.get(2)) : null;
        var format = depth >= 4 ? job.format(lv.canonical.get(3)) : null;
        ex.putAttachment(Target.KEY, new Target(repo, branch, tag, job, format, lv.relPath, slash, null));
        HttpHandler h = switch (depth) {
            case 0 -> routes.branches();
            case 1 -> routes.branch();
            case 2 -> routes.tag();
            case 3 -> lv.suffix.isEmpty() ? routes.job() : routes.jobArchive();
            case 4 -> formatRoute(read, slash, lv.suffix);
            default -> routes.artifact();
        };
        h.handleRequest(ex);
    }

    private void products(HttpServerExchange ex, Repository repo, List<String> prefix, List<String> names,
            boolean slash) throws Exception {
        boolean read = Responses.isRead(ex);
        int depth = names.size();
        if (!read) {
            List<String> all = new ArrayList<>(prefix);
            all.add("products");
            all.addAll(names);
            access.check(ex, "/" + String.join("/", all) + (slash ? "/" : ""));
            if (depth <= 4) {
                rejectWrite(ex);
            }
            throw HttpError.badRequest("Product URLs are read-only: write under /branches/");
        }
        Levels lv = levels(names, slash, 5, PRODUCT_LEVELS);
        Product product = depth >= 1 ? repo.products().product(lv.canonical.get(0)) : null;
        ProductVariant variant = depth >= 2 ? product.variant(lv.canonical.get(1)) : null;
        ProductBranch pb = depth >= 3 ? variant.branch(lv.canonical.get(2)) : null;
        if (depth >= 4 && Names.isAlias(lv.canonical.get(3))) {
            String alias = lv.canonical.get(3);
            resolveAlias(ex, prefix, "products", names, slash, lv, 5, 3,
                    pb.resolveAlias(alias).map(ProductVersion::name),
                    () -> HttpError.notFound("No version of " + pb.name() + " matches " + alias));
        }
        access.check(ex, canonicalPath(prefix, "products", names, slash, lv, 5));
        if (!lv.suffix.isEmpty()) {
            access.check(ex, folderPath(prefix, "products", lv));
        }
        if (canonicalRedirect(ex, prefix, "products", names, slash, lv, 5)) {
            return;
        }
        ProductVersion version = depth >= 4 ? pb.version(lv.canonical.get(3)) : null;
        ArtifactFormat format = null;
        if (depth >= 5) {
            if (!version.exists() || (format = version.format(lv.canonical.get(4))) == null) {
                throw HttpError.notFound("Format " + lv.canonical.get(4) + " not found");
            }
        }
        ex.putAttachment(ProductPath.KEY, new ProductPath(product, variant, pb));
        ex.putAttachment(Target.KEY, format == null
                ? new Target(repo, null, null, null, null, null, slash, version)
                : new Target(repo, format.job().tag().branch(), format.job().tag(), format.job(), format, lv.relPath,
                        slash, version));
        HttpHandler h = switch (depth) {
            case 0 -> routes.products();
            case 1 -> routes.product();
            case 2 -> routes.variant();
            case 3 -> routes.productBranch();
            case 4 -> lv.suffix.isEmpty() ? routes.version() : routes.versionArchive();
            case 5 -> formatRoute(true, slash, lv.suffix);
            default -> routes.artifact();
        };
        h.handleRequest(ex);
    }

    /**
     * Replaces the alias at {@code level} by what it stands for, if the caller may read that
     * (the whole path, and the folder of an archive). Otherwise the answer depends on nothing
     * the caller may not read: a caller who may read the folder holding the alias (and so
     * knows what exists there) gets 404 when nothing matches, else the refusal of the path
     * as spelled; a caller who may not gets that refusal in every case, the same as for a
     * branch, product or user repository that does not exist.
     */
    private void resolveAlias(HttpServerExchange ex, List<String> prefix, String area, List<String> names,
            boolean slash, Levels lv, int formatDepth, int level, Optional<String> target,
            Supplier<HttpError> noMatch) {
        String spelled = canonicalPath(prefix, area, names, slash, lv, formatDepth);
        if (target.isPresent()) {
            lv.canonical.set(level, target.get());
            if (access.canRead(ex, canonicalPath(prefix, area, names, slash, lv, formatDepth))
                    && (lv.suffix.isEmpty() || access.canRead(ex, folderPath(prefix, area, lv)))) {
                return;
            }
        }
        List<String> folder = new ArrayList<>(prefix);
        folder.add(area);
        folder.addAll(lv.canonical.subList(0, level));
        if (target.isEmpty() && access.canRead(ex, "/" + String.join("/", folder) + "/")) {
            throw noMatch.get();
        }
        throw access.readRefusal(ex, spelled);
    }

    private HttpHandler formatRoute(boolean read, boolean slash, String suffix) {
        return switch (suffix) {
            case ".tar" -> routes.formatArchive();
            case ".sha256" -> routes.formatSums();
            default -> read && !slash ? routes.formatFile() : routes.format();
        };
    }

    private static void rejectWrite(HttpServerExchange ex) {
        if (!Responses.isRead(ex)) {
            throw HttpError.methodNotAllowed(ex.getRequestMethod().toString(), "GET, HEAD");
        }
    }

    /**
     * The levels named by a path under an area: validated, lowercased, with an archive
     * suffix ({@code .tar}, {@code .sha256}) split off the last two levels when there is no
     * trailing slash; what follows the format level is a file path.
     */
    private static final class Levels {
        final List<String> given = new ArrayList<>();
        final List<String> canonical = new ArrayList<>();
        String suffix = "";
        String relPath;
    }

    private static Levels levels(List<String> names, boolean slash, int formatDepth, String[] what) {
        Levels lv = new Levels();
        int depth = names.size();
        lv.given.addAll(names.subList(0, Math.min(depth, formatDepth)));
        if (!slash && (depth == formatDepth - 1 || depth == formatDepth)) {
            String last = lv.given.get(depth - 1);
            for (String s : depth == formatDepth - 1 ? List.of(".tar") : List.of(".tar", ".sha256")) {
                if (last.endsWith(s) && last.length() > s.length()) {
                    lv.suffix = s;
                    lv.given.set(depth - 1, last.substring(0, last.length() - s.length()));
                    break;
                }
            }
        }
        for (int i = 0; i < lv.given.size(); i++) {
            lv.canonical.add(Names.checkCanonical(what[i], lv.given.get(i)));
        }
        if (depth > formatDepth) {
            lv.relPath = Names.checkRelPath(String.join("/", names.subList(formatDepth, depth)));
        }
        return lv;
    }

    /**
     * Answers 302 when the path is not canonical: upper case, an alias, or a folder level
     * without its trailing slash. Returns whether it did.
     */
    private static boolean canonicalRedirect(HttpServerExchange ex, List<String> prefix, String area,
            List<String> names, boolean slash, Levels lv, int formatDepth) {
        boolean dirLevel = names.size() < formatDepth && lv.suffix.isEmpty();
        if (lv.canonical.equals(lv.given) && (slash || !dirLevel)) {
            return false;
        }
        redirect(ex, canonicalSegments(prefix, area, names, lv, formatDepth), slash || dirLevel);
        return true;
    }

    private static List<String> canonicalSegments(List<String> prefix, String area, List<String> names, Levels lv,
            int formatDepth) {
        int depth = names.size();
        List<String> all = new ArrayList<>(prefix);
        all.add(area);
        all.addAll(lv.canonical);
        if (depth > formatDepth) {
            all.addAll(names.subList(formatDepth, depth));
        }
        if (!lv.suffix.isEmpty()) {
            all.set(all.size() - 1, all.get(all.size() - 1) + lv.suffix);
        }
        return all;
    }

    /**
     * The decoded path the ACLs are matched against: names lowercased, aliases resolved,
     * folder levels with their trailing slash. The same one the handlers act on.
     */
    private static String canonicalPath(List<String> prefix, String area, List<String> names, boolean slash,
            Levels lv, int formatDepth) {
        // the format level is a folder too, also when its shortcut URL (no slash) is used
        boolean dirLevel = names.size() <= formatDepth && lv.suffix.isEmpty();
        return "/" + String.join("/", canonicalSegments(prefix, area, names, lv, formatDepth))
                + (slash || dirLevel ? "/" : "");
    }

    /** The folder an archive or checksum URL ({@code <level>.tar}, {@code <format>.sha256}) is made of. */
    private static String folderPath(List<String> prefix, String area, Levels lv) {
        List<String> all = new ArrayList<>(prefix);
        all.add(area);
        all.addAll(lv.canonical);
        return "/" + String.join("/", all) + "/";
    }

    private static void redirect(HttpServerExchange ex, List<String> segments, boolean slash) {
        String location = Responses.path(segments) + (slash ? "/" : "");
        String qs = ex.getQueryString();
        Responses.redirect(ex, qs == null || qs.isEmpty() ? location : location + "?" + qs);
    }

    private static Path parse(String raw) {
        if (!raw.startsWith("/")) {
            throw HttpError.badRequest("Invalid request path");
        }
        String[] parts = raw.substring(1).split("/", -1);
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
        return new Path(segs, raw.length() > 1 && raw.endsWith("/"));
    }

    /** Strict percent-decoding of one segment as UTF-8. */
    public static String decode(String s) {
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
