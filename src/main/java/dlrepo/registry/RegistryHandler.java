package dlrepo.registry;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.Branch;
import dlrepo.fs.ContainerImage;
import dlrepo.fs.Job;
import dlrepo.fs.Product;
import dlrepo.fs.ProductBranch;
import dlrepo.fs.ProductVariant;
import dlrepo.fs.ProductVersion;
import dlrepo.fs.Repository;
import dlrepo.fs.Storage;
import dlrepo.fs.Tag;
import dlrepo.http.Access;
import dlrepo.http.FileSender;
import dlrepo.http.HttpError;
import dlrepo.http.ReadableCopies;
import dlrepo.http.Responses;
import dlrepo.http.Router;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * {@code /v2/}: the container registry (OCI distribution API) over the artifact tree.
 * Routes on the last segments of the path, since image names have several.
 */
public final class RegistryHandler implements HttpHandler {
    static final HttpString API_VERSION = new HttpString("Docker-Distribution-Api-Version");

    private final Storage storage;
    private final Access access;
    private final ManifestEndpoint manifests;
    private final BlobEndpoint blobs;
    private final UploadEndpoint uploads;
    private final ReferrersEndpoint referrers;

    /**
     * {@code idle}: how long an upload session, or a push waiting for its manifest, is kept
     * unused; {@code maxPending}: how many pushes waiting for a manifest one login may have.
     */
    public RegistryHandler(Storage storage, Access access, FileSender sender, int chunkSize, ReadableCopies copies,
            java.time.Duration idle, int maxPending) {
        this.storage = storage;
        this.access = access;
        Referrers waiting = new Referrers(maxPending);
        ImageContent content = new ImageContent(storage, access, copies, new PendingBlobs(idle, maxPending), waiting);
        this.manifests = new ManifestEndpoint(storage, access, content,
                new ReferrerAttachments(storage, access, content, waiting));
        this.referrers = new ReferrersEndpoint(storage, access, content, waiting);
        this.blobs = new BlobEndpoint(storage, sender, content);
        this.uploads = new UploadEndpoint(storage, access, content, new UploadSessions(storage.blobs(), idle),
                chunkSize);
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        ex.getResponseHeaders().put(API_VERSION, "registry/2.0");
        String raw = Responses.rawPath(ex);
        List<String> segs = new ArrayList<>();
        for (String s : raw.split("/")) {
            if (!s.isEmpty()) {
                segs.add(Router.decode(s));
            }
        }
        segs = segs.subList(1, segs.size());
        String method = ex.getRequestMethod().toString();
        int n = segs.size();
        if (n == 0) {
            requireRead(method);
            Responses.json(ex, Map.of());
        } else if (n == 1 && segs.get(0).equals("_catalog")) {
            requireRead(method);
            catalog(ex);
        } else if (n >= 3 && segs.get(n - 2).equals("tags") && segs.get(n - 1).equals("list")) {
            requireRead(method);
            tags(ex, ImageName.parse(storage, segs.subList(0, n - 2)));
        } else if (n >= 3 && segs.get(n - 2).equals("manifests")) {
            manifests.handle(ex, ImageName.parse(storage, segs.subList(0, n - 2)), segs.get(n - 1));
        } else if (n >= 3 && segs.get(n - 2).equals("blobs") && segs.get(n - 1).equals("uploads")) {
            uploads.start(ex, ImageName.parse(storage, segs.subList(0, n - 2)));
        } else if (n >= 4 && segs.get(n - 3).equals("blobs") && segs.get(n - 2).equals("uploads")) {
            uploads.session(ex, ImageName.parse(storage, segs.subList(0, n - 3)), segs.get(n - 1));
        } else if (n >= 3 && segs.get(n - 2).equals("blobs")) {
            blobs.handle(ex, ImageName.parse(storage, segs.subList(0, n - 2)), segs.get(n - 1));
        } else if (n >= 3 && segs.get(n - 2).equals("referrers")) {
            referrers.handle(ex, ImageName.parse(storage, segs.subList(0, n - 2)), segs.get(n - 1));
        } else {
            throw RegistryError.of(404, "NAME_UNKNOWN", "No such registry endpoint");
        }
    }

    static void requireRead(String method) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            throw RegistryError.unsupported("Method " + method + " not allowed here");
        }
    }

    /** Every readable image name, sorted, paginated with {@code n} and {@code last}. */
    private void catalog(HttpServerExchange ex) throws IOException {
        TreeSet<String> names = new TreeSet<>();
        collect(storage.repository(), "", names);
        for (Repository user : storage.userRepositories()) {
            collect(user, "u/" + user.user() + "/", names);
        }
        names.removeIf(name -> !access.canRead(ex, "/v2/" + name + "/"));
        page(ex, "/v2/_catalog", new ArrayList<>(names), list -> Map.of("repositories", list));
    }

    private static void collect(Repository repo, String prefix, TreeSet<String> names) throws IOException {
        for (Branch b : repo.branches()) {
            for (Tag t : b.tags()) {
                for (Job j : t.jobs()) {
                    if (ContainerImage.of(j).exists()) {
                        names.add(prefix + b.name() + "/" + j.name());
                    }
                }
            }
        }
        for (Product p : repo.products().products()) {
            for (ProductVariant v : p.variants()) {
                for (ProductBranch pb : v.branches()) {
                    for (ProductVersion ver : pb.versions()) {
                        ArtifactFormat f = ver.format(ArtifactFormat.CONTAINER);
                        if (f != null && new ContainerImage(f).exists()) {
                            names.add(prefix + p.name() + "/" + v.name() + "/" + pb.name());
                            break;
                        }
                    }
                }
            }
        }
    }

    /** The tags holding the image, paginated; aliases ({@code latest}...) resolve but are not tags. */
    private static void tags(HttpServerExchange ex, ImageName image) throws IOException {
        List<String> tags = new ArrayList<>(new TreeSet<>(image.tags().keySet()));
        if (tags.isEmpty()) {
            throw RegistryError.nameUnknown(image.name());
        }
        page(ex, "/v2/" + image.name() + "/tags/list", tags, list -> Map.of("name", image.name(), "tags", list));
    }

    /** The distribution spec's pagination: at most {@code n} entries after {@code last}. */
    private static void page(HttpServerExchange ex, String path, List<String> sorted,
            java.util.function.Function<List<String>, Object> body) {
        String last = Responses.queryParam(ex, "last");
        String nParam = Responses.queryParam(ex, "n");
        List<String> list = sorted;
        if (last != null) {
            list = list.stream().filter(s -> s.compareTo(last) > 0).toList();
        }
        if (nParam != null) {
            int n;
            try {
                n = Integer.parseInt(nParam);
            } catch (NumberFormatException e) {
                throw new HttpError(400, "PAGINATION_NUMBER_INVALID", "Invalid n: " + nParam, Map.of());
            }
            if (n < 0) {
                throw new HttpError(400, "PAGINATION_NUMBER_INVALID", "Invalid n: " + nParam, Map.of());
            }
            if (list.size() > n) {
                list = list.subList(0, n);
                if (n > 0) {
                    ex.getResponseHeaders().put(new HttpString("Link"), "<" + path + "?n=" + n + "&last="
                            + java.net.URLEncoder.encode(list.get(n - 1), java.nio.charset.StandardCharsets.UTF_8)
                            + ">; rel=\"next\"");
                }
            }
        }
        Responses.json(ex, body.apply(list));
    }
}
