package dlrepo.fs;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Reads and writes the small JSON files of the tree ({@code .metadata}, {@code .digests},
 * {@code .cleanup_policy}). They are written with sorted keys in the layout Python's
 * {@code json.dumps(sort_keys=True)} produces, so that digests computed over their bytes
 * agree with those of other dlrepo servers.
 */
public final class JsonFiles {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** Reads a JSON object as a map: the type resolved once (per read, it cost more than the parse). */
    private static final ObjectReader OBJECT = MAPPER.readerFor(new TypeReference<Map<String, Object>>() {});

    private JsonFiles() {
    }

    public static SortedMap<String, String> readStrings(Path file) throws IOException {
        Optional<byte[]> data = Disk.readIfExists(file);
        TreeMap<String, String> map = new TreeMap<>();
        if (data.isPresent() && data.get().length > 0) {
            Map<String, Object> raw = OBJECT.readValue(data.get());
            raw.forEach((k, v) -> {
                if (v != null) {
                    map.put(k, String.valueOf(v));
                }
            });
        }
        return map;
    }

    public static Map<String, Object> readObject(Path file) throws IOException {
        Optional<byte[]> data = Disk.readIfExists(file);
        if (data.isEmpty() || data.get().length == 0) {
            return Map.of();
        }
        return OBJECT.readValue(data.get());
    }

    /** {@code {"a": "x", "b": 2}}: sorted keys, ", " and ": " separators, ASCII only. */
    public static byte[] serialize(Map<String, ?> map) {
        StringBuilder b = new StringBuilder("{");
        sorted(map).forEach((k, v) -> {
            if (b.length() > 1) {
                b.append(", ");
            }
            quote(b, k);
            b.append(": ");
            if (v instanceof Number || v instanceof Boolean) {
                b.append(v);
            } else {
                quote(b, String.valueOf(v));
            }
        });
        return b.append('}').toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** {@code map} in the order of its keys: itself when it is sorted so already. */
    private static <V> SortedMap<String, V> sorted(Map<String, V> map) {
        if (map instanceof SortedMap<String, V> s && s.comparator() == null) {
            return s;
        }
        return new TreeMap<>(map);
    }

    /** {@code s} as a JSON string, escaped as in {@link #serialize} (ASCII only, one line). */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2);
        quote(b, s);
        return b.toString();
    }

    /** Printable ASCII without a quote or backslash: written as it is (paths, digests). */
    private static boolean plain(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                return false;
            }
        }
        return true;
    }

    /** The value of a JSON string ({@code "..."} with its escapes). */
    static String parseString(String json) throws IOException {
        String v = MAPPER.readValue(json, String.class);
        if (v == null) {
            throw new IOException("not a JSON string: " + json);
        }
        return v;
    }

    private static void quote(StringBuilder b, String s) {
        if (plain(s)) {
            b.append('"').append(s).append('"');
            return;
        }
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
