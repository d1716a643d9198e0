import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The client of bench/format: N files into one format of a running daemon, one request
 * at a time on one keep-alive connection, each timed. Run with {@code java FormatLoad.java
 * <base url> <upload|link> <N> <window> <checkpoint,...>}.
 *
 * <p>upload: a PUT of a small body of its own (a new blob each time); link: a PUT with
 * X-Dlrepo-Link of one blob uploaded first (no body, the cheapest upload). At each
 * checkpoint k, prints the mean and median time of the {@code window} requests ending at
 * the k-th file. Then GET of the format's listing while dirty (median of 9), PATCH
 * (finalize) and the listing again (median of 9), timed.
 * Output lines: {@code at <k> mean_ms <x> median_ms <y>}, {@code list_ms <x>},
 * {@code finalize_ms <x>}, {@code list_final_ms <x>}.
 */
public final class FormatLoad {
    public static void main(String[] args) throws Exception {
        String base = args[0];
        boolean link = args[1].equals("link");
        int n = Integer.parseInt(args[2]);
        int window = Integer.parseInt(args[3]);
        int[] checkpoints = Arrays.stream(args[4].split(",")).mapToInt(Integer::parseInt).toArray();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        String fmt = base + "/branches/bench/t/j/f/";
        String seedDigest = null;
        if (link) {
            byte[] seed = "the blob every file links to\n".getBytes(StandardCharsets.UTF_8);
            seedDigest = digest(seed);
            check(http.send(put(base + "/branches/seed/t/j/f/seed.bin", seedDigest)
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(seed)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        long[] nanos = new long[n];
        int next = 0;
        for (int i = 0; i < n; i++) {
            String name = "pool/d" + (i % 100) + "/file-" + i + ".bin";
            HttpRequest req;
            if (link) {
                req = put(fmt + name, seedDigest).header("X-Dlrepo-Link", seedDigest)
                        .PUT(HttpRequest.BodyPublishers.noBody()).build();
            } else {
                byte[] body = ("content of file " + i + "\n").getBytes(StandardCharsets.UTF_8);
                req = put(fmt + name, digest(body)).PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build();
            }
            long t0 = System.nanoTime();
            check(http.send(req, HttpResponse.BodyHandlers.ofString()));
            nanos[i] = System.nanoTime() - t0;
            if (next < checkpoints.length && i + 1 == checkpoints[next]) {
                long[] w = Arrays.copyOfRange(nanos, Math.max(0, i + 1 - window), i + 1);
                Arrays.sort(w);
                System.out.printf("at %d mean_ms %.3f median_ms %.3f%n", i + 1,
                        Arrays.stream(w).average().orElse(0) / 1e6, w[w.length / 2] / 1e6);
                next++;
            }
        }
        HttpRequest list = HttpRequest.newBuilder(URI.create(fmt)).GET().build();
        System.out.printf("list_ms %.1f%n", median(http, list, LISTINGS));
        System.out.printf("finalize_ms %.1f%n", timed(http, HttpRequest.newBuilder(URI.create(fmt))
                .method("PATCH", HttpRequest.BodyPublishers.noBody()).build()));
        System.out.printf("list_final_ms %.1f%n", median(http, list, LISTINGS));
    }

    /** How many times each listing is timed (the median is printed). */
    private static final int LISTINGS = 9;

    private static double median(HttpClient http, HttpRequest req, int times) throws Exception {
        double[] t = new double[times];
        for (int i = 0; i < times; i++) {
            t[i] = timed(http, req);
        }
        Arrays.sort(t);
        return t[times / 2];
    }

    private static HttpRequest.Builder put(String url, String digest) {
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(5)).header("Digest", digest);
    }

    private static double timed(HttpClient http, HttpRequest req) throws Exception {
        long t0 = System.nanoTime();
        check(http.send(req, HttpResponse.BodyHandlers.ofString()));
        return (System.nanoTime() - t0) / 1e6;
    }

    private static void check(HttpResponse<String> r) {
        if (r.statusCode() >= 300) {
            throw new IllegalStateException(r.request().method() + " " + r.uri() + ": " + r.statusCode() + " " + r.body());
        }
    }

    private static String digest(byte[] data) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
