package dlrepo;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The root folder read as another tool would read it, from dlrepo-layout(7), written
 * independently of the daemon's code: a format's files ({@code .digests} and the journal
 * of the uploads since it was written), the JSON layout of {@code .digests}, file modes.
 */
public final class Layout {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Layout() {
    }

    /**
     * A format's files and their digests: {@code .digests}, then the complete lines of
     * {@code .digests.journal} whose checksum matches, in order.
     */
    public static Map<String, String> digests(Path formatDir) throws IOException {
        Map<String, String> map = new TreeMap<>();
        try {
            byte[] data = Files.readAllBytes(formatDir.resolve(".digests"));
            if (data.length > 0) {
                map.putAll(JSON.readValue(data, new TypeReference<TreeMap<String, String>>() { }));
            }
        } catch (NoSuchFileException e) {
            // no file yet
        }
        for (String[] entry : journal(formatDir)) {
            map.put(entry[0], entry[1]);
        }
        return map;
    }

    /** The valid entries of {@code .digests.journal}: {path, digest}, in order. */
    public static java.util.List<String[]> journal(Path formatDir) throws IOException {
        java.util.List<String[]> out = new java.util.ArrayList<>();
        byte[] data;
        try {
            data = Files.readAllBytes(formatDir.resolve(".digests.journal"));
        } catch (NoSuchFileException e) {
            return out;
        }
        String text = new String(data, StandardCharsets.US_ASCII);
        int start = 0;
        for (int nl = text.indexOf('\n'); nl >= 0; start = nl + 1, nl = text.indexOf('\n', start)) {
            String line = text.substring(start, nl);
            // <crc32c of the rest, 8 hex> sha256:<64 hex> "<path, JSON string>"
            if (line.length() < 8 + 1 + 71 + 1 + 2 || line.charAt(8) != ' ') {
                continue;
            }
            String rest = line.substring(9);
            CRC32C crc = new CRC32C();
            crc.update(rest.getBytes(StandardCharsets.US_ASCII));
            if (!String.format("%08x", crc.getValue()).equals(line.substring(0, 8))) {
                continue;
            }
            out.add(new String[] {JSON.readValue(rest.substring(72), String.class), rest.substring(0, 71)});
        }
        return out;
    }

    /**
     * What Python's {@code json.dumps(obj, sort_keys=True)} writes for a flat object of
     * strings: the bytes of a {@code .digests} file.
     */
    public static byte[] pythonJson(Map<String, String> map) {
        StringBuilder b = new StringBuilder("{");
        for (Map.Entry<String, String> e : new TreeMap<>(map).entrySet()) {
            if (b.length() > 1) {
                b.append(", ");
            }
            quote(b, e.getKey());
            b.append(": ");
            quote(b, e.getValue());
        }
        return b.append('}').toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"', '\\' -> b.append('\\').append(c);
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> b.append(c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        b.append('"');
    }

    /** The regular files below a format folder whose path has no dot-named segment, relative. */
    public static TreeSet<String> visibleFiles(Path formatDir) throws IOException {
        TreeSet<String> out = new TreeSet<>();
        try (Stream<Path> s = Files.walk(formatDir)) {
            s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).forEach(p -> {
                Path rel = formatDir.relativize(p);
                for (Path seg : rel) {
                    if (seg.toString().startsWith(".")) {
                        return;
                    }
                }
                out.add(rel.toString());
            });
        }
        return out;
    }

    /** The permission bits of {@code p} (not following a symlink), like {@code rwxr-x---}. */
    public static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }
}
