package dlrepo.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dlrepo.TestServer;
import java.net.URLDecoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DLREPO_X_SENDFILE_HEADER with file names that are not plain ASCII, as etc/nginx.conf
 * uses it: nginx reads X-Accel-Redirect as a URI (it decodes %XX and cuts at '?'), so the
 * path must come percent-encoded; X-Sendfile carries the UTF-8 bytes of the path.
 * Checked by hand against nginx 1.22 with the example configuration.
 */
class SendfileHeaderTest {
    // é, a space, '%', '+' and '&': all legal in a dlrepo file name
    private static final String NAME = "h\u00e9llo w%rld+&.txt";
    private static final String URL_NAME = "h%C3%A9llo%20w%25rld%2B%26.txt";

    @BeforeAll
    static void utf8FileNames() {
        assumeTrue("UTF-8".equalsIgnoreCase(System.getProperty("sun.jnu.encoding")),
                "file names are not UTF-8 in this JVM (no UTF-8 locale)");
    }

    @Test
    void xAccelRedirectIsPercentEncoded() throws Exception {
        try (TestServer s = TestServer.start(Map.of("DLREPO_X_SENDFILE_HEADER", "X-Accel-Redirect"))) {
            String url = "/branches/main/t/job/deb/" + URL_NAME;
            assertEquals(201, s.upload(url, "some content").statusCode());
            HttpResponse<String> r = s.get(url);
            assertEquals(200, r.statusCode());
            assertEquals("", r.body());
            String value = r.headers().firstValue("X-Accel-Redirect").orElseThrow();
            Path file = s.root().toAbsolutePath().normalize().resolve("branches/main/t/job/deb/" + NAME);
            assertTrue(Files.isRegularFile(file));
            assertTrue(value.chars().allMatch(c -> c > 0x20 && c < 0x7f), value);
            assertFalse(value.contains("?"), value);
            assertTrue(value.endsWith("/h%C3%A9llo%20w%25rld%2B%26.txt"), value);
            assertEquals(file.toString(), URLDecoder.decode(value, StandardCharsets.UTF_8));
        }
    }

    @Test
    void otherHeadersCarryTheUtf8Path() throws Exception {
        try (TestServer s = TestServer.start(Map.of("DLREPO_X_SENDFILE_HEADER", "X-Sendfile"))) {
            String url = "/branches/main/t/job/deb/" + URL_NAME;
            assertEquals(201, s.upload(url, "some content").statusCode());
            HttpResponse<String> r = s.get(url);
            assertEquals(200, r.statusCode());
            // the client reads header bytes as ISO-8859-1
            String value = r.headers().firstValue("X-Sendfile").orElseThrow();
            String path = new String(value.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            assertEquals(s.root().toAbsolutePath().normalize().resolve("branches/main/t/job/deb/" + NAME).toString(),
                    path);
        }
    }
}
