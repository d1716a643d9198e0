package dlrepo.registry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dlrepo.fs.Digest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What keeps the referrers of an image name consistent: one lock per name (striped),
 * held by the pushes and deletes that change referrers (never by reads; taken before any
 * format lock), and the referrers waiting for their subject: pushed by digest while no
 * tag of the name holds the manifest they refer to. A waiting referrer is linked into
 * the tag that brings its subject. In memory: lost on restart, like pending pushes;
 * bounded per name.
 */
final class Referrers {
    /** A referrer waiting for its subject: its descriptor, the files it links, who pushed it. */
    record Waiting(Digest digest, Digest subject, ObjectNode descriptor, Set<Digest> manifests, Set<Digest> blobs,
            String pusher) {
    }

    private static final int STRIPES = 256;
    private final ReentrantLock[] locks = new ReentrantLock[STRIPES];
    /** By image name, then by referrer digest; each map changed only under its name's lock. */
    private final ConcurrentHashMap<String, Map<Digest, Waiting>> waiting = new ConcurrentHashMap<>();
    private final int maxPerName;

    Referrers(int maxPerName) {
        this.maxPerName = maxPerName;
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new ReentrantLock();
        }
    }

    /** The lock of {@code image}'s referrers. */
    ReentrantLock lock(ImageName image) {
        return locks[Math.floorMod(image.name().hashCode(), STRIPES)];
    }

    /** Keeps {@code w} until its subject is tagged; DENIED past the bound. Under the name's lock. */
    void await(ImageName image, Waiting w, java.util.function.Predicate<Digest> stored) {
        Map<Digest, Waiting> map = waiting.computeIfAbsent(image.name(), k -> new ConcurrentHashMap<>());
        if (!map.containsKey(w.digest()) && map.size() >= maxPerName) {
            map.values().removeIf(old -> !stored.test(old.digest()));
            if (map.size() >= maxPerName) {
                throw RegistryError.denied(image.name() + " has " + maxPerName + " referrers whose subject is in no"
                        + " tag: push the images they refer to first");
            }
        }
        map.put(w.digest(), w);
    }

    /** The waiting referrers of {@code subject} in {@code image}. */
    List<Waiting> waitingFor(ImageName image, Digest subject) {
        List<Waiting> out = new ArrayList<>();
        Map<Digest, Waiting> map = waiting.get(image.name());
        if (map != null) {
            for (Waiting w : map.values()) {
                if (w.subject().equals(subject)) {
                    out.add(w);
                }
            }
        }
        return out;
    }

    /** Every waiting referrer of {@code image}. */
    java.util.Collection<Waiting> waitingOf(ImageName image) {
        Map<Digest, Waiting> map = waiting.get(image.name());
        return map == null ? List.of() : List.copyOf(map.values());
    }

    /** The waiting referrer {@code referrer} of {@code image}, if it waits. */
    java.util.Optional<Waiting> waiting(ImageName image, Digest referrer) {
        Map<Digest, Waiting> map = waiting.get(image.name());
        return java.util.Optional.ofNullable(map == null ? null : map.get(referrer));
    }

    /** {@code referrer} no longer waits (linked into a tag, or deleted). Under the name's lock. */
    boolean forget(ImageName image, Digest referrer) {
        Map<Digest, Waiting> map = waiting.get(image.name());
        if (map == null) {
            return false;
        }
        boolean removed = map.remove(referrer) != null;
        waiting.computeIfPresent(image.name(), (k, m) -> m.isEmpty() ? null : m);
        return removed;
    }
}
