package dlrepo.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * {@code <format>/.digests.journal}: the entries uploaded into a dirty format since its
 * {@code .digests} was last written, one line each, appended (and forced to the disk when
 * fsync is on) instead of rewriting {@code .digests}, so that an upload costs the same
 * whatever the size of the format. The format's entries are those of {@code .digests}
 * with the journal's applied in order. Finalizing the format and the start-up repair fold
 * the journal into {@code .digests} and delete it.
 *
 * <p>A line is {@code <crc> sha256:<hex> "<path>"} and a newline: the path quoted as in
 * the JSON files (ASCII only), {@code <crc>} the CRC-32C of what follows it and its space,
 * 8 lowercase hexadecimal digits. A line that is incomplete (no newline: a write cut by a
 * crash) or whose checksum does not match is not an entry. Appending after such a
 * leftover starts with a newline, so that the leftover cannot swallow the new line.
 */
final class FormatJournal {
    static final String NAME = ".digests.journal";
    private static final int CRC_LENGTH = 8;
    private static final int DIGEST_LENGTH = "sha256:".length() + 64;

    private final Path file;
    private final Disk disk;

    FormatJournal(Path formatDir, Disk disk) {
        this.file = formatDir.resolve(NAME);
        this.disk = disk;
    }

    boolean exists() {
        return Files.exists(file, LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Appends the entry {@code relPath} → {@code d}, durable before this returns when fsync
     * is on. Returns the journal's length before the line: {@link #truncate truncating} to
     * it takes the entry back. If the append fails, the journal is left as it was.
     */
    long append(String relPath, Digest d) throws IOException {
        try {
            return appendLine(line(relPath, d));
        } finally {
            disk.changed(file);
        }
    }

    private long appendLine(byte[] line) throws IOException {
        boolean created = !exists();
        try (FileChannel ch = FileChannel.open(file, EnumSet.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE), Disk.attribute(Disk.FILE_MODE))) {
            if (created) {
                Disk.chmod(file, Disk.FILE_MODE);
            }
            long end = ch.size();
            ByteBuffer buf = ByteBuffer.allocate(line.length + 1);
            if (end > 0 && lastByte(ch, end) != '\n') {
                buf.put((byte) '\n');
            }
            buf.put(line).flip();
            try {
                for (long pos = end; buf.hasRemaining();) {
                    pos += ch.write(buf, pos);
                }
                if (disk.fsync()) {
                    ch.force(false);
                }
                if (created) {
                    disk.syncDir(file.getParent());
                }
            } catch (IOException | RuntimeException e) {
                try {
                    ch.truncate(end);
                } catch (IOException t) {
                    e.addSuppressed(t);
                }
                throw e;
            }
            return end;
        }
    }

    /** Takes back what was appended after {@code mark} (a value {@link #append} returned). */
    void truncate(long mark) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(mark);
            if (disk.fsync()) {
                ch.force(false);
            }
        } finally {
            disk.changed(file);
        }
    }

    /**
     * What a replay found: the lines that are not entries (cut short or damaged, skipped),
     * and the last entry's path with the value it had before that entry (null: none).
     * Changes of a format are made one at a time, so the last entry is the only one a
     * crash may have cut between the line and its file.
     */
    record Replay(int skipped, String lastPath, Digest beforeLast) {
    }

    /** Applies the journal's entries to {@code digests}, in order. */
    Replay replay(Map<String, Digest> digests) throws IOException {
        byte[] data = Disk.readIfExists(file).orElse(new byte[0]);
        int skipped = 0;
        int start = 0;
        String lastPath = null;
        Digest beforeLast = null;
        for (int i = 0; i < data.length; i++) {
            if (data[i] != '\n') {
                continue;
            }
            if (i > start) {
                Map.Entry<String, Digest> e = parse(data, start, i);
                if (e == null) {
                    skipped++;
                } else {
                    lastPath = e.getKey();
                    beforeLast = digests.put(e.getKey(), e.getValue());
                }
            }
            start = i + 1;
        }
        return new Replay(start < data.length ? skipped + 1 : skipped, lastPath, beforeLast);
    }

    /** Deletes the journal (its entries must be in {@code .digests} by now). */
    void delete() throws IOException {
        if (disk.delete(file)) {
            disk.syncDir(file.getParent());
        }
    }

    private static byte[] line(String relPath, Digest d) {
        String rest = d + " " + JsonFiles.quote(relPath);
        byte[] restBytes = rest.getBytes(StandardCharsets.US_ASCII);
        return (crc(restBytes, 0, restBytes.length) + " " + rest + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** Parses the line {@code data[from, to)} into {@code digests}; false if it is not a valid entry. */
    /** The entry of the line {@code data[from, to)}, or null when it is not one. */
    private static Map.Entry<String, Digest> parse(byte[] data, int from, int to) {
        int rest = from + CRC_LENGTH + 1;
        int quoted = rest + DIGEST_LENGTH + 1;
        if (to - quoted < 2 || data[rest - 1] != ' ' || data[quoted - 1] != ' ') {
            return null;
        }
        String expected = new String(data, from, CRC_LENGTH, StandardCharsets.US_ASCII);
        if (!expected.equals(crc(data, rest, to - rest))) {
            return null;
        }
        try {
            Digest d = Digest.parse(new String(data, rest, DIGEST_LENGTH, StandardCharsets.US_ASCII));
            return Map.entry(JsonFiles.parseString(new String(data, quoted, to - quoted, StandardCharsets.US_ASCII)), d);
        } catch (RepoException | IOException e) {
            return null;
        }
    }

    private static String crc(byte[] data, int off, int len) {
        CRC32C crc = new CRC32C();
        crc.update(data, off, len);
        return HexFormat.of().toHexDigits((int) crc.getValue());
    }

    private static byte lastByte(FileChannel ch, long size) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        ch.read(one, size - 1);
        return one.get(0);
    }
}
