package dlrepo.fs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** {@code branches/<b>/<tag>/}: one build or release of a branch. */
public final class Tag extends Level {
    /** Newest first by creation time, ties broken by name(). */
    public static final Comparator<Tag> NEWEST_FIRST =
            Comparator.comparingDouble(Tag::timestamp).thenComparing(Tag::name).reversed();

    private final Branch branch;

    Tag(Branch branch, String name) {
        super(name, branch.path().resolve(name), branch.root());
        this.branch = branch;
    }

    public Branch branch() {
        return branch;
    }

    /** Creation time: the mtime of {@code .stamp} (of the folder for a tag without one). */
    public double timestamp() {
        try {
            return Disk.timestamp(path().resolve(".stamp"));
        } catch (IOException e) {
            try {
                return Disk.timestamp(path());
            } catch (IOException e2) {
                return 0;
            }
        }
    }

    public boolean isReleased() {
        return Disk.flag(path().resolve(".released"));
    }

    public boolean isLocked() {
        return Disk.flag(path().resolve(".locked"));
    }

    public boolean isStable() {
        return Disk.flag(path().resolve(".stable"));
    }

    /** The description, or null. */
    public String description() throws IOException {
        return Disk.readText(path().resolve(".description")).map(String::strip).filter(s -> !s.isEmpty()).orElse(null);
    }

    /** The publication status line, or null. */
    public String publishStatus() throws IOException {
        return Disk.readText(path().resolve(".publish-status")).map(String::strip).filter(s -> !s.isEmpty()).orElse(null);
    }

    public Job job(String jobName) {
        return new Job(this, Names.checkCanonical("job", jobName));
    }

    public List<Job> jobs() throws IOException {
        return children(n -> new Job(this, n));
    }

    /** The job a state was read from. */
    public Job job(JobState state) {
        return new Job(this, state.name());
    }

    /** A tag's state and its jobs' (sorted by name, as {@link #jobs()} lists them). */
    public record Listing(TagState state, List<JobState> jobs) {
    }

    /**
     * This tag's state and its jobs', from one read of its folder, then one folder read and
     * one {@code .metadata} per job; null if the tag does not exist.
     */
    public Listing listing() throws IOException {
        return branch.repository().storage().states().get(path(), "listing", this::readListing,
                l -> l.state().weight() + l.jobs().stream().mapToInt(JobState::weight).sum());
    }

    private Listing readListing() throws IOException {
        Disk.Folder folder = readFolder();
        if (folder == null) {
            return null;
        }
        TagState state = TagState.of(path(), name(), null, folder.dotNames());
        List<JobState> jobs = new ArrayList<>(folder.subfolders().size());
        for (Disk.Folder.Sub sub : folder.subfolders()) {
            JobState j = JobState.read(path().resolve(sub.name()), sub.name());
            if (j != null) {
                jobs.add(j);
            }
        }
        return new Listing(state, List.copyOf(jobs));
    }

    /** This tag's state, read in one go; null if the tag does not exist. */
    public TagState state() throws IOException {
        if (!exists()) {
            return null;
        }
        return TagState.read(path(), name(), null);
    }

    /** Changes what is not null among the flags and the description, atomically per file. */
    public void update(Boolean locked, Boolean stable, Boolean released, String description) throws IOException {
        Disk disk = disk();
        try (TreeLocks.Lease l = lock(true)) {
            requireExists();
            if (locked != null) {
                disk.setFlag(path().resolve(".locked"), locked);
            }
            if (stable != null) {
                disk.setFlag(path().resolve(".stable"), stable);
            }
            if (released != null) {
                disk.setFlag(path().resolve(".released"), released);
            }
            if (description != null) {
                Path file = path().resolve(".description");
                if (description.isBlank()) {
                    disk.delete(file);
                } else {
                    disk.writeAtomically(file, (description.strip() + "\n").getBytes(StandardCharsets.UTF_8));
                }
            }
        }
    }

    /** Writes the publication status line (null removes it). */
    public void setPublishStatus(String status) throws IOException {
        Path file = path().resolve(".publish-status");
        try (TreeLocks.Lease l = lock(true)) {
            requireExists();
            if (status == null) {
                disk().delete(file);
            } else {
                disk().writeAtomically(file, (status + "\n").getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    void checkDeletable(boolean force) {
        if (isLocked()) {
            throw RepoException.badRequest("Tag " + name() + " is locked");
        }
        if (!force && isReleased()) {
            throw RepoException.badRequest("Tag " + name() + " is released, unrelease it first");
        }
    }

    /** Deletes the tag and its jobs; refused if locked, or released unless {@code force}. */
    public void delete(boolean force) throws IOException {
        try (TreeLocks.Lease l = lock(true)) {
            requireExists();
            checkDeletable(force);
            Repository repo = branch.repository();
            repo.products().unlinkAll(path(), 1);
            repo.remove(path());
        }
    }

    void requireExists() {
        if (!exists()) {
            throw RepoException.notFound("Tag " + branch.name() + "/" + name() + " not found");
        }
    }

    /** Creates the tag folder and its {@code .stamp} if needed; the caller holds a lock. */
    void create() throws IOException {
        if (!exists()) {
            disk().createDirectories(path());
        }
        if (!Files.exists(path().resolve(".stamp"))) {
            disk().setFlag(path().resolve(".stamp"), true);
        }
    }

    TreeLocks.Lease lock(boolean exclusive) {
        return branch.repository().lock(path(), exclusive);
    }

    private Disk disk() {
        return branch.repository().storage().disk();
    }
}
