package dlrepo.auth;

import at.favre.lib.crypto.bcrypt.BCrypt;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.codec.digest.Crypt;

/**
 * Checks a password against the password field of the auth file, which is one of:
 * {@code $2a$}/{@code $2b$}/{@code $2y$} bcrypt, {@code $5$}/{@code $6$} SHA-crypt (as made by
 * {@code mkpasswd -m sha-512}), {@code {SHA256}} followed by the base64 or hex SHA-256 of
 * the password, or else the password in clear text. Comparisons take constant time.
 */
public final class Passwords {
    private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]\\$(\\d\\d)\\$.*");
    private static final Pattern SHA_CRYPT = Pattern.compile("\\$([56])\\$(rounds=(\\d+)\\$)?.*");
    private static final SecureRandom RANDOM = new SecureRandom();

    private Passwords() {
    }

    /**
     * What checking a password against {@code stored} costs, as a key: the scheme and its
     * work factor ({@code bcrypt:10}, {@code sha-crypt:6:5000}); {@code fast} for the
     * others. Two fields with the same key take the same time to check.
     */
    static String cost(String stored) {
        Matcher m = BCRYPT.matcher(stored);
        if (m.matches()) {
            return "bcrypt:" + Integer.parseInt(m.group(1));
        }
        m = SHA_CRYPT.matcher(stored);
        if (m.matches()) {
            return "sha-crypt:" + m.group(1) + ":" + (m.group(3) == null ? "5000" : m.group(3));
        }
        return "fast";
    }

    /**
     * A password field of the given {@link #cost} for a random password nobody knows:
     * checking a password against it takes as long as against a real field of that cost.
     */
    static String dummy(String cost) {
        char[] secret = HexFormat.of().formatHex(randomBytes(16)).toCharArray();
        String[] parts = cost.split(":");
        try {
            if (parts[0].equals("bcrypt")) {
                int rounds = Integer.parseInt(parts[1]);
                if (rounds >= 4 && rounds <= 31) {
                    return BCrypt.withDefaults().hashToString(rounds, secret);
                }
            } else if (parts[0].equals("sha-crypt")) {
                String saltText = Base64.getEncoder().withoutPadding().encodeToString(randomBytes(12)).replace('+', '.');
                return Crypt.crypt(new String(secret).getBytes(StandardCharsets.UTF_8),
                        "$" + parts[1] + "$rounds=" + parts[2] + "$" + saltText);
            }
        } catch (IllegalArgumentException e) {
            // a work factor the libraries refuse: such fields fail fast anyway
        }
        return "{SHA256}" + Base64.getEncoder().encodeToString(randomBytes(32));
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
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
