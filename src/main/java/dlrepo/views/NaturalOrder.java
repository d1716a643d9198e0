package dlrepo.views;

import java.math.BigInteger;
import java.util.Comparator;
import java.util.Map;

/**
 * Names in the order people expect of versions: runs of digits compare as numbers, so
 * {@code v1.10} comes after {@code v1.9} and {@code 2026-11-30.10} after {@code .9}.
 */
final class NaturalOrder implements Comparator<String> {
    static final NaturalOrder INSTANCE = new NaturalOrder();

    private NaturalOrder() {
    }

    /** Views (maps with a "name") by their names, the highest version first. */
    static Comparator<Map<String, Object>> newestFirst() {
        return Comparator.comparing((Map<String, Object> m) -> String.valueOf(m.get("name")), INSTANCE).reversed();
    }

    @Override
    public int compare(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i);
            char cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int ei = run(a, i);
                int ej = run(b, j);
                int c = new BigInteger(a.substring(i, ei)).compareTo(new BigInteger(b.substring(j, ej)));
                if (c != 0) {
                    return c;
                }
                i = ei;
                j = ej;
            } else {
                if (ca != cb) {
                    return Character.compare(ca, cb);
                }
                i++;
                j++;
            }
        }
        int c = Integer.compare(a.length() - i, b.length() - j);
        return c != 0 ? c : a.compareTo(b);
    }

    private static int run(String s, int from) {
        int e = from;
        while (e < s.length() && s.charAt(e) >= '0' && s.charAt(e) <= '9') {
            e++;
        }
        return e;
    }
}
