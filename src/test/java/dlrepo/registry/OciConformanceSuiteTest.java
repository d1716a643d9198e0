package dlrepo.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dlrepo.TestAuth;
import dlrepo.TestServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official OCI distribution-spec conformance suite (v1.1.1, all four workflows: pull,
 * push, content discovery, content management) against a daemon of the test: every spec
 * passes, without and with authentication. The suite is a ready binary outside the tree
 * ({@code ../shared/tools/oci-conformance/run.sh}, or {@code OCI_CONFORMANCE_SUITE}); the
 * test fails, never skips, when it is missing.
 */
class OciConformanceSuiteTest {
    static final String SUITE = "shared/tools/oci-conformance/run.sh";
    /** Specs the suite can never run against dlrepo: env-only "no push" variants, blob DELETE (405). */
    static final int MIN_PASSED = 74;
    private static final Pattern LAST = Pattern.compile("oci-conformance: (\\d+) passed, (\\d+) failed, (\\d+) skipped");

    /** {@code OCI_CONFORMANCE_SUITE}, else {@code shared/tools/...} in the nearest ancestor of the project folder ({@code ../shared} on CI, {@code ../../shared} from a worktree). */
    static Path suite() {
        String env = System.getenv("OCI_CONFORMANCE_SUITE");
        if (env != null && !env.isEmpty()) {
            return Path.of(env);
        }
        for (Path p = Path.of("").toAbsolutePath().getParent(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve(SUITE))) {
                return p.resolve(SUITE);
            }
        }
        return Path.of("").toAbsolutePath().resolveSibling(SUITE);
    }

    @Test
    void everySpecPassesWithoutAuthentication(@TempDir Path results) throws Exception {
        try (TestServer s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"))) {
            // without auth dlrepo mounts a blob it has even without ?from= (201)
            run(s, results, Map.of("OCI_AUTOMATIC_CROSSMOUNT", "1"));
        }
    }

    @Test
    void everySpecPassesWithBasicAuthentication(@TempDir Path results) throws Exception {
        try (TestAuth auth = new TestAuth().user("conformance", "conf-pass", "oci").acl("oci", "rad /v2/**");
                TestServer s = auth.start()) {
            // with auth a mount without ?from= is an ordinary upload (202)
            run(s, results, Map.of("OCI_USERNAME", "conformance", "OCI_PASSWORD", "conf-pass",
                    "OCI_AUTOMATIC_CROSSMOUNT", "0"));
        }
    }

    /** The content-management teardown deleting blobs before their manifests instead of after. */
    @Test
    void everySpecPassesWhenBlobsAreDeletedFirst(@TempDir Path results) throws Exception {
        try (TestServer s = TestServer.start(Map.of("DLREPO_TAG_CLEANUP_PERIOD", "0"))) {
            run(s, results, Map.of("OCI_AUTOMATIC_CROSSMOUNT", "1", "OCI_DELETE_MANIFEST_BEFORE_BLOBS", "0"));
        }
    }

    /** Runs the suite against {@code s}; asserts exit 0, 0 failed and at least {@link #MIN_PASSED} passed. */
    private static void run(TestServer s, Path results, Map<String, String> env) throws Exception {
        Path suite = suite();
        if (!Files.isRegularFile(suite)) {
            fail("OCI conformance suite not found at " + suite + ": it is ../shared/" + SUITE.substring(7)
                    + " next to the project (or set OCI_CONFORMANCE_SUITE to its run.sh)");
        }
        Path out = results.resolve("run.out");
        ProcessBuilder pb = new ProcessBuilder("bash", suite.toString(), "http://127.0.0.1:" + s.port(),
                "conf/job1", "conf/job2", results.resolve("report").toString())
                .redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("OCI_"));
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail("the OCI conformance suite did not finish in 180 s\n" + report(out, results));
        }
        String output = Files.readString(out, StandardCharsets.UTF_8);
        List<String> lines = output.lines().filter(l -> !l.isBlank()).toList();
        String last = lines.isEmpty() ? "" : lines.get(lines.size() - 1);
        Matcher m = LAST.matcher(last);
        assertTrue(m.matches(), () -> "no summary line from the suite (exit " + p.exitValue() + ")\n"
                + report(out, results));
        int passed = Integer.parseInt(m.group(1));
        int failed = Integer.parseInt(m.group(2));
        assertEquals(0, failed, () -> last + "\n" + report(out, results));
        assertEquals(0, p.exitValue(), () -> last + "\n" + report(out, results));
        assertTrue(passed >= MIN_PASSED, () -> last + ": at least " + MIN_PASSED + " passed expected\n"
                + report(out, results));
    }

    /** The [FAIL] lines and summary run.sh printed, and the tail of ginkgo.log. */
    private static String report(Path out, Path results) {
        StringBuilder b = new StringBuilder();
        try {
            b.append(Files.readString(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            b.append("(no output: ").append(e).append(")\n");
        }
        Path log = results.resolve("report/ginkgo.log");
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            List<String> tail = new ArrayList<>(all.subList(Math.max(0, all.size() - 60), all.size()));
            b.append("--- tail of ").append(log).append(" ---\n").append(String.join("\n", tail));
        } catch (IOException e) {
            b.append("(no ").append(log).append(")");
        }
        return b.toString();
    }
}
