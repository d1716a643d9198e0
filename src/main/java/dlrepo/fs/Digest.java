package dlrepo.fs;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/** A SHA-256 content digest, written {@code sha256:<64 lowercase hex>}. */
public record Digest(String hex) {
    private static final String PREFIX = "sha256:";

    public Digest {
        if (!isHex(hex)) {
            throw new IllegalArgumentException("not a sha256 hex digest: " + hex);
        }
    }

    /** Parses {@code sha256:<hex>}; anything else is a {@link RepoException.Kind#BAD_DIGEST}. */
    public static Digest parse(String text) {
        if (text != null) {
            String t = text.strip();
            if (t.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
                String hex = t.substring(PREFIX.length()).toLowerCase(Locale.ROOT);
                if (isHex(hex)) {
                    return new Digest(hex);
                }
            }
        }
        throw new RepoException(RepoException.Kind.BAD_DIGEST,
                "Invalid digest '" + text + "': expected sha256:<64 hex characters>");
    }

    /**
     * 64 lowercase hexadecimal digits. By hand rather than with a regular expression: every
     * entry of a {@code .digests} read is parsed, and the regex was a third of the CPU of a
     * referrer push into a format of thousands of entries.
     */
    private static boolean isHex(String s) {
        if (s.length() != 64) {
            return false;
        }
        for (int i = 0; i < 64; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Digest of(MessageDigest md) {
        return new Digest(HexFormat.of().formatHex(md.digest()));
    }

    public static Digest of(byte[] data) {
        return new Digest(HexFormat.of().formatHex(sha256().digest(data)));
    }

    @Override
    public String toString() {
        return PREFIX + hex;
    }
}
