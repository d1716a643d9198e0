package dlrepo.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dlrepo.Config;
import dlrepo.http.Access;
import dlrepo.http.AccessLog;
import dlrepo.http.HttpError;
import dlrepo.http.RequestUser;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import io.undertow.util.Headers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who is calling (proxy headers, HTTP Basic against LDAP or the auth file, or anonymous)
 * and what they may do (the ACL files). Successful logins are cached under a hash of the
 * client and the credentials, and the same credentials of a client sent in several
 * requests at once are checked once; failed checks are counted per client and login
 * ({@link LoginThrottle}).
 * {@link #reload()} (SIGHUP) re-reads the auth file and the ACLs and flushes the cache;
 * broken files on reload keep the previous ones.
 */
public final class AuthService implements Access, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuthService.class);
    static final AttachmentKey<Identity> IDENTITY = AttachmentKey.create(Identity.class);

    private record Rules(AuthFile users, Acls acls) {
    }

    private final Config.Auth config;
    private final LdapDirectory ldap;
    /** A credential check's outcome, valid only under the rules it was made with. */
    private record Checked(Rules rules, Identity identity) {
    }

    private final Cache<String, Checked> cache;
    private final LoginThrottle throttle;
    /**
     * The credential checks under way, by cache key. Not {@code cache.get(key, loader)}:
     * Caffeine runs a loader inside {@code ConcurrentHashMap.compute}, where a check (bcrypt,
     * an LDAP bind up to its timeout) would hold up other keys of the same bin, and a failed
     * check, which stores nothing, would be made again by each request that waited for it.
     */
    private final ConcurrentHashMap<String, CompletableFuture<Checked>> checking = new ConcurrentHashMap<>();
    private volatile Rules rules;

    private AuthService(Config.Auth config, LdapDirectory ldap, Rules rules) {
        this.config = config;
        this.ldap = ldap;
        this.rules = rules;
        this.throttle = new LoginThrottle(config.maxFailures(), config.failureWindow(), Ticker.systemTicker());
        this.cache = Caffeine.newBuilder().maximumSize(config.cacheSize())
                .expireAfterWrite(Duration.ofSeconds(config.cacheTtl())).build();
    }

    /** Loads the auth file and ACLs; a broken ACL file stops the start-up. */
    public static AuthService start(Config.Auth config) throws IOException {
        Rules rules = new Rules(config.ldap().isPresent() ? AuthFile.empty() : AuthFile.load(config.authFile()),
                Acls.load(config.aclsDir()));
        LdapDirectory ldap = null;
        if (config.ldap().isPresent()) {
            try {
                ldap = new LdapDirectory(config.ldap().get());
            } catch (Exception e) {
                throw new IOException("DLREPO_LDAP_URL: " + e.getMessage(), e);
            }
        }
        if (config.ignorePasswords()) {
            LOG.warn("DLREPO_IGNORE_PASSWORDS=1: passwords are NOT checked, any password logs a user in");
        }
        return new AuthService(config, ldap, rules);
    }

    public void reload() {
        try {
            Rules r = new Rules(config.ldap().isPresent() ? AuthFile.empty() : AuthFile.load(config.authFile()),
                    Acls.load(config.aclsDir()));
            rules = r;
            cache.invalidateAll();
            LOG.info("reloaded {} and the ACLs of {}", config.authFile(), config.aclsDir());
        } catch (IOException | RuntimeException e) {
            LOG.error("reload failed, keeping the previous users and ACLs: {}", e.getMessage());
        }
    }

    /** The caller of {@code ex}, from proxy headers, Basic credentials or anonymous. */
    public Identity identify(HttpServerExchange ex) {
        if (config.loginHeader().isPresent()) {
            String login = ex.getRequestHeaders().getFirst(config.loginHeader().get());
            if (login == null || login.isBlank()) {
                // the header's name is configuration: not for a caller who did not send it
                LOG.debug("no {} header: 401", config.loginHeader().get());
                throw unauthorized("Authentication required");
            }
            login = login.strip();
            // for the access log, also when refused (not an identity: RequestUser stays unset)
            ex.putAttachment(AccessLog.LOGIN, login);
            String why = LoginName.problem(login);
            if (why != null) {
                LOG.warn("{} header refused (not a valid user name): {}", config.loginHeader().get(), why);
                throw unauthorized("Invalid login");
            }
            String groups = ex.getRequestHeaders().getFirst(config.groupsHeader().orElseThrow());
            Set<String> set = new LinkedHashSet<>();
            if (groups != null) {
                for (String g : groups.split(",")) {
                    if (!g.isBlank()) {
                        set.add(g.strip());
                    }
                }
            }
            return new Identity(login, set);
        }
        String header = ex.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        if (header == null) {
            return Identity.ANONYMOUS;
        }
        String[] credentials = basic(header);
        // for the access log, also when refused or throttled (not an identity: RequestUser stays unset)
        ex.putAttachment(AccessLog.LOGIN, credentials[0]);
        String client = LoginThrottle.client(ex);
        // per client: while a client is refused, only what it proved itself is served
        String key = hash(client, credentials[0], credentials[1]);
        // a reload (SIGHUP) swaps the rules: what was checked under the previous ones is
        // not used again, even before the cache is emptied
        Rules current = rules;
        Checked cached = cache.getIfPresent(key);
        if (cached != null && cached.rules() == current) {
            return cached.identity();
        }
        CompletableFuture<Checked> mine = new CompletableFuture<>();
        CompletableFuture<Checked> running = checking.putIfAbsent(key, mine);
        if (running != null) {
            // the same credentials from the same client are being checked: one check answers all
            Checked c = outcome(running);
            if (c.rules() == current) {
                return c.identity();
            }
            return login(client, credentials[0], credentials[1], current).identity();
        }
        try {
            // checked by a request that ended between our cache look-up and putIfAbsent
            Checked c = cache.getIfPresent(key);
            if (c == null || c.rules() != current) {
                c = login(client, credentials[0], credentials[1], current);
                if (config.cacheSize() > 0 && config.cacheTtl() > 0) {
                    // Caffeine evicts asynchronously: a size of 0 would still serve an entry for a while
                    cache.put(key, c);
                }
            }
            mine.complete(c);
            return c.identity();
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            checking.remove(key, mine);
        }
    }

    /** What the check of the same credentials running in another request ends with. */
    private static Checked outcome(CompletableFuture<Checked> running) {
        try {
            return running.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    /** Checks {@code login} and {@code password} of {@code client} under {@code rules}, within its login throttle. */
    private Checked login(String client, String login, String password, Rules rules) {
        LoginThrottle.Check attempt = throttle.begin(client, login);
        if (attempt.retryAfter() > 0) {
            throw new HttpError(429, attempt.busy() ? "Too many logins under way, try again in a moment"
                    : "Too many failed logins, try again later",
                    Map.of("Retry-After", String.valueOf(attempt.retryAfter())));
        }
        boolean failed = true;
        try {
            String why = LoginName.problem(login);
            if (why != null) {
                LOG.warn("login from {} refused (not a valid user name): {}", client, why);
                throw unauthorized("Invalid credentials");
            }
            Set<String> groups;
            try {
                groups = check(login, password, rules);
            } catch (HttpError e) {
                // the directory is down: nothing was tried
                failed = false;
                throw e;
            }
            if (groups == null || groups.isEmpty()) {
                if (groups != null) {
                    // the password was right: saying so to the caller would confirm a guess
                    LOG.warn("login {} refused: it has no group", login);
                }
                throw unauthorized("Invalid credentials");
            }
            failed = false;
            return new Checked(rules, new Identity(login, groups));
        } finally {
            attempt.end(failed);
        }
    }

    /**
     * The groups of {@code login} if {@code password} is right (or not checked), else null.
     * An unknown login, and a known one whose password is stored in clear, is also checked
     * against a dummy field of the file's typical hash cost: how long a check takes does not
     * tell which logins exist.
     */
    private Set<String> check(String login, String password, Rules rules) {
        boolean checkPassword = !config.ignorePasswords();
        if (ldap != null) {
            try {
                return ldap.authenticate(login, password, checkPassword);
            } catch (LdapDirectory.Unavailable e) {
                LOG.error("{}", e.getMessage());
                throw new HttpError(503, "Authentication service unavailable, try again later");
            }
        }
        AuthFile users = rules.users();
        AuthFile.User u = users.user(login);
        if (!checkPassword) {
            return u == null ? null : u.groups();
        }
        if (u == null || u.fast()) {
            // only the time this takes matters, not its result
            Passwords.matches(users.dummyPassword(), password);
        }
        return u != null && Passwords.matches(u.password(), password) ? u.groups() : null;
    }

    private String[] basic(String header) {
        if (!header.regionMatches(true, 0, "Basic ", 0, 6)) {
            throw unauthorized("Only HTTP Basic authentication is supported");
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(header.substring(6).strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw unauthorized("Malformed Authorization header");
        }
        int colon = decoded.indexOf(':');
        if (colon <= 0) {
            throw unauthorized("Malformed Authorization header");
        }
        return new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)};
    }

    private static String hash(String client, String login, String password) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(client.getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            md.update(login.getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            md.update(password.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    HttpError unauthorized(String message) {
        return new HttpError(401, message,
                Map.of("WWW-Authenticate", "Basic realm=\"" + config.realm() + "\""));
    }

    void attach(HttpServerExchange ex, Identity id) {
        ex.putAttachment(IDENTITY, id);
        if (!id.isAnonymous()) {
            ex.putAttachment(RequestUser.KEY, id.login());
        }
    }

    static boolean isOpen(String path) {
        return path.startsWith("/static/") || path.equals("/favicon.ico");
    }

    @Override
    public void check(HttpServerExchange ex, String path) {
        if (isOpen(path) && ex.getRequestMethod().toString().matches("GET|HEAD")) {
            return;
        }
        Identity id = java.util.Objects.requireNonNullElse(ex.getAttachment(IDENTITY), Identity.ANONYMOUS);
        Operation op = Operation.of(ex.getRequestMethod().toString(), path);
        if (id.isAnonymous()) {
            if (op != Operation.READ || path.equals("/v2/") || path.equals("/v2")) {
                throw unauthorized("Authentication required");
            }
        } else if (op == Operation.READ && (path.equals("/v2/") || path.equals("/v2") || path.equals("/v2/_catalog"))) {
            // the registry's base (what `docker login` checks) and its catalog, which only lists
            // the images the caller may read, are open to every authenticated caller
            return;
        }
        if (!rules.acls().allows(id, op, path)) {
            throw refusal(id, op, path);
        }
    }

    /** 401 for the anonymous caller, else 403 naming the caller, the operation and the path (all as sent). */
    private HttpError refusal(Identity id, Operation op, String path) {
        if (id.isAnonymous()) {
            return unauthorized("Authentication required");
        }
        return new HttpError(403, "User " + id.login() + " may not " + op.name().toLowerCase(java.util.Locale.ROOT)
                + " " + path);
    }

    @Override
    public HttpError readRefusal(HttpServerExchange ex, String path) {
        return refusal(java.util.Objects.requireNonNullElse(ex.getAttachment(IDENTITY), Identity.ANONYMOUS),
                Operation.READ, path);
    }

    @Override
    public boolean canRead(HttpServerExchange ex, String path) {
        Identity id = ex.getAttachment(IDENTITY);
        return id != null && rules.acls().allows(id, Operation.READ, path);
    }

    /** The caller's identity and the ACLs in force (a reload makes new ones). */
    private record Viewer(Identity identity, Acls acls) {
    }

    @Override
    public Object viewer(HttpServerExchange ex) {
        return new Viewer(ex.getAttachment(IDENTITY), rules.acls());
    }

    /**
     * Anonymous callers, and Basic credentials of this client found in the cache of checked
     * ones (what {@link #identify} would answer without checking anything, attached to
     * {@code ex} as it would be); null otherwise.
     */
    @Override
    public Object knownViewer(HttpServerExchange ex) {
        if (config.loginHeader().isPresent()) {
            return null;
        }
        String header = ex.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        Rules current = rules;
        Identity id = Identity.ANONYMOUS;
        if (header != null) {
            String[] credentials;
            try {
                credentials = basic(header);
            } catch (HttpError e) {
                return null;
            }
            Checked c = cache.getIfPresent(hash(LoginThrottle.client(ex), credentials[0], credentials[1]));
            if (c == null || c.rules() != current) {
                return null;
            }
            id = c.identity();
        }
        attach(ex, id); // for the access log, as identify() would
        return new Viewer(id, current.acls());
    }

    @Override
    public boolean canAdd(HttpServerExchange ex, String path) {
        Identity id = ex.getAttachment(IDENTITY);
        return id != null && !id.isAnonymous() && rules.acls().allows(id, Operation.ADD, path);
    }

    @Override
    public void close() {
        if (ldap != null) {
            ldap.close();
        }
    }
}
