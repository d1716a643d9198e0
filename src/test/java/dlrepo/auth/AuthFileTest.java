package dlrepo.auth;

import static dlrepo.auth.AuthSupport.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dlrepo.TestAuth;
import dlrepo.Caller;
import at.favre.lib.crypto.bcrypt.BCrypt;
import dlrepo.TestServer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.codec.digest.Crypt;
import org.junit.jupiter.api.Test;

/**
 * The auth file: {@code login:password:groups} lines, passwords in clear text or hashed
 * ({@code {SHA256}} base64 or hex, bcrypt, SHA-crypt), comments, blank and malformed
 * lines, several groups, DLREPO_IGNORE_PASSWORDS.
 */
class AuthFileTest {
    /** Made by the tools the documentation names, for the password {@code s3cret:pw}. */
    private static final String PW = "s3cret:pw";
    private static final Map<String, String> TOOL_HASHES = new LinkedHashMap<>();

    static {
        // htpasswd -nbB alice 's3cret:pw'
        TOOL_HASHES.put("htpasswd-bcrypt", "$2y$05$VbcVcrrjPJrixTiR4f9VM.CkF8GpVbyc/iyEzbrYcrZmE7hcNscva");
        // mkpasswd -m sha-512 's3cret:pw'
        TOOL_HASHES.put("mkpasswd-sha512",
                "$6$AUWrho8dsUYSFZ9l$C6VEQ.0rzpj1dmTFrvsVDFMkAoeE8MN/ZbqJp7l3I2y0u5Cwc4ciNWoQNBmMGxooDGII9goA3TgUYjL6VHXRU.");
        // mkpasswd -m sha-512 -R 10000 's3cret:pw'
        TOOL_HASHES.put("mkpasswd-rounds", "$6$rounds=10000$qp8iaXXv0bcwwjKS$Bw4pcjvYT4KabP2dagNjAU3nBH.8PIFvSy0m6P2aovS"
                + "fVSCPtgcEA1iDaJ6412/M1xj6mJ8w/Kapgdv7R4TCs.");
        // mkpasswd -m sha-256 's3cret:pw'
        TOOL_HASHES.put("mkpasswd-sha256", "$5$Rdv7MLVxYB9IQ9v5$KavXaa7AB9otBKSqwIjlfEJjA0PWs4of3JptCzKOId7");
        // openssl passwd -6 's3cret:pw'
        TOOL_HASHES.put("openssl-6", "$6$7djQaXCjPpNbXp6e$NNu/f819uHSbiuB0mizC2KZkJFMF2oSiRk8PXLs4EBEiTBCn9msjEtNnQxJsre9"
                + "mkl97BvJf/PkiLegDqp99d.");
        // openssl passwd -5 's3cret:pw'
        TOOL_HASHES.put("openssl-5", "$5$3TCoPpdv3fb/cbSy$15GoyeMKYnhwqfO3a3R6opXtUoijRCF2cC0t/rnNNY.");
        // printf %s 's3cret:pw' | openssl dgst -sha256 -binary | base64
        TOOL_HASHES.put("sha256-base64", "{SHA256}qx55koL6sxVGz9vn23M+nVQnttNhAiyIgsYypt2UTyY=");
        // printf %s 's3cret:pw' | sha256sum
        TOOL_HASHES.put("sha256-hex", "{SHA256}ab1e799282fab31546cfdbe7db733e9d5427b6d361022c8882c632a6dd944f26");
    }

    private static String sha256(String pw) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(pw.getBytes(StandardCharsets.UTF_8)));
    }

    private static String sha256b64(String pw) throws Exception {
        return Base64.getEncoder().encodeToString(
                MessageDigest.getInstance("SHA-256").digest(pw.getBytes(StandardCharsets.UTF_8)));
    }

    private static String bcrypt(BCrypt.Version v, String pw) {
        return new String(BCrypt.with(v).hash(4, pw.toCharArray()), StandardCharsets.UTF_8);
    }

    @Test
    void clearAndHashedPasswords() throws Exception {
        // login -> {stored field, the password}
        Map<String, String[]> users = new LinkedHashMap<>();
        users.put("clear", new String[] {"pw1", "pw1"});
        users.put("colons", new String[] {"a:b::c:", "a:b::c:"});
        users.put("spaces", new String[] {"my pass phrase", "my pass phrase"});
        users.put("utf8", new String[] {"pässwörd€", "pässwörd€"});
        users.put("sha-b64", new String[] {"{SHA256}" + sha256b64("b64pw"), "b64pw"});
        users.put("sha-hex", new String[] {"{SHA256}" + sha256("hexpw"), "hexpw"});
        users.put("sha-hex-upper", new String[] {"{SHA256}" + sha256("hexpw").toUpperCase(), "hexpw"});
        users.put("sha-lower-prefix", new String[] {"{sha256}" + sha256b64("low"), "low"});
        users.put("sha-colon", new String[] {"{SHA256}" + sha256b64("x:y"), "x:y"});
        users.put("bcrypt-2a", new String[] {bcrypt(BCrypt.Version.VERSION_2A, "bc2a"), "bc2a"});
        users.put("bcrypt-2b", new String[] {bcrypt(BCrypt.Version.VERSION_2B, "bc2b"), "bc2b"});
        users.put("bcrypt-2y", new String[] {bcrypt(BCrypt.Version.VERSION_2Y, "bc:2y"), "bc:2y"});
        users.put("crypt-6", new String[] {Crypt.crypt("sc6".getBytes(StandardCharsets.UTF_8), "$6$saltsalt"), "sc6"});
        users.put("crypt-5", new String[] {Crypt.crypt("sc5".getBytes(StandardCharsets.UTF_8), "$5$saltsalt"), "sc5"});
        users.put("crypt-6-rounds", new String[] {Crypt.crypt("r:6".getBytes(StandardCharsets.UTF_8),
                "$6$rounds=5000$abcdefgh"), "r:6"});
        for (var e : TOOL_HASHES.entrySet()) {
            users.put(e.getKey(), new String[] {e.getValue(), PW});
        }
        try (TestAuth setup = new TestAuth()) {
            StringBuilder file = new StringBuilder("# users of the test\n\n   \n# another: comment:line\n");
            for (var e : users.entrySet()) {
                file.append(e.getKey()).append(':').append(e.getValue()[0]).append(":readers\n");
            }
            file.append("\n  # indented comment\n");
            setup.authFileText(file.toString()).acl("readers", "r /**");
            try (TestServer s = setup.start()) {
                for (var e : users.entrySet()) {
                    String login = e.getKey();
                    String stored = e.getValue()[0];
                    String pw = e.getValue()[1];
                    assertEquals(200, Caller.basic(s, login, pw).status("GET", "/branches/"), login + " with its password");
                    assertEquals(401, Caller.basic(s, login, pw + "x").status("GET", "/branches/"), login + " wrong");
                    assertEquals(401, Caller.basic(s, login, "").status("GET", "/branches/"), login + " empty");
                    if (!stored.equals(pw)) {
                        // a hash is not a password
                        assertEquals(401, Caller.basic(s, login, stored).status("GET", "/branches/"),
                                login + " with the hash as password");
                    }
                }
                // comment lines are not users
                assertEquals(401, Caller.basic(s, "# another", " comment").status("GET", "/branches/"));
            }
        }
    }

    @Test
    void malformedLinesAreSkippedAndGroupsAreAUnion() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.authFileText("""
                    no-colon-at-all
                    onecolon:pw
                    :emptylogin:readers
                    multi:pw:readers writers
                      indented:pw:writers
                    """)
                    .acl("readers", "r /**")
                    .acl("writers", "ra /branches/w/**");
            try (TestServer s = setup.start()) {
                assertEquals(401, Caller.basic(s, "onecolon", "pw").status("GET", "/branches/"));
                assertEquals(401, Caller.basic(s, "no-colon-at-all", "").status("GET", "/branches/"));
                Caller multi = Caller.basic(s, "multi", "pw");
                assertStatus(200, multi.get("/branches/"));
                assertStatus(201, multi.upload("/branches/w/t/j/f/x", "x"));
                assertStatus(403, multi.upload("/branches/v/t/j/f/x", "x"));
                Caller indented = Caller.basic(s, "indented", "pw");
                assertStatus(201, indented.upload("/branches/w/t/j/f/y", "y"));
                assertStatus(403, indented.get("/branches/"));
            }
        }
    }

    @Test
    void brokenHashesNeverMatch() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.authFileText("""
                    badb64:{SHA256}not*base64:readers
                    short:{SHA256}abcd:readers
                    badbcrypt:$2y$05$tooshort:readers
                    """).acl("readers", "r /**");
            try (TestServer s = setup.start()) {
                for (String[] c : List.of(
                        new String[] {"badb64", "{SHA256}not*base64"}, new String[] {"badb64", "not*base64"},
                        new String[] {"short", "{SHA256}abcd"}, new String[] {"short", "abcd"},
                        new String[] {"badbcrypt", "$2y$05$tooshort"}, new String[] {"badbcrypt", "tooshort"})) {
                    assertEquals(401, Caller.basic(s, c[0], c[1]).status("GET", "/branches/"), String.join(" ", c));
                }
                assertEquals(401, Caller.basic(s, "badbcrypt", "").status("GET", "/branches/"));
            }
        }
    }

    @Test
    void changesTakeEffectOnReloadOnly() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.user("alice", "old-pw", "readers").acl("readers", "r /**");
            try (TestServer s = setup.start()) {
                assertStatus(200, Caller.basic(s, "alice", "old-pw").get("/branches/"));
                // a new password, a new user, without SIGHUP: the old login still works
                setup.authFileText("alice:new-pw:readers\nbob:bob-pw:readers\n");
                assertStatus(200, Caller.basic(s, "alice", "old-pw").get("/branches/"));
                assertEquals(401, Caller.basic(s, "alice", "new-pw").status("GET", "/branches/"));
                assertEquals(401, Caller.basic(s, "bob", "bob-pw").status("GET", "/branches/"));
                // what SIGHUP runs
                s.daemon().reload();
                assertEquals(401, Caller.basic(s, "alice", "old-pw").status("GET", "/branches/"));
                assertStatus(200, Caller.basic(s, "alice", "new-pw").get("/branches/"));
                assertStatus(200, Caller.basic(s, "bob", "bob-pw").get("/branches/"));
                // the file removed: a reload leaves nobody (logged)
                java.nio.file.Files.delete(setup.authFile);
                s.daemon().reload();
                assertEquals(401, Caller.basic(s, "bob", "bob-pw").status("GET", "/branches/"));
            }
        }
    }

    @Test
    void ignorePasswordsChecksLoginsOnly() throws Exception {
        try (TestAuth setup = new TestAuth()) {
            setup.user("alice", "{SHA256}" + sha256b64("real"), "readers")
                    .user("bob", "bobpw", "others")
                    .acl("readers", "r /**")
                    .acl("others", "r /products/**");
            try (TestServer s = setup.start("DLREPO_IGNORE_PASSWORDS", "1")) {
                for (String pw : List.of("real", "anything", "", "a:b")) {
                    assertStatus(200, Caller.basic(s, "alice", pw).get("/branches/"));
                }
                // unknown logins are still refused, and groups still apply
                assertEquals(401, Caller.basic(s, "mallory", "real").status("GET", "/branches/"));
                assertEquals(403, Caller.basic(s, "bob", "whatever").status("GET", "/branches/"));
                assertEquals(401, Caller.anonymous(s).status("GET", "/branches/"));
            }
        }
    }
}
