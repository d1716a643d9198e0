package dlrepo.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dlrepo.Caller;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One parsed scrape of /metrics (Prometheus text format): series to value. */
final class Scrape {
    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

    final String text;
    /** {@code name{k="v",...}} with labels sorted by name, to its value. */
    final Map<String, Double> samples = new LinkedHashMap<>();
    final Map<String, String> types = new TreeMap<>();

    private Scrape(String text) {
        this.text = text;
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String[] p = line.split(" ");
                types.put(p[2], p[3]);
                continue;
            }
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                throw new AssertionError("not a sample line: " + line);
            }
            Map<String, String> labels = new TreeMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                int end = 0;
                while (l.find() && l.start() == end) {
                    labels.put(l.group(1), l.group(2));
                    end = l.end();
                }
                if (end != m.group(3).length()) {
                    throw new AssertionError("bad labels: " + line);
                }
            }
            samples.put(key(m.group(1), labels), Double.parseDouble(m.group(4)));
        }
    }

    static Scrape of(Caller c) throws Exception {
        HttpResponse<String> r = c.get("/metrics");
        assertEquals(200, r.statusCode(), r::body);
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
        return new Scrape(r.body());
    }

    static Scrape parse(String text) {
        return new Scrape(text);
    }

    private static String key(String name, Map<String, String> labels) {
        StringBuilder b = new StringBuilder(name);
        if (!labels.isEmpty()) {
            b.append('{');
            labels.forEach((k, v) -> b.append(k).append("=\"").append(v).append("\","));
            b.setLength(b.length() - 1);
            b.append('}');
        }
        return b.toString();
    }

    /** The value of {@code name} with the labels {@code k1, v1, k2, v2...}; 0 if absent. */
    double value(String name, String... labels) {
        Double v = sample(name, labels);
        return v == null ? 0 : v;
    }

    /** The value, or null if there is no such series. */
    Double sample(String name, String... labels) {
        Map<String, String> l = new TreeMap<>();
        for (int i = 0; i + 1 < labels.length; i += 2) {
            l.put(labels[i], labels[i + 1]);
        }
        return samples.get(key(name, l));
    }

    /** The sum of every series of {@code name} whose labels include {@code k=v}. */
    double sum(String name, String k, String v) {
        double total = 0;
        for (Map.Entry<String, Double> e : samples.entrySet()) {
            String s = e.getKey();
            if ((s.startsWith(name + "{") && s.contains(k + "=\"" + v + "\"")) || (k == null && s.equals(name))) {
                total += e.getValue();
            }
        }
        return total;
    }

    boolean has(String name) {
        for (String s : samples.keySet()) {
            if (s.equals(name) || s.startsWith(name + "{")) {
                return true;
            }
        }
        return false;
    }
}
