package dlrepo.http;

import java.util.Locale;
import java.util.Map;

/**
 * Content types of the files dlrepo serves, by extension. Browsers take them as they are
 * ({@code X-Content-Type-Options: nosniff}): a stylesheet or a script of a documentation
 * site must have its own type to be used, and a file of unknown type is only downloaded.
 * Besides the web's own types, what CI pipelines upload: packages, disk images,
 * archives, checksums and signatures, with the IANA type where there is one, else the
 * one of freedesktop.org's shared-mime-info (what desktops and {@code file} know). A
 * compressed tarball is typed by its outer compression, as {@code .tar.gz} is.
 */
final class MimeTypes {
    private static final Map<String, String> TYPES = Map.ofEntries(
            Map.entry("txt", "text/plain; charset=utf-8"),
            Map.entry("log", "text/plain; charset=utf-8"),
            Map.entry("md", "text/plain; charset=utf-8"),
            Map.entry("sha256", "text/plain; charset=utf-8"),
            Map.entry("sha256sum", "text/plain; charset=utf-8"),
            Map.entry("sha512", "text/plain; charset=utf-8"),
            Map.entry("sha512sum", "text/plain; charset=utf-8"),
            Map.entry("sha1", "text/plain; charset=utf-8"),
            Map.entry("sha1sum", "text/plain; charset=utf-8"),
            Map.entry("md5", "text/plain; charset=utf-8"),
            Map.entry("md5sum", "text/plain; charset=utf-8"),
            Map.entry("asc", "text/plain; charset=utf-8"),
            Map.entry("rst", "text/plain; charset=utf-8"),
            Map.entry("adoc", "text/plain; charset=utf-8"),
            Map.entry("diff", "text/plain; charset=utf-8"),
            Map.entry("patch", "text/plain; charset=utf-8"),
            Map.entry("yaml", "text/plain; charset=utf-8"),
            Map.entry("yml", "text/plain; charset=utf-8"),
            Map.entry("toml", "text/plain; charset=utf-8"),
            Map.entry("ini", "text/plain; charset=utf-8"),
            Map.entry("csv", "text/csv; charset=utf-8"),
            Map.entry("html", "text/html; charset=utf-8"),
            Map.entry("htm", "text/html; charset=utf-8"),
            Map.entry("xhtml", "application/xhtml+xml"),
            Map.entry("css", "text/css; charset=utf-8"),
            Map.entry("js", "text/javascript; charset=utf-8"),
            Map.entry("mjs", "text/javascript; charset=utf-8"),
            Map.entry("json", "application/json"),
            Map.entry("map", "application/json"),
            Map.entry("webmanifest", "application/manifest+json"),
            Map.entry("wasm", "application/wasm"),
            Map.entry("xml", "application/xml"),
            Map.entry("svg", "image/svg+xml"),
            Map.entry("png", "image/png"),
            Map.entry("jpg", "image/jpeg"),
            Map.entry("jpeg", "image/jpeg"),
            Map.entry("gif", "image/gif"),
            Map.entry("webp", "image/webp"),
            Map.entry("avif", "image/avif"),
            Map.entry("bmp", "image/bmp"),
            Map.entry("ico", "image/x-icon"),
            Map.entry("pdf", "application/pdf"),
            Map.entry("woff", "font/woff"),
            Map.entry("woff2", "font/woff2"),
            Map.entry("ttf", "font/ttf"),
            Map.entry("otf", "font/otf"),
            Map.entry("eot", "application/vnd.ms-fontobject"),
            Map.entry("mp4", "video/mp4"),
            Map.entry("webm", "video/webm"),
            Map.entry("sig", "application/pgp-signature"),
            Map.entry("pom", "application/xml"),
            // packages
            Map.entry("deb", "application/vnd.debian.binary-package"),
            Map.entry("rpm", "application/x-rpm"),
            Map.entry("apk", "application/vnd.android.package-archive"),
            Map.entry("jar", "application/java-archive"),
            Map.entry("war", "application/java-archive"),
            Map.entry("ear", "application/java-archive"),
            Map.entry("aar", "application/java-archive"),
            Map.entry("whl", "application/zip"),
            Map.entry("nupkg", "application/zip"),
            Map.entry("crate", "application/gzip"),
            Map.entry("snap", "application/vnd.snap"),
            Map.entry("appimage", "application/vnd.appimage"),
            Map.entry("msi", "application/x-msi"),
            Map.entry("exe", "application/vnd.microsoft.portable-executable"),
            Map.entry("dll", "application/vnd.microsoft.portable-executable"),
            Map.entry("efi", "application/efi"),
            // disk and machine images
            Map.entry("iso", "application/x-iso9660-image"),
            Map.entry("img", "application/x-raw-disk-image"),
            Map.entry("raw", "application/x-raw-disk-image"),
            Map.entry("qcow2", "application/x-qemu-disk"),
            Map.entry("vmdk", "application/x-vmdk-disk"),
            Map.entry("vhd", "application/x-vhd-disk"),
            Map.entry("vhdx", "application/x-vhdx-disk"),
            Map.entry("ova", "application/ovf"),
            Map.entry("dmg", "application/x-apple-diskimage"),
            // archives and compression
            Map.entry("tar", "application/x-tar"),
            Map.entry("cpio", "application/x-cpio"),
            Map.entry("gz", "application/gzip"),
            Map.entry("tgz", "application/gzip"),
            Map.entry("xz", "application/x-xz"),
            Map.entry("txz", "application/x-xz"),
            Map.entry("bz2", "application/x-bzip2"),
            Map.entry("tbz2", "application/x-bzip2"),
            Map.entry("zst", "application/zstd"),
            Map.entry("tzst", "application/zstd"),
            Map.entry("lz4", "application/x-lz4"),
            Map.entry("lzma", "application/x-lzma"),
            Map.entry("zip", "application/zip"),
            Map.entry("7z", "application/x-7z-compressed"));

    private MimeTypes() {
    }

    static String of(String fileName) {
        int dot = fileName.lastIndexOf('.');
        if (dot >= 0) {
            String t = TYPES.get(fileName.substring(dot + 1).toLowerCase(Locale.ROOT));
            if (t != null) {
                return t;
            }
        }
        return "application/octet-stream";
    }
}
