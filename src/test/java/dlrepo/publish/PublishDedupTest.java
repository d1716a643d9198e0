package dlrepo.publish;

import static dlrepo.Check.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dlrepo.CountingProxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Publishing sends only what the remote lacks: tag v2 shares 180 of its 200 files with the
 * released v1, and the remote receives the bodies of the 20 new ones only (the others are
 * linked to the blobs it has). At most DLREPO_PUBLISH_MAX_REQUESTS connections are open at
 * once, and more than one is used. Counted by a proxy in front of the remote.
 */
class PublishDedupTest {
    static final int FILES = 200;
    static final int NEW = 20;

    @Test
    void secondTagSendsOnlyNewBodiesWithBoundedConnections() throws Exception {
        try (CountingProxy proxy = new CountingProxy(1);
                Sites sites = Sites.start("DLREPO_PUBLISH_URL", "http://127.0.0.1:" + proxy.port(),
                        "DLREPO_PUBLISH_MAX_REQUESTS", "4")) {
            proxy.target(sites.public1.port());
            Random random = new Random(14);
            List<byte[]> shared = new ArrayList<>();
            for (int i = 0; i < FILES; i++) {
                byte[] b = new byte[8192 + random.nextInt(40_000)];
                random.nextBytes(b);
                shared.add(b);
            }
            long newBytes = 0;
            Set<String> newPaths = new TreeSet<>();
            for (int i = 0; i < FILES; i++) {
                String rel = "dir" + (i % 7) + "/file-" + i + ".bin";
                assertStatus(201, sites.ci().upload("/branches/main/v1/build/files/" + rel, shared.get(i)));
                byte[] v2 = shared.get(i);
                if (i % (FILES / NEW) == 3) {
                    v2 = new byte[8192 + random.nextInt(40_000)];
                    random.nextBytes(v2);
                    newBytes += v2.length;
                    newPaths.add("/branches/main/v2/build/files/" + rel);
                }
                assertStatus(201, sites.ci().upload("/branches/main/v2/build/files/" + rel, v2));
            }
            assertEquals(NEW, newPaths.size());
            for (String t : List.of("v1", "v2")) {
                assertStatus(200, sites.ci().send("PATCH", "/branches/main/" + t + "/build/files/"));
                assertStatus(200, sites.ci().json("PUT", "/branches/main/" + t + "/build/", "{\"job\": {\"locked\": true}}"));
            }

            assertStatus(200, sites.release("main", "v1", true));
            assertEquals("published to " + sites.publishUrl(), sites.awaitDone("main", "v1", 120_000));
            assertEquals(FILES, fileBodies(proxy).size(), "v1: every file sent");
            int most = proxy.maxConnections();
            assertTrue(most <= 4, "at most DLREPO_PUBLISH_MAX_REQUESTS=4 connections at once, saw " + most);
            assertTrue(most > 1, "files are sent over parallel connections, saw " + most);

            proxy.reset();
            assertStatus(200, sites.release("main", "v2", true));
            assertEquals("published to " + sites.publishUrl(), sites.awaitDone("main", "v2", 120_000));
            assertEquals(newPaths, fileBodies(proxy).stream().map(CountingProxy.Request::path)
                    .collect(Collectors.toCollection(TreeSet::new)), "v2: only the new files' bodies");
            long up = proxy.up.get();
            // 200 probes and links, a few JSON requests: headers of well under 2 KiB each
            assertTrue(up > newBytes && up < newBytes + 3 * FILES * 1024, "sent " + up + " bytes for " + newBytes
                    + " bytes of new files");
            assertTrue(proxy.maxConnections() <= 4, "v2: at most 4 connections, saw " + proxy.maxConnections());
            assertEquals(Sites.tree(sites.internal(), "main", "v2"), Sites.tree(sites.public1, "main", "v2"));

            // released again: every job is there with the same digest, no body at all
            proxy.reset();
            assertStatus(200, sites.release("main", "v2", true));
            assertEquals("published to " + sites.publishUrl(), sites.awaitDone("main", "v2", 60_000));
            assertEquals(List.of(), proxy.bodies().stream().map(r -> r.method() + " " + r.path()).toList());
            assertTrue(proxy.requests.stream().allMatch(r -> r.method().equals("GET")), proxy.requests.toString());
        }
    }

    /** The body PUTs of artifact files (not the JSON of jobs, whose paths end with '/'). */
    static List<CountingProxy.Request> fileBodies(CountingProxy proxy) {
        return proxy.bodies().stream().filter(r -> r.method().equals("PUT") && !r.path().endsWith("/")).toList();
    }
}
