package dlrepo.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.DaemonProcess;
import dlrepo.Layout;
import dlrepo.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The modes of what the daemon writes are its own, whatever the umask it runs under
 * (dlrepo-layout(7), PERMISSIONS): nothing is readable by others; the group may read
 * the tree and the blobs (a web server in the daemon's group sends files for
 * X-Accel-Redirect) but not uploads in progress nor the trash.
 */
class PermissionsTest {
    private static final String DIR = "rwxr-x---";
    private static final String FILE = "rw-r-----";
    private static final String PRIVATE_DIR = "rwx------";
    private Path root;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createTempDirectory("dlrepo-modes-");
        // as an administrator may have left it
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void tearDown() throws Exception {
        FormatJournalTest.deleteTree(root);
    }

    /** Fails before the fix: folders followed the umask (0777 under umask 000), blobs were 0644. */
    @ParameterizedTest
    @ValueSource(strings = {"000", "022", "077"})
    void modesDoNotDependOnTheUmask(String umask) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        byte[] data = "artifact\n".getBytes(StandardCharsets.UTF_8);
        String hex = TestServer.digest(data).substring(7);
        try (DaemonProcess d = DaemonProcess.startWithUmask(root, Map.of(), umask)) {
            String job = "/branches/b/t/j/";
            assertEquals(201, send(http, d, "PUT", job + "f/sub/a.txt", data, "Digest", TestServer.digest(data)));
            assertEquals(201, send(http, d, "PUT", job + "g/b.txt", data, "Digest", TestServer.digest(data)));
            assertEquals(200, send(http, d, "PATCH", job + "f/", null));
            assertEquals(200, json(http, d, "PATCH", job, "{\"job\": {\"product\": \"p\", \"product_variant\": \"v\", "
                    + "\"product_branch\": \"pb\", \"version\": \"1\"}}"));
            assertEquals(200, json(http, d, "POST", "/branches/b/t/", "{\"tag\": {\"description\": \"d\"}}"));
            assertEquals(200, json(http, d, "POST", "/branches/b/", "{\"branch\": {\"max_daily_tags\": 3}}"));
            assertEquals(201, send(http, d, "PUT", "/~alice/branches/b/t/j/f/a.txt", data, "Digest", TestServer.digest(data)));
            assertEquals(200, send(http, d, "DELETE", job + "g/", null));

            assertEquals("rwxr-x---", Layout.mode(root), "the root: others removed");
            for (String dir : List.of(".blobs", ".blobs/sha256", ".blobs/sha256/" + hex.substring(0, 2), "branches",
                    "branches/b", "branches/b/t", "branches/b/t/j", "branches/b/t/j/f", "branches/b/t/j/f/sub",
                    "products", "products/p", "products/p/v/pb/1", "users", "users/alice",
                    "users/alice/branches/b/t/j/f")) {
                assertEquals(DIR, Layout.mode(root.resolve(dir)), dir);
            }
            assertEquals(PRIVATE_DIR, Layout.mode(root.resolve(".uploads")));
            assertEquals(PRIVATE_DIR, Layout.mode(root.resolve(".trash")));
            for (String file : List.of(".blobs/sha256/" + hex.substring(0, 2) + "/" + hex, "branches/b/t/j/f/sub/a.txt",
                    "branches/b/t/j/f/.digests", "branches/b/t/.stamp", "branches/b/t/j/.stamp",
                    "branches/b/t/j/.metadata", "branches/b/t/.description", "branches/b/.cleanup_policy",
                    "products/p/v/pb/1/.stamp", "users/alice/.disk_usage", "users/alice/branches/b/t/j/f/.dirty",
                    "users/alice/branches/b/t/j/f/.digests.journal")) {
                assertEquals(FILE, Layout.mode(root.resolve(file)), file);
            }
            // and nothing at all is open to others
            List<String> open = new ArrayList<>();
            try (Stream<Path> all = Files.walk(root)) {
                all.filter(p -> !Files.isSymbolicLink(p)).forEach(p -> {
                    try {
                        var perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
                        if (perms.contains(PosixFilePermission.OTHERS_READ) || perms.contains(PosixFilePermission.OTHERS_WRITE)
                                || perms.contains(PosixFilePermission.OTHERS_EXECUTE)
                                || perms.contains(PosixFilePermission.GROUP_WRITE)) {
                            open.add(root.relativize(p) + " " + PosixFilePermissions.toString(perms));
                        }
                    } catch (java.io.IOException e) {
                        // gone meanwhile
                    }
                });
            }
            assertTrue(open.isEmpty(), "open to others or group-writable: " + open);
        }
    }

    private static int json(HttpClient http, DaemonProcess d, String method, String path, String body) throws Exception {
        return send(http, d, method, path, body.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
    }

    private static int send(HttpClient http, DaemonProcess d, String method, String path, byte[] body,
            String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(d.url(path)))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 300) {
            System.out.println(method + " " + path + ": " + r.statusCode() + " " + r.body());
        }
        return r.statusCode();
    }
}
