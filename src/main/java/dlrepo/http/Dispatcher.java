package dlrepo.http;

import dlrepo.fs.RepoException;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.util.Map;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoUtils;

/**
 * Runs every request on a worker thread in blocking mode (handlers read and write the
 * disk), turns exceptions into error answers and writes the access log line. A worker
 * never waits for a request body nobody reads ({@link BlockingExchange}) nor for a body
 * moving slower than the {@link MinimumRate}.
 */
public final class Dispatcher implements HttpHandler {
    private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);

    private final HttpHandler next;
    private final MinimumRate minimumRate;
    private final PageRenderer pages;
    private final Predicate<HttpServerExchange> fromMemory;
    private final RequestObserver observer;

    /**
     * {@code fromMemory} answers, on the I/O thread, the requests it can answer without
     * blocking (listings held in memory) and says whether it did; the others go to a worker.
     * {@code observer} hears of every request once it is complete.
     */
    public Dispatcher(HttpHandler next, MinimumRate minimumRate, PageRenderer pages,
            Predicate<HttpServerExchange> fromMemory, RequestObserver observer) {
        this.next = next;
        this.minimumRate = minimumRate;
        this.pages = pages;
        this.fromMemory = fromMemory;
        this.observer = observer;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) {
        if (ex.isInIoThread()) {
            long start = System.nanoTime();
            ex.addExchangeCompleteListener((e, nextListener) -> {
                try {
                    observer.requestDone(e, start);
                } catch (RuntimeException t) {
                    LOG.warn("after {} {}: {}", e.getRequestMethod(), e.getRequestURI(), t.toString());
                }
                nextListener.proceed();
            });
            if (!fromMemory.test(ex)) {
                ex.dispatch(this);
            }
            return;
        }
        ex.putAttachment(PageRenderer.KEY, pages);
        minimumRate.guard(ex);
        BlockingExchange.start(ex);
        try {
            next.handleRequest(ex);
        } catch (Throwable t) {
            fail(ex, t);
        }
    }

    private static void fail(HttpServerExchange ex, Throwable t) {
        int status;
        String message;
        Map<String, String> headers = Map.of();
        if (t instanceof HttpError e) {
            status = e.status();
            message = e.getMessage();
            headers = e.headers();
        } else if (t instanceof RepoException e) {
            status = switch (e.kind()) {
                case BAD_REQUEST -> 400;
                case NOT_FOUND -> 404;
                case BAD_DIGEST -> 422;
                case QUOTA_EXCEEDED -> 413;
                case POST_PROCESS_FAILED -> 500;
                case FORBIDDEN -> 403;
                case CONFLICT -> 409;
            };
            message = e.getMessage();
        } else if (nameTooLong(t)) {
            // the paths are checked before anything is created; this is the last line
            // (a file system with shorter limits than Linux's usual ones)
            status = 400;
            message = "File name too long for the server's file system";
            LOG.warn("{} {}: {}", ex.getRequestMethod(), ex.getRequestURI(), t.toString());
        } else if (diskFull(t)) {
            status = 507;
            message = "Insufficient storage: no space left on the server's disk";
            LOG.error("{} {}: disk full", ex.getRequestMethod(), ex.getRequestURI());
        } else if (stalled(t, ex)) {
            LOG.warn("{} {} from {}: client stalled or too slow, connection closed ({})", ex.getRequestMethod(),
                    ex.getRequestURI(), ex.getSourceAddress().getAddress().getHostAddress(), t.getMessage() == null
                            ? t.getClass().getSimpleName() : t.getMessage());
            IoUtils.safeClose(ex.getConnection());
            return;
        } else if (isClientAbort(t)) {
            LOG.debug("{} {}: client went away: {}", ex.getRequestMethod(), ex.getRequestURI(), t.toString());
            IoUtils.safeClose(ex.getConnection());
            return;
        } else {
            status = 500;
            message = "Internal server error";
            LOG.error("{} {} failed", ex.getRequestMethod(), ex.getRequestURI(), t);
        }
        if (ex.isResponseStarted()) {
            LOG.debug("{} {}: error after the response started: {}", ex.getRequestMethod(), ex.getRequestURI(),
                    t.toString());
            IoUtils.safeClose(ex.getConnection());
            return;
        }
        ex.getResponseHeaders().clear();
        try {
            if (Responses.rawPath(ex).startsWith("/v2")) {
                registryError(ex, status, t instanceof HttpError e ? e.code() : null, message, headers);
                return;
            }
            Responses.error(ex, status, message, headers);
        } catch (RuntimeException e) {
            IoUtils.safeClose(ex.getConnection());
        }
    }

    /**
     * Errors under /v2/ in the registry's format: {@code {"errors": [{"code", "message",
     * "detail"}]}}, with a code derived from the status when the error has none.
     */
    private static void registryError(HttpServerExchange ex, int status, String code, String message,
            Map<String, String> headers) {
        if (code == null) {
            code = switch (status) {
                case 401 -> "UNAUTHORIZED";
                case 403, 413 -> "DENIED";
                case 404 -> "NAME_UNKNOWN";
                case 416 -> "BLOB_UPLOAD_INVALID";
                case 422 -> "DIGEST_INVALID";
                default -> "UNSUPPORTED";
            };
            status = switch (status) {
                case 413 -> 403;
                case 422 -> 400;
                default -> status;
            };
        }
        headers.forEach((k, v) -> ex.getResponseHeaders().put(new HttpString(k), v));
        ex.getResponseHeaders().put(new HttpString("Docker-Distribution-Api-Version"), "registry/2.0");
        java.util.Map<String, Object> err = new java.util.LinkedHashMap<>();
        err.put("code", code);
        err.put("message", message);
        err.put("detail", null);
        Responses.json(ex, status, Map.of("errors", java.util.List.of(err)));
    }

    private static boolean diskFull(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = c instanceof FileSystemException fse ? fse.getReason() : c.getMessage();
            if (m != null && m.contains("No space left on device")) {
                return true;
            }
        }
        return false;
    }

    /** ENAMETOOLONG: a path or one of its names is longer than the file system takes. */
    private static boolean nameTooLong(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof FileSystemException fse && "File name too long".equals(fse.getReason())) {
                return true;
            }
        }
        return false;
    }

    /**
     * A client cut for stalling (DLREPO_IO_TIMEOUT) or slowness (DLREPO_MIN_BODY_RATE): the
     * timeouts close the connection under the handler, which then sees it closed. A closed
     * channel while the connection is still open is one of ours: a bug, not the client.
     */
    private static boolean stalled(Throwable t, HttpServerExchange ex) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SlowClientException || c instanceof org.xnio.channels.ReadTimeoutException
                    || c instanceof org.xnio.channels.WriteTimeoutException
                    || c instanceof java.nio.channels.ClosedChannelException && !ex.getConnection().isOpen()) {
                return true;
            }
        }
        return false;
    }

    private static boolean isClientAbort(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = c instanceof IOException ? c.getMessage() : null;
            if (m != null && (m.contains("UT000128") || m.contains("Connection reset") || m.contains("Broken pipe")
                    || m.contains("UT000036"))) {
                return true;
            }
        }
        return false;
    }
}
