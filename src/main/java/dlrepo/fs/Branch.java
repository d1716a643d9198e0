package dlrepo.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code branches/<branch>/}: a line of development, its tags and its cleanup policy. */
public final class Branch extends Level {
    private final Repository repo;

    Branch(Repository repo, String name) {
        super(name, repo.branchesDir().resolve(name), repo.storage().root());
        this.repo = repo;
    }

    public Repository repository() {
        return repo;
    }

    public Tag tag(String tagName) {
        return new Tag(this, Names.checkCanonical("tag", tagName));
    }

    public List<Tag> tags() throws IOException {
        return children(n -> new Tag(this, n));
    }

    /** The tag a state was read from. */
    public Tag tag(TagState state) {
        return new Tag(this, state.name());
    }

    /**
     * The state of every tag, sorted by name, as {@link #tags()} lists them: one read of the
     * branch folder, then one folder read and one stat per tag.
     */
    public List<TagState> tagStates() throws IOException {
        return repo.storage().states().get(path(), "tags", this::readTagStates,
                states -> states.stream().mapToInt(TagState::weight).sum());
    }

    private List<TagState> readTagStates() throws IOException {
        Disk.Folder folder = readFolder();
        if (folder == null) {
            return List.of();
        }
        List<TagState> states = new ArrayList<>(folder.subfolders().size());
        for (Disk.Folder.Sub sub : folder.subfolders()) {
            TagState t = TagState.read(path().resolve(sub.name()), sub.name(), sub.modified());
            if (t != null) {
                states.add(t);
            }
        }
        return List.copyOf(states);
    }

    /**
     * The tag an alias stands for: {@code latest} the newest tag, {@code stable} the newest
     * stable tag, {@code oldstable} the one before it (by creation time).
     */
    public Optional<Tag> resolveAlias(String alias) throws IOException {
        Disk.Folder folder = readFolder();
        if (folder == null) {
            return Optional.empty();
        }
        // each candidate's time read once (a sort reading them would see them change), and
        // only what the alias needs: no flag for "latest", no time for a tag not stable
        List<Candidate> candidates = new ArrayList<>();
        for (Disk.Folder.Sub sub : folder.subfolders()) {
            Path dir = path().resolve(sub.name());
            if (alias.equals("latest") || Disk.flag(dir.resolve(".stable"))) {
                candidates.add(new Candidate(sub.name(), TagState.creationTime(dir, sub.modified())));
            }
        }
        candidates.sort(Candidate.NEWEST_FIRST);
        int index = alias.equals("oldstable") ? 1 : 0;
        return candidates.size() > index ? Optional.of(new Tag(this, candidates.get(index).name())) : Optional.empty();
    }

    /** A tag an alias may stand for, and its creation time. */
    private record Candidate(String name, double timestamp) {
        static final java.util.Comparator<Candidate> NEWEST_FIRST =
                java.util.Comparator.comparingDouble(Candidate::timestamp).thenComparing(Candidate::name).reversed();
    }

    public CleanupPolicy cleanupPolicy() throws IOException {
        Map<String, Object> raw = JsonFiles.readObject(path().resolve(".cleanup_policy"));
        return new CleanupPolicy(nonNegative(raw.get("max_daily_tags")), nonNegative(raw.get("max_released_tags")));
    }

    private static int nonNegative(Object o) {
        return o instanceof Integer i && i > 0 ? i : 0;
    }

    /** Sets the given limits (null keeps the current one); creates the branch if needed. */
    public void setCleanupPolicy(Integer maxDaily, Integer maxReleased) throws IOException {
        Disk disk = repo.storage().disk();
        try (TreeLocks.Lease l = repo.lock(path(), true)) {
            disk.createDirectories(path());
            CleanupPolicy current = cleanupPolicy();
            Map<String, Object> policy = new LinkedHashMap<>();
            policy.put("max_daily_tags", maxDaily != null ? maxDaily : current.maxDailyTags());
            policy.put("max_released_tags", maxReleased != null ? maxReleased : current.maxReleasedTags());
            disk.writeAtomically(path().resolve(".cleanup_policy"), JsonFiles.serialize(policy));
        }
    }

    /**
     * Deletes the branch and all its tags. Refused if a tag is locked, or released
     * (unless {@code force}).
     */
    public void delete(boolean force) throws IOException {
        try (TreeLocks.Lease l = repo.lock(path(), true)) {
            if (!exists()) {
                throw RepoException.notFound("Branch " + name() + " not found");
            }
            for (Tag t : tags()) {
                t.checkDeletable(force);
            }
            repo.products().unlinkAll(path(), 2);
            repo.remove(path());
        }
    }
}
