package dlrepo.auth;

/**
 * The kind of access a request needs: add (PUT, PATCH, POST under /v2/), delete (DELETE),
 * update (POST elsewhere), read (everything else).
 */
public enum Operation {
    READ('r'), ADD('a'), DELETE('d'), UPDATE('u');

    private final char letter;

    Operation(char letter) {
        this.letter = letter;
    }

    public char letter() {
        return letter;
    }

    public static Operation of(String method, String path) {
        return switch (method) {
            case "PUT", "PATCH" -> ADD;
            case "DELETE" -> DELETE;
            case "POST" -> path.startsWith("/v2/") ? ADD : UPDATE;
            default -> READ;
        };
    }
}
