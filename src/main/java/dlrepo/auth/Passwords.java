package dlrepo.auth;

import at.favre.lib.crypto.bcrypt.BCrypt;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import org.apache.commons.codec.digest.Crypt;

/**
 * Checks a password against the password field of the auth file, which is one of:
 * {@code $2a$}/{@code $2b$}/{@code $2y$} bcrypt, {@code $5$}/{@code $6$} SHA-crypt (as made by
 * {@code mkpasswd -m sha-512}), {@code {SHA256}} followed by the base64 or hex SHA-256 of
 * the password, or else the password in clear text. Comparisons take constant time.
 */
public final class Passwords {
    private Passwords() {
    }

    public static boolean matches(String stored, String given) {
        try {
            if (stored.startsWith("$2a$") || stored.startsWith("$2b$") || stored.startsWith("$2y$")) {
                return BCrypt.verifyer().verify(given.toCharArray(), stored.toCharArray()).verified;
            }
            if (stored.startsWith("$5$") || stored.startsWith("$6$")) {
                return same(Crypt.crypt(given.getBytes(StandardCharsets.UTF_8), stored), stored);
            }
            if (stored.regionMatches(true, 0, "{SHA256}", 0, 8)) {
                byte[] want = decode(stored.substring(8));
                byte[] got = MessageDigest.getInstance("SHA-256").digest(given.getBytes(StandardCharsets.UTF_8));
                return want != null && MessageDigest.isEqual(want, got);
            }
        } catch (IllegalArgumentException | java.security.NoSuchAlgorithmException e) {
            return false;
        }
        return same(stored, given);
    }

    private static byte[] decode(String s) {
        if (s.matches("[0-9a-fA-F]{64}")) {
            return HexFormat.of().parseHex(s);
        }
        try {
            return Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static boolean same(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
