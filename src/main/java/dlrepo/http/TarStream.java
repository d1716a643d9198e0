package dlrepo.http;

import dlrepo.fs.Digest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A tar archive (POSIX pax) streamed from the files of the tree, never built in memory or
 * on disk: members {@code <prefix>/<name>} sorted by name, then
 * {@code <prefix>/SHA256SUMS.txt}. Its exact length is known before the first byte, so the
 * response has a {@code Content-Length} and file bodies go out with sendfile.
 *
 * <p>The members' files are opened before the first byte (up to {@link #OPEN_AHEAD}; the
 * others when they are reached): a file removed meanwhile (a tag deleted and its blobs
 * collected, by this daemon or, on a read-only replica, by the writer) is still read from
 * its open descriptor. One that is gone when it is reached, or that changed since the
 * headers were made, cuts the connection: the client never gets a well-formed archive
 * with other bytes than those announced.
 */
public final class TarStream {
    private static final int BLOCK = 512;
    private static final long USTAR_MAX_SIZE = 077777777777L;
    /** How many member files are opened before the first byte (the rest when reached). */
    static final int OPEN_AHEAD = 1024;

    /** One file to archive: its name below the prefix, where it is, its digest. */
    public record Source(String name, Path file, Digest digest) {
    }

    private record Member(byte[] header, Path file, long size) {
    }

    private final List<Member> members = new ArrayList<>();
    private final byte[] sums;
    private final byte[] sumsHeader;
    private final long length;

    public TarStream(String prefix, List<Source> sources, long mtime) throws IOException {
        List<Source> sorted = new ArrayList<>(sources);
        sorted.sort(Comparator.comparing(Source::name));
        StringBuilder sumLines = new StringBuilder();
        long total = 0;
        requireSafe(prefix);
        for (Source s : sorted) {
            requireSafe(s.name());
            long size;
            try {
                var attrs = Files.readAttributes(s.file(), java.nio.file.attribute.BasicFileAttributes.class,
                        LinkOption.NOFOLLOW_LINKS);
                if (!attrs.isRegularFile()) {
                    continue;
                }
                size = attrs.size();
            } catch (NoSuchFileException e) {
                continue;
            }
            byte[] header = header(prefix + "/" + s.name(), size, mtime);
            members.add(new Member(header, s.file(), size));
            total += header.length + padded(size);
            sumLines.append(s.digest().hex()).append("  ").append(s.name()).append('\n');
        }
        sums = sumLines.toString().getBytes(StandardCharsets.UTF_8);
        sumsHeader = header(prefix + "/SHA256SUMS.txt", sums.length, mtime);
        total += sumsHeader.length + padded(sums.length) + 2 * BLOCK;
        length = total;
    }

    /**
     * Member names are extracted as paths: none may be absolute, hold '\\' (a separator on
     * Windows), an empty, '.' or '..' segment, or a control character. The callers build
     * them from validated names; this is the last line.
     */
    private static void requireSafe(String name) {
        boolean bad = name.isEmpty() || name.startsWith("/") || name.indexOf('\\') >= 0
                || name.chars().anyMatch(c -> c < 0x20 || c == 0x7f);
        for (String seg : name.split("/", -1)) {
            bad |= seg.isEmpty() || seg.equals(".") || seg.equals("..");
        }
        if (bad) {
            throw new IllegalArgumentException("unsafe archive member name: " + name);
        }
    }

    public long length() {
        return length;
    }

    /**
     * The archive as the pieces of a response body: headers, file regions, padding. The
     * first {@link #OPEN_AHEAD} files are opened here; {@link ResponseBody#send} closes
     * them. Fails, closing what it opened, if one of them is gone or changed since the
     * archive's length was computed (nothing has been sent yet).
     */
    public List<ResponseBody.Part> parts() throws IOException {
        List<ResponseBody.Part> parts = new ArrayList<>();
        int opened = 0;
        try {
            for (Member m : members) {
                parts.add(new ResponseBody.Bytes(ByteBuffer.wrap(m.header())));
                if (m.size() > 0) {
                    FileChannel ch = null;
                    if (opened < OPEN_AHEAD) {
                        ch = open(m);
                        opened++;
                    }
                    parts.add(new ResponseBody.FileRegion(m.file(), 0, m.size(), m.size(), ch));
                }
                pad(parts, m.size());
            }
        } catch (IOException | RuntimeException e) {
            ResponseBody.closeFiles(parts);
            throw e;
        }
        parts.add(new ResponseBody.Bytes(ByteBuffer.wrap(sumsHeader)));
        parts.add(new ResponseBody.Bytes(ByteBuffer.wrap(sums)));
        pad(parts, sums.length);
        parts.add(new ResponseBody.Bytes(ByteBuffer.allocate(2 * BLOCK)));
        return parts;
    }

    private static FileChannel open(Member m) throws IOException {
        FileChannel ch = FileChannel.open(m.file(), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        try {
            if (ch.size() != m.size()) {
                throw new IOException(m.file() + " changed while the archive was prepared");
            }
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static void pad(List<ResponseBody.Part> parts, long size) {
        int rest = (int) (padded(size) - size);
        if (rest > 0) {
            parts.add(new ResponseBody.Bytes(ByteBuffer.allocate(rest)));
        }
    }

    private static long padded(long size) {
        return (size + BLOCK - 1) / BLOCK * BLOCK;
    }

    /** A ustar header, preceded by a pax extended header when the name or size need one. */
    static byte[] header(String name, long size, long mtime) {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        boolean ascii = nameBytes.length == name.length();
        boolean pax = !ascii || nameBytes.length > 100 || size > USTAR_MAX_SIZE;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (pax) {
            StringBuilder records = new StringBuilder();
            if (!ascii || nameBytes.length > 100) {
                records.append(paxRecord("path", name));
            }
            if (size > USTAR_MAX_SIZE) {
                records.append(paxRecord("size", Long.toString(size)));
            }
            byte[] data = records.toString().getBytes(StandardCharsets.UTF_8);
            out.writeBytes(ustar("PaxHeaders/" + asciiTail(name, 80), data.length, mtime, (byte) 'x'));
            out.writeBytes(data);
            out.writeBytes(new byte[(int) (padded(data.length) - data.length)]);
        }
        out.writeBytes(ustar(pax ? asciiTail(name, 100) : name, Math.min(size, USTAR_MAX_SIZE), mtime, (byte) '0'));
        return out.toByteArray();
    }

    /** A pax record {@code "<len> key=value\n"} whose length counts its own digits. */
    private static String paxRecord(String key, String value) {
        int body = (" " + key + "=" + value + "\n").getBytes(StandardCharsets.UTF_8).length;
        int len = body + Integer.toString(body).length();
        if (Integer.toString(len).length() != Integer.toString(body).length()) {
            len++;
        }
        return len + " " + key + "=" + value + "\n";
    }

    /** The end of {@code name}, ASCII only, at most {@code max} bytes (fallback name for old tars). */
    private static String asciiTail(String name, int max) {
        String a = name.replaceAll("[^\\x20-\\x7e]", "_");
        return a.length() <= max ? a : a.substring(a.length() - max);
    }

    private static byte[] ustar(String name, long size, long mtime, byte type) {
        byte[] h = new byte[BLOCK];
        put(h, 0, 100, name.getBytes(StandardCharsets.US_ASCII));
        octal(h, 100, 8, 0644);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, size);
        octal(h, 136, 12, mtime);
        h[156] = type;
        put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
        put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        byte[] chk = String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(chk, 0, h, 148, 6);
        h[154] = 0;
        h[155] = ' ';
        return h;
    }

    private static void put(byte[] h, int off, int len, byte[] value) {
        System.arraycopy(value, 0, h, off, Math.min(len, value.length));
    }

    private static void octal(byte[] h, int off, int len, long value) {
        String s = String.format("%0" + (len - 1) + "o", value);
        put(h, off, len - 1, s.getBytes(StandardCharsets.US_ASCII));
        h[off + len - 1] = 0;
    }
}
