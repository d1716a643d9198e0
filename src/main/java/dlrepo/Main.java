package dlrepo;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import sun.misc.Signal;

/** Entry point: arguments, signal handlers, configuration, a check of the root, then the daemon. */
public final class Main {
    static final String USAGE = """
            usage: dlrepo [--help | --version | --check-config]
              --help          print this help and exit
              --version       print the version and exit
              --check-config  check the settings, the users file, the ACLs and the root folder
                              without starting; print them (secrets hidden) and exit 0 when
                              all is well, 2 otherwise
            Without arguments: run the daemon, configured by DLREPO_* environment variables
            (dlrepo-config(5))""";

    private Main() {
    }

    public static void main(String[] args) {
        if (args.length > 0) {
            // no logging set up, no signal handler: these print and exit
            System.exit(options(args));
            return;
        }
        // Until a handler is installed, SIGUSR1 and SIGHUP kill the JVM, and SIGTERM/SIGINT
        // exit 143/130: install them all before anything else.
        AtomicReference<Runnable> onUsr1 = new AtomicReference<>(() -> { });
        AtomicReference<Runnable> onHup = new AtomicReference<>(() -> { });
        Signal.handle(new Signal("USR1"), s -> onUsr1.get().run());
        Signal.handle(new Signal("HUP"), s -> onHup.get().run());
        // SIGTERM/SIGINT: run the shutdown hook (graceful stop) and exit 0
        Signal.handle(new Signal("TERM"), s -> System.exit(0));
        Signal.handle(new Signal("INT"), s -> System.exit(0));

        Config config;
        try {
            config = Config.fromEnv(System.getenv());
        } catch (Config.ConfigException e) {
            System.err.println("dlrepo: configuration error: " + e.getMessage());
            System.exit(2);
            return;
        }
        Logging.configure(config.logLevel(), config.logOutput(), config.accessLog());
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Config.class);
        for (String warning : Config.unknownVariables(System.getenv())) {
            log.warn(warning);
        }
        Daemon daemon = new Daemon(config);
        AtomicBoolean started = new AtomicBoolean();
        // stopped while starting: nothing to drain, the OS releases the root lock
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (started.get()) {
                daemon.close();
            }
            Logging.flush();
        }, "shutdown"));
        try {
            StartupCheck.root(config);
            daemon.start();
        } catch (StartupCheck.RootException e) {
            System.err.println("dlrepo: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        } catch (Exception e) {
            String why = StartupCheck.fileSystemCause(e)
                    .map(f -> StartupCheck.describe(config.rootDir(), f))
                    .orElse(e.getMessage());
            System.err.println("dlrepo: cannot start: " + why);
            System.exit(1);
            return;
        }
        started.set(true);
        onUsr1.set(() -> daemon.cleanup().schedule(true, "signal"));
        onHup.set(() -> {
            Logging.reopen();
            daemon.reload();
        });
    }

    /** {@code --help}, {@code --version}, {@code --check-config}: the exit status. */
    static int options(String[] args) {
        String arg = args[0];
        if (args.length == 1) {
            switch (arg) {
                case "--version":
                    System.out.println("dlrepo " + Version.get());
                    return 0;
                case "--help":
                    System.out.println(USAGE);
                    return 0;
                case "--check-config":
                    return ConfigCheck.run(System.getenv(), System.out, System.err);
                default:
                    break;
            }
        } else if (java.util.Set.of("--version", "--help", "--check-config").contains(arg)) {
            arg = args[1];
        }
        System.err.println("dlrepo: unknown argument \"" + arg + "\" (dlrepo --help lists the options)");
        return 2;
    }
}
