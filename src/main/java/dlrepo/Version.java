package dlrepo;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version of this build, from the pom (one number for the jar, the pages and the package). */
public final class Version {
    private static final String VERSION = load();

    private Version() {
    }

    public static String get() {
        return VERSION;
    }

    private static String load() {
        try (InputStream in = Version.class.getResourceAsStream("/dlrepo/version.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version", "");
                if (!v.isBlank() && !v.startsWith("${")) {
                    return v.strip();
                }
            }
        } catch (IOException e) {
            // fall through to the manifest
        }
        String v = Version.class.getPackage().getImplementationVersion();
        return v == null ? "unknown" : v;
    }
}
