package dlrepo.api;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dlrepo.Caller;
import dlrepo.Check;
import dlrepo.TestServer;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The Content-Type of what CI pipelines upload, as GET and HEAD send it. */
class MimeTypesTest {
    private static final String TEXT = "text/plain; charset=utf-8";
    /** File name → the type it is served with. */
    private static final Map<String, String> EXPECTED = new LinkedHashMap<>();

    static {
        // packages
        EXPECTED.put("app-1.0.jar", "application/java-archive");
        EXPECTED.put("app-1.0.war", "application/java-archive");
        EXPECTED.put("app-1.0.ear", "application/java-archive");
        EXPECTED.put("lib-release.aar", "application/java-archive");
        EXPECTED.put("app-1.0.pom", "application/xml");
        EXPECTED.put("pkg-1.0-py3-none-any.whl", "application/zip");
        EXPECTED.put("Pkg.1.0.0.nupkg", "application/zip");
        EXPECTED.put("pkg-1.0.0.crate", "application/gzip");
        EXPECTED.put("app-release.apk", "application/vnd.android.package-archive");
        EXPECTED.put("app_1.0_amd64.snap", "application/vnd.snap");
        EXPECTED.put("App-x86_64.AppImage", "application/vnd.appimage");
        EXPECTED.put("setup.msi", "application/x-msi");
        EXPECTED.put("setup.exe", "application/vnd.microsoft.portable-executable");
        EXPECTED.put("plugin.dll", "application/vnd.microsoft.portable-executable");
        EXPECTED.put("BOOTX64.EFI", "application/efi");
        EXPECTED.put("hello_1.0_amd64.deb", "application/vnd.debian.binary-package");
        EXPECTED.put("hello-1.0-1.x86_64.rpm", "application/x-rpm");
        EXPECTED.put("module.wasm", "application/wasm");
        // disk and machine images
        EXPECTED.put("disk.img", "application/x-raw-disk-image");
        EXPECTED.put("disk.raw", "application/x-raw-disk-image");
        EXPECTED.put("disk.qcow2", "application/x-qemu-disk");
        EXPECTED.put("disk.vmdk", "application/x-vmdk-disk");
        EXPECTED.put("disk.vhd", "application/x-vhd-disk");
        EXPECTED.put("disk.vhdx", "application/x-vhdx-disk");
        EXPECTED.put("appliance.ova", "application/ovf");
        EXPECTED.put("App.dmg", "application/x-apple-diskimage");
        EXPECTED.put("live.iso", "application/x-iso9660-image");
        // archives and compression
        EXPECTED.put("rootfs.tar", "application/x-tar");
        EXPECTED.put("initrd.cpio", "application/x-cpio");
        EXPECTED.put("rootfs.tar.zst", "application/zstd");
        EXPECTED.put("rootfs.tzst", "application/zstd");
        EXPECTED.put("rootfs.tar.xz", "application/x-xz");
        EXPECTED.put("rootfs.txz", "application/x-xz");
        EXPECTED.put("rootfs.tar.bz2", "application/x-bzip2");
        EXPECTED.put("rootfs.tbz2", "application/x-bzip2");
        EXPECTED.put("rootfs.tar.gz", "application/gzip");
        EXPECTED.put("rootfs.tgz", "application/gzip");
        EXPECTED.put("kernel.lz4", "application/x-lz4");
        EXPECTED.put("kernel.lzma", "application/x-lzma");
        EXPECTED.put("sources.zip", "application/zip");
        EXPECTED.put("sources.7z", "application/x-7z-compressed");
        // checksums, signatures, configuration
        EXPECTED.put("SHA512SUMS.sha512", TEXT);
        EXPECTED.put("disk.img.sha512sum", TEXT);
        EXPECTED.put("disk.img.sha256", TEXT);
        EXPECTED.put("disk.img.sha1", TEXT);
        EXPECTED.put("disk.img.md5", TEXT);
        EXPECTED.put("disk.img.md5sum", TEXT);
        EXPECTED.put("disk.img.sig", "application/pgp-signature");
        EXPECTED.put("disk.img.asc", TEXT);
        EXPECTED.put("values.yaml", TEXT);
        EXPECTED.put("ci.yml", TEXT);
        // unknown or no extension: downloaded, never rendered
        EXPECTED.put("blob.unknownext", "application/octet-stream");
        EXPECTED.put("Makefile", "application/octet-stream");
        EXPECTED.put("archive.", "application/octet-stream");
    }

    static TestServer s;

    @BeforeAll
    static void start() throws Exception {
        s = TestServer.start();
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    @Test
    void everyUploadIsServedWithItsType() throws Exception {
        Caller c = s.anonymous();
        String format = "/branches/" + Check.unique("mime") + "/t/build/files/";
        for (String name : EXPECTED.keySet()) {
            // distinct contents: each file is its own blob
            HttpResponse<String> r = c.upload(format + name, ("content of " + name).getBytes(StandardCharsets.UTF_8));
            assertEquals(201, r.statusCode(), () -> "upload " + name + ": " + r.body());
        }
        assertEquals(200, c.send("PATCH", format).statusCode());

        List<Executable> checks = new ArrayList<>();
        for (Map.Entry<String, String> e : EXPECTED.entrySet()) {
            String name = e.getKey();
            String url = format + name;
            HttpResponse<byte[]> get = c.getBytes(url);
            HttpResponse<String> head = c.head(url);
            checks.add(() -> {
                assertEquals(200, get.statusCode(), "GET " + name);
                assertEquals(e.getValue(), get.headers().firstValue("Content-Type").orElse(null), "GET " + name);
                assertEquals("content of " + name, new String(get.body(), StandardCharsets.UTF_8), "GET " + name);
                assertEquals("nosniff", get.headers().firstValue("X-Content-Type-Options").orElse(null), name);
                assertEquals(200, head.statusCode(), "HEAD " + name);
                assertEquals(e.getValue(), head.headers().firstValue("Content-Type").orElse(null), "HEAD " + name);
            });
        }
        assertAll(checks);
    }

    @Test
    void theAliasRedirectLeadsToTheSameType() throws Exception {
        Caller c = s.anonymous();
        String branch = "/branches/" + Check.unique("mimealias") + "/";
        c.uploadFinalized(branch + "v1/build/disk/disk.qcow2", "a qcow2 image");
        HttpResponse<String> r = c.head(branch + "latest/build/disk/disk.qcow2");
        assertEquals(302, r.statusCode());
        String to = r.headers().firstValue("Location").orElseThrow();
        HttpResponse<String> target = c.head(to.replaceFirst("^https?://[^/]+", ""));
        assertEquals(200, target.statusCode(), to);
        assertEquals("application/x-qemu-disk", target.headers().firstValue("Content-Type").orElse(null));
    }
}
