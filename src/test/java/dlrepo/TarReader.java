package dlrepo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A strict reader of the daemon's tar archives: every header checksum, pax records, the end blocks. */
public final class TarReader {
    private TarReader() {
    }

    public record Member(String name, byte[] data, boolean viaPax) {
        public String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** Parses a whole archive, checking every header checksum and the end-of-archive blocks. */
    public static List<Member> read(byte[] tar) {
        assertEquals(0, tar.length % 512, "tar length is a multiple of 512");
        List<Member> out = new ArrayList<>();
        int off = 0;
        Map<String, String> pax = null;
        while (true) {
            assertTrue(off + 512 <= tar.length, "truncated tar at " + off);
            if (allZero(tar, off, 512)) {
                assertTrue(off + 1024 <= tar.length && allZero(tar, off + 512, 512),
                        "two zero blocks end the archive");
                for (int i = off; i < tar.length; i++) {
                    assertEquals(0, tar[i], "only zeros after the end of the archive");
                }
                return out;
            }
            checkChecksum(tar, off);
            String magic = new String(tar, off + 257, 5, StandardCharsets.US_ASCII);
            assertEquals("ustar", magic, "ustar magic");
            String name = cString(tar, off, 100);
            String prefix = cString(tar, off + 345, 155);
            if (!prefix.isEmpty()) {
                name = prefix + "/" + name;
            }
            long size = octal(tar, off + 124, 12);
            char type = (char) tar[off + 156];
            int dataOff = off + 512;
            assertTrue(dataOff + size <= tar.length, "member data inside the archive");
            byte[] data = java.util.Arrays.copyOfRange(tar, dataOff, (int) (dataOff + size));
            off = dataOff + (int) ((size + 511) / 512 * 512);
            if (type == 'x') {
                pax = parsePax(data);
                continue;
            }
            if (type == 'g') {
                continue;
            }
            assertTrue(type == '0' || type == 0, "regular file member expected, type " + (int) type);
            boolean viaPax = false;
            if (pax != null) {
                if (pax.containsKey("path")) {
                    name = pax.get("path");
                    viaPax = true;
                }
                if (pax.containsKey("size")) {
                    assertEquals(Long.parseLong(pax.get("size")), size);
                }
                pax = null;
            }
            out.add(new Member(name, data, viaPax));
        }
    }

    private static Map<String, String> parsePax(byte[] data) {
        Map<String, String> m = new LinkedHashMap<>();
        int i = 0;
        while (i < data.length) {
            int sp = i;
            while (data[sp] != ' ') {
                sp++;
            }
            int len = Integer.parseInt(new String(data, i, sp - i, StandardCharsets.US_ASCII));
            assertTrue(len > 0 && i + len <= data.length, "pax record length");
            assertEquals('\n', data[i + len - 1], "pax record ends with a newline");
            String rec = new String(data, sp + 1, i + len - sp - 2, StandardCharsets.UTF_8);
            int eq = rec.indexOf('=');
            assertTrue(eq > 0, "pax record key=value");
            m.put(rec.substring(0, eq), rec.substring(eq + 1));
            i += len;
        }
        return m;
    }

    private static void checkChecksum(byte[] tar, int off) {
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : (tar[off + i] & 0xff);
        }
        assertEquals(sum, octal(tar, off + 148, 8), "header checksum");
    }

    private static boolean allZero(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    private static long octal(byte[] b, int off, int len) {
        String s = cString(b, off, len).trim();
        assertNotNull(s);
        return s.isEmpty() ? 0 : Long.parseLong(s, 8);
    }
}
