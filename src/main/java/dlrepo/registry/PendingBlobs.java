package dlrepo.registry;

import dlrepo.fs.Digest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What was pushed to an image name and is not in any of its manifests yet: blobs
 * (uploaded or mounted) and manifests pushed by digest (an index's children). The
 * distribution flow reads them back through that name before the manifest that links
 * them arrives; once it has, they are reached through its tag (whose ACL then applies).
 * Until then only their pusher reaches them that way: a reader of the name may not read
 * the tag they are meant for.
 * <p>
 * Kept by login, then by image name. What a login pushed to one name is kept while that
 * push goes on (a blob pushed or read back, a chunk received, a manifest using them), and
 * dropped after the idle timeout without any of that: a large layer over a slow link keeps
 * the small ones pushed before it. Each login may have a bounded number at once; past it,
 * its pushes are refused rather than anyone's forgotten. In memory: after a restart a
 * client pushes again (the store keeps one copy).
 */
final class PendingBlobs {
    enum Kind {
        BLOB, MANIFEST
    }

    /** One login's pushes, by image name; changed only inside the map's compute for that login. */
    private static final class Pushes {
        final Map<String, Image> images = new HashMap<>();
        int count;
    }

    /** What one login pushed to one image name, kept together while that push goes on. */
    private static final class Image {
        final Set<String> items = new HashSet<>();
        long lastUse;
    }

    private final long idleNanos;
    private final int maxPerLogin;
    private final ConcurrentHashMap<String, Pushes> byLogin = new ConcurrentHashMap<>();
    /** When the pushes of logins that went away are dropped next. */
    private final AtomicLong nextSweep = new AtomicLong(System.nanoTime());

    PendingBlobs(Duration idle, int maxPerLogin) {
        this.idleNanos = idle.toNanos();
        this.maxPerLogin = maxPerLogin;
    }

    /**
     * Records that {@code login} pushed {@code d} to {@code image}; DENIED (403) when it
     * would be more than the bound of that login.
     */
    void add(String login, ImageName image, Kind kind, Digest d) {
        long now = System.nanoTime();
        sweep(now);
        byLogin.compute(login, (k, p) -> {
            Pushes pushes = p == null ? new Pushes() : p;
            Image img = live(pushes, image.name(), now);
            String item = item(kind, d);
            if (img == null || !img.items.contains(item)) {
                requireRoom(login, pushes, now);
                if (img == null) {
                    img = new Image();
                    pushes.images.put(image.name(), img);
                }
                img.items.add(item);
                pushes.count++;
            }
            img.lastUse = now;
            return pushes;
        });
    }

    /**
     * DENIED (403) when {@code login} may push nothing new before a manifest uses her
     * pushes; blob {@code d} (null: not known yet) to {@code image} again is no new push.
     */
    void checkRoom(String login, ImageName image, Digest d) {
        long now = System.nanoTime();
        byLogin.computeIfPresent(login, (k, pushes) -> {
            Image img = live(pushes, image.name(), now);
            if (d == null || img == null || !img.items.contains(item(Kind.BLOB, d))) {
                requireRoom(login, pushes, now);
            }
            return pushes.count == 0 ? null : pushes;
        });
    }

    /** A push of {@code login} to {@code image} goes on (a chunk arrives): what she pushed there is kept. */
    void touch(String login, ImageName image) {
        long now = System.nanoTime();
        byLogin.computeIfPresent(login, (k, pushes) -> {
            Image img = live(pushes, image.name(), now);
            if (img != null) {
                img.lastUse = now;
            }
            return pushes.count == 0 ? null : pushes;
        });
    }

    /** {@code d} is now in a manifest of the image: what reaches it is that manifest's tag. */
    void remove(ImageName image, Kind kind, Digest d) {
        for (String login : byLogin.keySet()) {
            byLogin.computeIfPresent(login, (k, pushes) -> {
                Image img = pushes.images.get(image.name());
                if (img != null && img.items.remove(item(kind, d))) {
                    pushes.count--;
                    if (img.items.isEmpty()) {
                        pushes.images.remove(image.name());
                    }
                }
                return pushes.count == 0 ? null : pushes;
            });
        }
    }

    /** Whether {@code login} pushed {@code d} to {@code image}; a use that keeps it. */
    boolean contains(String login, ImageName image, Kind kind, Digest d) {
        long now = System.nanoTime();
        boolean[] found = {false};
        byLogin.computeIfPresent(login, (k, pushes) -> {
            Image img = live(pushes, image.name(), now);
            if (img != null && img.items.contains(item(kind, d))) {
                img.lastUse = now;
                found[0] = true;
            }
            return pushes.count == 0 ? null : pushes;
        });
        return found[0];
    }

    /** The pushes to {@code name}, unless they were idle too long (then they are dropped). */
    private Image live(Pushes pushes, String name, long now) {
        Image img = pushes.images.get(name);
        if (img != null && now - img.lastUse > idleNanos) {
            pushes.images.remove(name);
            pushes.count -= img.items.size();
            return null;
        }
        return img;
    }

    private void requireRoom(String login, Pushes pushes, long now) {
        if (pushes.count >= maxPerLogin) {
            prune(pushes, now);
            if (pushes.count >= maxPerLogin) {
                throw RegistryError.denied(login + " has " + maxPerLogin + " blobs and manifests pushed that no"
                        + " manifest uses yet: push the manifests that use them first");
            }
        }
    }

    private void prune(Pushes pushes, long now) {
        for (Iterator<Image> it = pushes.images.values().iterator(); it.hasNext();) {
            Image img = it.next();
            if (now - img.lastUse > idleNanos) {
                pushes.count -= img.items.size();
                it.remove();
            }
        }
    }

    /** Once per idle timeout, drops what logins that stopped pushing left. */
    private void sweep(long now) {
        long next = nextSweep.get();
        if (now - next < 0 || !nextSweep.compareAndSet(next, now + idleNanos)) {
            return;
        }
        for (String login : byLogin.keySet()) {
            byLogin.computeIfPresent(login, (k, pushes) -> {
                prune(pushes, now);
                return pushes.count == 0 ? null : pushes;
            });
        }
    }

    private static String item(Kind kind, Digest d) {
        return kind + " " + d.hex();
    }
}
