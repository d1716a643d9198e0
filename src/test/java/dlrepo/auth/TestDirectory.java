package dlrepo.auth;

import com.unboundid.ldap.listener.InMemoryDirectoryServer;
import com.unboundid.ldap.listener.InMemoryDirectoryServerConfig;
import com.unboundid.ldap.listener.InMemoryListenerConfig;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.Modification;
import com.unboundid.ldap.sdk.ModificationType;
import dlrepo.DaemonProcess;
import java.io.IOException;
import java.net.InetAddress;

/**
 * A real LDAP server for the tests: UnboundID's in-memory directory on a fixed free port
 * of 127.0.0.1 (so that it can be stopped and started again at the same address), with
 * people under {@code ou=people}, {@code groupOfNames} groups (member = DN) and
 * {@code posixGroup} groups (memberUid = login) under {@code ou=groups}.
 */
public final class TestDirectory implements AutoCloseable {
    public static final String BASE = "dc=example,dc=com";
    private final InMemoryDirectoryServer server;
    private final int port;

    public TestDirectory() throws Exception {
        port = DaemonProcess.freePort();
        InMemoryDirectoryServerConfig cfg = new InMemoryDirectoryServerConfig(BASE);
        cfg.setListenerConfigs(InMemoryListenerConfig.createLDAPConfig("default", InetAddress.getLoopbackAddress(),
                port, null));
        // no schema checking: posixGroup (RFC 2307) is not in the built-in schema
        cfg.setSchema(null);
        // a bind as uid=locked is refused the way 389 DS / FreeIPA refuse an inactivated account
        cfg.addInMemoryOperationInterceptor(new com.unboundid.ldap.listener.interceptor.InMemoryOperationInterceptor() {
            @Override
            public void processSimpleBindRequest(
                    com.unboundid.ldap.listener.interceptor.InMemoryInterceptedSimpleBindRequest request)
                    throws LDAPException {
                if (request.getRequest().getBindDN().startsWith("uid=locked,")) {
                    throw new LDAPException(com.unboundid.ldap.sdk.ResultCode.UNWILLING_TO_PERFORM,
                            "Account inactivated. Contact system administrator.");
                }
            }
        });
        server = new InMemoryDirectoryServer(cfg);
        server.add("dn: " + BASE, "objectClass: top", "objectClass: domain", "dc: example");
        server.add("dn: ou=people," + BASE, "objectClass: top", "objectClass: organizationalUnit", "ou: people");
        server.add("dn: ou=robots," + BASE, "objectClass: top", "objectClass: organizationalUnit", "ou: robots");
        server.add("dn: ou=groups," + BASE, "objectClass: top", "objectClass: organizationalUnit", "ou: groups");
        server.startListening();
    }

    public String url() {
        return "ldap://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** Adds a person {@code uid=<uid>} under {@code ou} with a clear-text userPassword. */
    public String person(String ou, String uid, String password) throws Exception {
        String dn = new com.unboundid.ldap.sdk.RDN("uid", uid) + ",ou=" + ou + "," + BASE;
        server.add("dn: " + dn, "objectClass: top", "objectClass: person", "objectClass: organizationalPerson",
                "objectClass: inetOrgPerson", "uid: " + uid, "cn: " + uid, "sn: " + uid, "userPassword: " + password);
        return dn;
    }

    /** A person without any userPassword attribute. */
    public String personWithoutPassword(String uid) throws Exception {
        String dn = new com.unboundid.ldap.sdk.RDN("uid", uid) + ",ou=people," + BASE;
        server.add("dn: " + dn, "objectClass: top", "objectClass: person", "objectClass: organizationalPerson",
                "objectClass: inetOrgPerson", "uid: " + uid, "cn: " + uid, "sn: " + uid);
        return dn;
    }

    public String person(String uid, String password) throws Exception {
        return person("people", uid, password);
    }

    /** A groupOfNames whose members are the given DNs. */
    public void group(String cn, String... memberDns) throws Exception {
        String[] lines = new String[4 + memberDns.length];
        lines[0] = "dn: cn=" + cn + ",ou=groups," + BASE;
        lines[1] = "objectClass: top";
        lines[2] = "objectClass: groupOfNames";
        lines[3] = "cn: " + cn;
        for (int i = 0; i < memberDns.length; i++) {
            lines[4 + i] = "member: " + memberDns[i];
        }
        server.add(lines);
    }

    /** A posixGroup whose members are the given logins (memberUid). */
    public void posixGroup(String cn, int gid, String... uids) throws Exception {
        String[] lines = new String[5 + uids.length];
        lines[0] = "dn: cn=" + cn + ",ou=groups," + BASE;
        lines[1] = "objectClass: top";
        lines[2] = "objectClass: posixGroup";
        lines[3] = "cn: " + cn;
        lines[4] = "gidNumber: " + gid;
        for (int i = 0; i < uids.length; i++) {
            lines[5 + i] = "memberUid: " + uids[i];
        }
        server.add(lines);
    }

    public void setPassword(String dn, String password) throws Exception {
        server.modify(dn, new Modification(ModificationType.REPLACE, "userPassword", password));
    }

    /** Stops listening and drops every connection (the data stays). */
    public void stop() {
        server.shutDown(true);
    }

    /** Listens again on the same port. */
    public void restart() throws Exception {
        server.startListening();
    }

    @Override
    public void close() {
        server.shutDown(true);
    }
}
