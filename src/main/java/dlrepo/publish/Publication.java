package dlrepo.publish;

import dlrepo.fs.ArtifactFormat;
import dlrepo.fs.Digest;
import dlrepo.fs.Job;
import dlrepo.fs.Tag;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One release of one tag (publish.md): for each server of DLREPO_PUBLISH_URL the filter
 * command accepts, each locked job not already there with the same digest is deleted there,
 * its non-internal formats sent (blobs the server has are linked, not sent), its metadata
 * set and the job locked. The tag's status tells where it is.
 */
final class Publication implements Run.Work {
    private static final Logger LOG = LoggerFactory.getLogger(Publication.class);
    static final String INTERRUPTED = "interrupted: the server stopped";

    private final Tag tag;
    private final RemotePublisher publisher;

    Publication(Tag tag, RemotePublisher publisher) {
        this.tag = tag;
        this.publisher = publisher;
    }

    @Override
    public void neverStarted(String reason) {
        fail(reason);
    }

    @Override
    public void run(Run run) {
        String where = tag.branch().name() + "/" + tag.name();
        try {
            String result = publish(run);
            tag.update(null, null, true, null);
            tag.setPublishStatus(result);
            LOG.info("tag {}: {}", where, result);
            publisher.result(true);
        } catch (InterruptedException | CancellationException e) {
            Thread.interrupted(); // the status is written below: no interrupted file channel
            stopped(run, where);
        } catch (IOException | RuntimeException e) {
            Thread.interrupted();
            if (run.stopped()) {
                stopped(run, where);
                return;
            }
            String msg = e instanceof PublishException ? e.getMessage() : e.toString();
            LOG.warn("tag {}: publishing failed: {}", where, msg, e instanceof PublishException ? null : e);
            fail(msg);
        }
    }

    private void stopped(Run run, String where) {
        if (run.reason() != null) {
            LOG.warn("tag {}: publishing stopped: {}", where, run.reason());
            fail(run.reason());
        } else {
            LOG.info("tag {}: publishing stopped by an unrelease", where);
        }
    }

    /** {@code error: <message>}; the tag is not released (its published jobs keep their flag). */
    private void fail(String message) {
        publisher.result(false);
        try {
            tag.update(null, null, false, null);
            tag.setPublishStatus("error: " + message);
        } catch (IOException | RuntimeException e) {
            LOG.warn("tag {}/{}: cannot write its publish status ({}): {}", tag.branch().name(), tag.name(), message,
                    e.toString());
        }
    }

    /** Publishes to every server; the status of a success. */
    private String publish(Run run) throws IOException, InterruptedException {
        Settings settings = publisher.settings();
        Credentials credentials = Credentials.read(settings.authFile());
        List<Job> jobs = tag.jobs();
        int accepted = 0;
        boolean published = false;
        for (String url : settings.urls()) {
            check(run);
            Instant deadline = Instant.now().plusSeconds(settings.timeout());
            if (settings.filter() != null && !settings.filter().accepts(tag.path(), url, deadline)) {
                continue;
            }
            accepted++;
            RemoteClient remote = publisher.client(url, credentials, deadline);
            for (Job job : jobs) {
                check(run);
                published |= publishJob(run, remote, job);
            }
        }
        if (accepted == 0) {
            throw new PublishException("nothing to publish: DLREPO_PUBLISH_FILTER_CMD refused every URL");
        }
        if (!published) {
            throw new PublishException("nothing to publish: no locked job");
        }
        return "published to " + settings.rawUrls().strip();
    }

    private static void check(Run run) throws InterruptedException {
        if (run.stopped() || Thread.currentThread().isInterrupted()) {
            throw new InterruptedException();
        }
    }

    /** Whether the job is on the remote now (sent, or already there). */
    private boolean publishJob(Run run, RemoteClient remote, Job job) throws IOException, InterruptedException {
        if (!job.isLocked()) {
            LOG.debug("{}: not locked, not published", job.path());
            return false;
        }
        RemoteClient.RemotePath jobPath = remotePath(job);
        if (job.isInternal()) {
            remote.delete(jobPath);
            if (job.isReleased()) {
                job.setReleased(false);
            }
            return false;
        }
        List<ArtifactFormat> formats = new ArrayList<>();
        for (ArtifactFormat f : job.formats()) {
            if (!f.isInternal()) {
                formats.add(f);
            }
        }
        if (formats.isEmpty()) {
            LOG.warn("{}: every format is internal: the job is not published", job.path());
            return false;
        }
        String digest = job.digest();
        var there = remote.getJson(jobPath);
        if (there.isPresent()) {
            if (!digest.isEmpty() && digest.equals(there.get().path("job").path("digest").asText())
                    && there.get().path("job").path("locked").asBoolean()) {
                LOG.debug("{}: already on {} with digest {}", job.path(), remote.url(), digest);
                job.setReleased(true);
                return true;
            }
            remote.delete(jobPath);
        }
        tag.setPublishStatus("uploading " + job.name() + " to " + remote.url());
        for (ArtifactFormat f : formats) {
            check(run);
            sendFormat(remote, f, jobPath.child(f.name()));
        }
        Map<String, String> metadata = job.metadata();
        remote.sendJson("PATCH", jobPath, Map.of("job", metadata));
        remote.sendJson("PUT", jobPath, Map.of("job", Map.of("locked", true)));
        String theirs = remote.getJson(jobPath).map(n -> n.path("job").path("digest").asText()).orElse("");
        if (!theirs.equals(digest)) {
            LOG.warn("{}: published to {} but its digest there is {}, not {} (different DLREPO_INTERNAL_FORMAT_FILTER "
                    + "or server version?): the next release sends it again", job.path(), remote.url(), theirs, digest);
        }
        job.setReleased(true);
        return true;
    }

    /** Sends the files of a format, in parallel up to DLREPO_PUBLISH_MAX_REQUESTS, then finalizes it. */
    private void sendFormat(RemoteClient remote, ArtifactFormat f, RemoteClient.RemotePath formatPath)
            throws IOException, InterruptedException {
        List<Future<?>> tasks = new ArrayList<>();
        try {
            for (Map.Entry<String, Digest> e : f.digests().entrySet()) {
                String rel = e.getKey();
                Digest d = e.getValue();
                Path file = f.file(rel);
                tasks.add(publisher.io().submit(() -> {
                    sendFile(remote, formatPath.file(rel), d, file);
                    return null;
                }));
            }
            for (Future<?> t : tasks) {
                try {
                    t.get();
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof IOException io) {
                        throw io;
                    }
                    if (c instanceof InterruptedException ie) {
                        throw ie;
                    }
                    if (c instanceof RuntimeException re) {
                        throw re;
                    }
                    throw new IOException(c);
                }
            }
        } finally {
            for (Future<?> t : tasks) {
                t.cancel(true);
            }
        }
        remote.patch(formatPath);
    }

    private static void sendFile(RemoteClient remote, RemoteClient.RemotePath path, Digest d, Path file)
            throws IOException, InterruptedException {
        if (remote.probe(path, d) && remote.putLink(path, d)) {
            return;
        }
        // the remote has no readable copy, or lost it between the probe and the link
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new PublishException(file + ": not a regular file");
        }
        remote.putFile(path, d, file);
    }

    /** The path of a job on the remotes: its local one ({@code /branches/...} or {@code /~user/branches/...}). */
    private static RemoteClient.RemotePath remotePath(Job job) {
        return tagPath(job.tag()).child(job.name());
    }

    static RemoteClient.RemotePath tagPath(Tag tag) {
        List<String> segments = new ArrayList<>();
        String user = tag.branch().repository().user();
        if (user != null) {
            segments.add("~" + user);
        }
        segments.add("branches");
        segments.add(tag.branch().name());
        segments.add(tag.name());
        return RemoteClient.RemotePath.folder(segments);
    }

    /** What a publication needs of the publisher's settings. */
    record Settings(List<String> urls, String rawUrls, Path authFile, FilterCommand filter, long timeout) {
    }
}
