import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * The speed of the JVM's SHA-256 (what dlrepo hashes uploads with), for bench/transfer:
 * {@code java bench/Sha256Speed.java <file> [chunk bytes]} hashes the file five times in
 * chunks (default 262144, like DLREPO_CHUNK_SIZE), from memory, and prints
 * "<hex> <best MB/s>". The file is read once; it must fit in the heap (give -Xmx).
 */
public final class Sha256Speed {
    public static void main(String[] args) throws Exception {
        byte[] data = Files.readAllBytes(Path.of(args[0]));
        int chunk = args.length > 1 ? Integer.parseInt(args[1]) : 262144;
        double best = 0;
        String hex = "";
        for (int round = 0; round < 5; round++) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            long t0 = System.nanoTime();
            for (int off = 0; off < data.length; off += chunk) {
                md.update(data, off, Math.min(chunk, data.length - off));
            }
            byte[] d = md.digest();
            long t1 = System.nanoTime();
            best = Math.max(best, data.length / ((t1 - t0) / 1e9) / 1e6);
            hex = HexFormat.of().formatHex(d);
        }
        System.out.printf("%s %.0f%n", hex, best);
    }
}
