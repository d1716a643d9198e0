package dlrepo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.CountingProxy;
import dlrepo.TestServer;
import dlrepo.http.CliHandler;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /cli}: the script users fetch with curl, with the server's public URL in place
 * of the default one, and that script working against the server without -u.
 */
class CliEndpointTest {
    private static final String DEFAULT_URL = "http://127.0.0.1:1337";

    /** What the daemon under test serves: an installed copy if there is one, else the built-in one. */
    private static String servedSource() throws Exception {
        for (Path p : CliHandler.defaultLocations(System.getenv("PATH"))) {
            if (Files.isRegularFile(p) && Files.isReadable(p)) {
                return Files.readString(p, StandardCharsets.UTF_8);
            }
        }
        try (InputStream in = CliHandler.class.getResourceAsStream("/dlrepo-cli")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void theBuiltInCopyIsTheProjectScript() throws Exception {
        try (InputStream in = CliHandler.class.getResourceAsStream("/dlrepo-cli")) {
            assertTrue(in != null, "dlrepo-cli is on the class path");
            assertEquals(Files.readString(Cli.SCRIPT, StandardCharsets.UTF_8),
                    new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        String script = Files.readString(Cli.SCRIPT, StandardCharsets.UTF_8);
        assertTrue(script.startsWith("#!/usr/bin/env python3\n"));
        assertEquals(script.indexOf(DEFAULT_URL), script.lastIndexOf(DEFAULT_URL), "the default URL is written once");
        assertTrue(Files.isExecutable(Cli.SCRIPT));
    }

    @Test
    void servedAsIsWithoutPublicUrl() throws Exception {
        try (TestServer s = TestServer.start()) {
            HttpResponse<String> r = s.get("/cli");
            assertEquals(200, r.statusCode());
            assertEquals("text/plain; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
            assertEquals(servedSource(), r.body());
            assertTrue(r.body().contains(DEFAULT_URL));
            HttpResponse<String> h = s.head("/cli");
            assertEquals(200, h.statusCode());
            assertEquals("text/plain; charset=utf-8", h.headers().firstValue("Content-Type").orElse(""));
            assertEquals("", h.body());
            assertEquals(405, s.send(s.request("/cli").POST(HttpRequest.BodyPublishers.noBody()).build())
                    .statusCode());
        }
    }

    @Test
    void publicUrlReplacesTheDefaultAndTheFetchedScriptWorks() throws Exception {
        // the public URL is a proxy in front of the daemon, as a TLS front end would be
        try (CountingProxy proxy = new CountingProxy(1);
                TestServer s = TestServer.start(Map.of("DLREPO_PUBLIC_URL", proxy.url() + "/"))) {
            proxy.target(s.port());
            HttpResponse<byte[]> r = s.getBytes("/cli");
            assertEquals(200, r.statusCode());
            assertEquals("text/plain; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
            String body = new String(r.body(), StandardCharsets.UTF_8);
            assertEquals(servedSource().replace(DEFAULT_URL, proxy.url()), body);
            assertFalse(body.contains(DEFAULT_URL));
            assertEquals(200, s.head("/cli").statusCode());

            // curl -o dlrepo-cli <server>/cli; python3 dlrepo-cli ... (no -u, no DLREPO_URL)
            Path dir = Files.createTempDirectory("dlrepo-cli-fetched-");
            try {
                Path fetched = dir.resolve("dlrepo-cli");
                Files.write(fetched, r.body());
                Path file = dir.resolve("hello.txt");
                Files.writeString(file, "hello");
                Cli.run(Cli.builder(fetched, null, Map.of(), "upload", "main", "t", "j", "txt", file.toString()))
                        .ok();
                assertTrue(proxy.up.get() > 0, "went through the public URL");
                Cli.Result ls = Cli.run(Cli.builder(fetched, null, Map.of(), "ls", "main", "t", "j", "txt")).ok();
                assertEquals("hello.txt\n", ls.out());
            } finally {
                Cli.deleteTree(dir);
            }
        }
    }
}
