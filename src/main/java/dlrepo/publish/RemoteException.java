package dlrepo.publish;

/** A remote server refused a request or could not be reached: {@code <url>: <detail>}. */
final class RemoteException extends PublishException {
    private static final long serialVersionUID = 1L;
    private final String url;
    private final String detail;

    RemoteException(String url, String detail) {
        super(url + ": " + detail);
        this.url = url;
        this.detail = detail;
    }

    String url() {
        return url;
    }

    /** What went wrong, without the URL. */
    String detail() {
        return detail;
    }
}
