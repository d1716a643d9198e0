package dlrepo.auth;

import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPConnectionOptions;
import com.unboundid.ldap.sdk.LDAPConnectionPool;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.LDAPURL;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchResult;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import com.unboundid.ldap.sdk.SingleServerSet;
import com.unboundid.ldap.sdk.StartTLSPostConnectProcessor;
import com.unboundid.util.ssl.SSLUtil;
import dlrepo.Config;
import java.security.GeneralSecurityException;
import java.util.LinkedHashSet;
import java.util.Set;
import javax.net.SocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Users and groups from an LDAP directory: find the user's entry with the user filter
 * ({@code {login}} replaced by the escaped login), bind as it with the password, then
 * collect the {@code cn} of the entries matching the groups filter ({@code {login}} and
 * {@code {dn}} replaced). StartTLS unless disabled or {@code ldaps://}; a bounded pool of
 * connections, each operation bounded by the timeout.
 */
final class LdapDirectory implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LdapDirectory.class);

    /** The directory could not be asked (down, timeout, pool exhausted). */
    static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Bind results that refuse the login (beside INVALID_CREDENTIALS): 401, not 503. */
    private static final Set<ResultCode> REFUSED = Set.of(ResultCode.INAPPROPRIATE_AUTHENTICATION,
            ResultCode.UNWILLING_TO_PERFORM, ResultCode.CONSTRAINT_VIOLATION, ResultCode.INSUFFICIENT_ACCESS_RIGHTS);

    private final Config.Ldap config;
    private final LDAPConnectionPool pool;

    LdapDirectory(Config.Ldap config) throws LDAPException, GeneralSecurityException {
        this.config = config;
        LDAPURL url = new LDAPURL(config.url());
        boolean ldaps = url.getScheme().equals("ldaps");
        LDAPConnectionOptions opts = new LDAPConnectionOptions();
        opts.setConnectTimeoutMillis(config.timeoutSeconds() * 1000);
        opts.setResponseTimeoutMillis(config.timeoutSeconds() * 1000L);
        opts.setAbandonOnTimeout(true);
        SSLUtil ssl = new SSLUtil();
        SocketFactory sockets = ldaps ? ssl.createSSLSocketFactory() : SocketFactory.getDefault();
        var startTls = !ldaps && config.startTls()
                ? new StartTLSPostConnectProcessor(ssl.createSSLContext()) : null;
        pool = new LDAPConnectionPool(new SingleServerSet(url.getHost(), url.getPort(), sockets, opts), null, 0,
                config.maxConnections(), startTls, false);
        pool.setMaxWaitTimeMillis(config.timeoutSeconds() * 1000L);
        pool.setRetryFailedOperationsDueToInvalidConnections(true);
    }

    /** The user's groups if {@code password} is right (or not checked), null if not a valid login. */
    Set<String> authenticate(String login, String password, boolean checkPassword) throws Unavailable {
        try {
            SearchResult users = pool.search(config.baseDn(), SearchScope.SUB,
                    Filter.create(config.userFilter().replace("{login}", Filter.encodeValue(login))), "cn");
            if (users.getEntryCount() != 1) {
                if (users.getEntryCount() > 1) {
                    LOG.warn("LDAP: {} entries match login {}, refusing an ambiguous login", users.getEntryCount(),
                            login);
                }
                if (checkPassword && !password.isEmpty()) {
                    dummyBind(password);
                }
                return null;
            }
            String dn = users.getSearchEntries().get(0).getDN();
            if (checkPassword) {
                if (password.isEmpty()) {
                    // an empty password would be an unauthenticated bind, which always succeeds
                    return null;
                }
                try {
                    pool.bindAndRevertAuthentication(dn, password);
                } catch (LDAPException e) {
                    if (e.getResultCode() == ResultCode.INVALID_CREDENTIALS) {
                        return null;
                    }
                    if (REFUSED.contains(e.getResultCode())) {
                        // the server answered: a refusal (locked, inactivated...), not an outage
                        LOG.warn("LDAP: bind as {} refused: {} {}", dn, e.getResultCode(), e.getDiagnosticMessage());
                        return null;
                    }
                    throw e;
                }
            }
            String groupsFilter = config.groupsFilter().replace("{login}", Filter.encodeValue(login))
                    .replace("{dn}", Filter.encodeValue(dn));
            SearchResult groups = pool.search(config.baseDn(), SearchScope.SUB, Filter.create(groupsFilter), "cn");
            Set<String> names = new LinkedHashSet<>();
            for (SearchResultEntry e : groups.getSearchEntries()) {
                String[] cns = e.getAttributeValues("cn");
                if (cns != null) {
                    names.addAll(Set.of(cns));
                }
            }
            return names;
        } catch (LDAPException e) {
            if (e.getResultCode() == ResultCode.NO_SUCH_OBJECT) {
                return null;
            }
            throw new Unavailable("LDAP " + config.url() + ": " + e.getExceptionMessage(), e);
        }
    }

    /**
     * A bind that fails, as long as the one of a known login with a wrong password takes:
     * the answer for an unknown login comes no sooner than for a known one.
     */
    private void dummyBind(String password) {
        try {
            pool.bindAndRevertAuthentication("cn=dlrepo-no-such-user," + config.baseDn(), password);
        } catch (LDAPException e) {
            // the expected outcome; only the time it took matters
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}
