package dlrepo.views;

import io.pebbletemplates.pebble.extension.AbstractExtension;
import io.pebbletemplates.pebble.extension.Filter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The filters the templates use to show dates and sizes: {@code utc} ("2026-11-30 14:02
 * UTC" from seconds since the epoch), {@code ago} ("3 hours ago"), {@code size} ("1.5
 * MiB" from bytes); and to put names in links: {@code seg} percent-encodes one path
 * segment, {@code path} each segment of a relative path (a name such as
 * {@code javascript:x} or {@code a?b#c} stays a relative path in a link); {@code sh}
 * quotes a word for a shell (commands shown to be copied hold names chosen by uploaders).
 */
final class PageFilters extends AbstractExtension {
    private static final DateTimeFormatter UTC =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);

    @Override
    public Map<String, Filter> getFilters() {
        return Map.of("utc", number(PageFilters::utc), "ago", number(PageFilters::ago), "size",
                number(PageFilters::size), "seg", text(PageFilters::segment), "path", text(PageFilters::path),
                "sh", text(PageFilters::shell));
    }

    private static Filter number(Function<Number, String> f) {
        return of((Object input) -> input instanceof Number n ? f.apply(n) : input == null ? "" : input.toString());
    }

    private static Filter text(Function<String, String> f) {
        return of((Object input) -> input == null ? "" : f.apply(input.toString()));
    }

    /** A filter without arguments applying {@code f} to its input. */
    private static Filter of(java.util.function.UnaryOperator<Object> f) {
        return new Filter() {
            @Override
            public List<String> getArgumentNames() {
                return List.of();
            }

            @Override
            public Object apply(Object input, Map<String, Object> args,
                    io.pebbletemplates.pebble.template.PebbleTemplate self,
                    io.pebbletemplates.pebble.template.EvaluationContext context, int line) {
                return f.apply(input);
            }
        };
    }

    /** {@code s} as one word for a POSIX shell: as is when that is safe, else single-quoted. */
    static String shell(String s) {
        if (!s.isEmpty() && s.matches("[A-Za-z0-9._/:=@%+,-]+")) {
            return s;
        }
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /** Percent-encodes all but the unreserved characters of RFC 3986. */
    static String segment(String s) {
        return dlrepo.http.Urls.encodeSegment(s);
    }

    /** Each segment of a relative path percent-encoded. */
    static String path(String s) {
        return String.join("/", java.util.Arrays.stream(s.split("/", -1)).map(PageFilters::segment).toList());
    }

    static String utc(Number seconds) {
        return UTC.format(Instant.ofEpochMilli((long) (seconds.doubleValue() * 1000)));
    }

    static String ago(Number seconds) {
        return ago(seconds.doubleValue(), System.currentTimeMillis() / 1000.0);
    }

    static String ago(double then, double now) {
        long s = Math.round(now - then);
        if (s < 0) {
            return "in the future";
        }
        if (s < 60) {
            return "just now";
        }
        long[] units = {60, 3600, 86400, 7 * 86400L, 30 * 86400L, 365 * 86400L};
        String[] names = {"minute", "hour", "day", "week", "month", "year"};
        int i = units.length - 1;
        while (s < units[i]) {
            i--;
        }
        long n = s / units[i];
        return n + " " + names[i] + (n == 1 ? "" : "s") + " ago";
    }

    static String size(Number bytes) {
        double b = bytes.doubleValue();
        if (b < 1024) {
            return (long) b + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        int i = -1;
        do {
            b /= 1024;
            i++;
        } while (b >= 1024 && i < units.length - 1);
        return String.format(Locale.ROOT, b < 10 ? "%.1f %s" : "%.0f %s", b, units[i]);
    }
}
