package dlrepo.fs;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/** A SHA-256 content digest, written {@code sha256:<64 lowercase hex>}. */
public record Digest(String hex) {
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");
    private static final String PREFIX = "sha256:";

    public Digest {
        if (!HEX.matcher(hex).matches()) {
            throw new IllegalArgumentException("not a sha256 hex digest: " + hex);
        }
    }

    /** Parses {@code sha256:<hex>}; anything else is a {@link RepoException.Kind#BAD_DIGEST}. */
    public static Digest parse(String text) {
        if (text != null) {
            String t = text.strip();
            if (t.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
                String hex = t.substring(PREFIX.length()).toLowerCase(Locale.ROOT);
                if (HEX.matcher(hex).matches()) {
                    return new Digest(hex);
                }
            }
        }
        throw new RepoException(RepoException.Kind.BAD_DIGEST,
                "Invalid digest '" + text + "': expected sha256:<64 hex characters>");
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
