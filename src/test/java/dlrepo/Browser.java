package dlrepo;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * A real headless Chromium (Debian's chromium and chromedriver), driven over W3C
 * WebDriver, with a fresh profile that is deleted on close. Browser tests fail, never
 * skip, when Chromium is missing: CI installs it ({@code .ci/run}).
 *
 * <p>Debian's Chromium blocks third-party cookies by default, and with them the HTTP
 * credentials it has cached for a server in requests made from another site's pages or
 * from a sandboxed page (an opaque origin). Google Chrome's default settings allow them:
 * {@link #withThirdPartyCookies()} starts a browser set up that way.
 */
public final class Browser implements AutoCloseable {
    public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** Selenium warns, at every start, that it has no DevTools classes for this Chromium: none are used. */
    private static final java.util.logging.Logger CDP_FINDER =
            java.util.logging.Logger.getLogger("org.openqa.selenium.devtools.CdpVersionFinder");

    static {
        CDP_FINDER.setLevel(java.util.logging.Level.SEVERE);
    }

    private final Path profile;
    private final ChromeDriverService service;
    private final ChromeDriver driver;
    private final boolean thirdPartyCookies;

    private Browser(Path profile, ChromeDriverService service, ChromeDriver driver, boolean thirdPartyCookies) {
        this.profile = profile;
        this.service = service;
        this.driver = driver;
        this.thirdPartyCookies = thirdPartyCookies;
    }

    /** Chromium with Debian's default settings (third-party cookies blocked). */
    public static Browser start() throws IOException {
        return start(false);
    }

    /**
     * Chromium allowing third-party cookies, as Google Chrome does by default: it then
     * also sends cached Basic credentials with cross-site and sandboxed pages' requests.
     */
    public static Browser withThirdPartyCookies() throws IOException {
        return start(true);
    }

    private static Browser start(boolean thirdPartyCookies) throws IOException {
        for (Path p : List.of(CHROMIUM, CHROMEDRIVER)) {
            if (!Files.isExecutable(p)) {
                throw new AssertionError("browser tests need " + p
                        + ": apt-get install chromium chromium-driver (.ci/run installs them)");
            }
        }
        Path profile = Files.createTempDirectory("dlrepo-chromium-");
        ChromeOptions options = new ChromeOptions();
        // Setting both the browser and the driver keeps Selenium Manager from looking for
        // (and downloading) either.
        options.setBinary(CHROMIUM.toFile());
        // Chromium's CookieControlsMode: 0 allows third-party cookies, 1 blocks them
        options.setExperimentalOption("prefs", java.util.Map.of("profile.cookie_controls_mode",
                thirdPartyCookies ? 0 : 1));
        options.addArguments(
                "--headless",
                // tests run as root, where Chromium's own sandbox cannot start
                "--no-sandbox",
                "--disable-gpu",
                // nothing but loopback is reachable: no QUIC probes, first-run set-up,
                // background requests to Google's services, component or sync updates
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER.toString()))
                .usingAnyFreePort()
                .build();
        ChromeDriver driver;
        try {
            driver = new ChromeDriver(service, options);
        } catch (RuntimeException e) {
            service.stop();
            TestServer.deleteTree(profile);
            throw e;
        }
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
        return new Browser(profile, service, driver, thirdPartyCookies);
    }

    public ChromeDriver driver() {
        return driver;
    }

    /** Navigates the tab to {@code url} and waits for the page to load. */
    public Browser open(String url) {
        driver.get(url);
        return this;
    }

    public Browser open(URI url) {
        return open(url.toString());
    }

    /**
     * Logs in to the daemon the way a person does: opens its home page with the
     * credentials in the URL, which Chromium uses to answer the 401 and then keeps (HTTP
     * auth cache, for the whole origin since "/" was challenged) and sends with later
     * requests to that server.
     */
    public Browser signIn(TestServer server, String login, String password) {
        URI home = server.uri("/");
        open(home.getScheme() + "://" + login + ":" + password + "@" + home.getAuthority() + "/");
        String body = text(By.tagName("body"));
        if (body.contains("\"error\"")) {
            throw new AssertionError("signing in as " + login + " failed: " + body);
        }
        return this;
    }

    /** Runs {@code js} in the page ({@code return ...} for a value). */
    public Object script(String js, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(js, args);
    }

    /** The URL of the page shown. */
    public String url() {
        return driver.getCurrentUrl();
    }

    public String source() {
        return driver.getPageSource();
    }

    /** Waits until an element matching {@code by} is on the page, returns it. */
    public WebElement await(By by) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            List<WebElement> found = driver.findElements(by);
            if (!found.isEmpty()) {
                return found.get(0);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no " + by + " on " + url() + " after " + WAIT.toSeconds() + "s; page: "
                        + source());
            }
            pause();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Waits until {@code condition} holds ({@code what} names it in the failure). */
    public void until(String what, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + WAIT.toSeconds() + "s for " + what + "; at " + url()
                        + ", page: " + source());
            }
            pause();
        }
    }

    /** The text of the element matching {@code by}, once it is there. */
    public String text(By by) {
        return await(by).getText();
    }

    @Override
    public String toString() {
        return "Chromium, third-party cookies " + (thirdPartyCookies ? "allowed" : "blocked");
    }

    @Override
    public void close() throws IOException {
        try {
            driver.quit();
        } finally {
            service.stop();
            TestServer.deleteTree(profile);
        }
    }
}
