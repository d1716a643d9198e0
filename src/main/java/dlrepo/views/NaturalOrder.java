package dlrepo.views;

import java.util.Comparator;
import java.util.Map;

/**
 * Names in the order people expect of versions: runs of digits compare as numbers, so
 * {@code v1.10} comes after {@code v1.9} and {@code 2026-11-30.10} after {@code .9}; a
 * pre-release comes before its release ({@code v2.4.0-rc1} and {@code v2.4.0~beta}
 * before {@code v2.4.0}, as in semantic versions and Debian's).
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
            if (isDigit(ca) && isDigit(cb)) {
                int ei = run(a, i);
                int ej = run(b, j);
                int c = compareNumbers(a, i, ei, b, j, ej);
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
        boolean aLeft = i < a.length();
        boolean bLeft = j < b.length();
        if (aLeft != bLeft) {
            // one is the other plus a suffix: a pre-release suffix makes it the lower one
            return aLeft ? (preRelease(a, i) ? -1 : 1) : (preRelease(b, j) ? 1 : -1);
        }
        return a.compareTo(b);
    }

    private static boolean preRelease(String s, int at) {
        char c = s.charAt(at);
        return c == '~' || c == '-' && at + 1 < s.length() && Character.isLetter(s.charAt(at + 1));
    }

    /** The numbers written {@code a[i, ei)} and {@code b[j, ej)} (ASCII digits), compared by value. */
    private static int compareNumbers(String a, int i, int ei, String b, int j, int ej) {
        while (i < ei - 1 && a.charAt(i) == '0') {
            i++;
        }
        while (j < ej - 1 && b.charAt(j) == '0') {
            j++;
        }
        if (ei - i != ej - j) {
            return ei - i < ej - j ? -1 : 1;
        }
        for (; i < ei; i++, j++) {
            if (a.charAt(i) != b.charAt(j)) {
                return a.charAt(i) < b.charAt(j) ? -1 : 1;
            }
        }
        return 0;
    }

    private static int run(String s, int from) {
        int e = from;
        while (e < s.length() && isDigit(s.charAt(e))) {
            e++;
        }
        return e;
    }

    /** ASCII digits only: other scripts' digits compare as characters. */
    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
