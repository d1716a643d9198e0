package dlrepo.http;

import java.nio.charset.StandardCharsets;

/**
 * {@code Content-Disposition: attachment} for a file name made of names of the tree and
 * of job metadata, whatever they hold: a quote, a backslash or a control character can
 * neither end the parameter nor add a header. A plain ASCII name is sent as
 * {@code filename="<name>"}; any other as an ASCII fallback (every character outside
 * printable ASCII, and {@code "}, {@code \} and {@code %}, as {@code _}) followed by the
 * exact name in RFC 6266/5987 form, {@code filename*=UTF-8''<percent-encoded>}, which
 * browsers and curl prefer.
 */
public final class ContentDisposition {
    private ContentDisposition() {
    }

    public static String attachment(String fileName) {
        String fallback = fallback(fileName);
        if (fallback.equals(fileName)) {
            return "attachment; filename=\"" + fileName + "\"";
        }
        return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + encode(fileName);
    }

    private static String fallback(String name) {
        StringBuilder b = new StringBuilder(name.length());
        name.codePoints().forEach(c -> b.append(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%'
                ? (char) c : '_'));
        return b.toString();
    }

    /** RFC 5987 value-chars: attr-chars as they are, every other byte of the UTF-8 form as %XX. */
    private static String encode(String name) {
        StringBuilder b = new StringBuilder();
        for (byte x : name.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "!#$&+-.^_`|~".indexOf(c) >= 0) {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return b.toString();
    }
}
