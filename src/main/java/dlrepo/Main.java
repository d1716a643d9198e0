package dlrepo;

import java.util.concurrent.atomic.AtomicReference;
import sun.misc.Signal;

/** Entry point: signal handlers first, then configuration, then the daemon. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        // Until a handler is installed, SIGUSR1 and SIGHUP kill the JVM: install them first.
        AtomicReference<Runnable> onUsr1 = new AtomicReference<>(() -> { });
        AtomicReference<Runnable> onHup = new AtomicReference<>(() -> { });
        Signal.handle(new Signal("USR1"), s -> onUsr1.get().run());
        Signal.handle(new Signal("HUP"), s -> onHup.get().run());

        Config config;
        try {
            config = Config.fromEnv(System.getenv());
        } catch (Config.ConfigException e) {
            System.err.println("dlrepo: configuration error: " + e.getMessage());
            System.exit(2);
            return;
        }
        Logging.configure(config.logLevel(), config.logOutput());
        Daemon daemon = new Daemon(config);
        try {
            daemon.start();
        } catch (Exception e) {
            System.err.println("dlrepo: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        onUsr1.set(() -> daemon.cleanup().schedule(true, "signal"));
        onHup.set(daemon::reload);
        Runtime.getRuntime().addShutdownHook(new Thread(daemon::close, "shutdown"));
        // SIGTERM/SIGINT: run the shutdown hook (graceful stop) and exit 0, not 143.
        Signal.handle(new Signal("TERM"), s -> System.exit(0));
        Signal.handle(new Signal("INT"), s -> System.exit(0));
    }
}
