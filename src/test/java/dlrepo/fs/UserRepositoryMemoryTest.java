package dlrepo.fs;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Requests for /~<any name>/ (anonymous ones included) must not grow the daemon's memory:
 * a user repository is kept in memory only while something uses it, and while it is, every
 * request gets the same instance (its quota and product locks are per instance).
 */
class UserRepositoryMemoryTest {
    @Test
    void unusedUserRepositoriesAreForgotten() throws Exception {
        Path root = Files.createTempDirectory("dlrepo-users-");
        Storage storage = new Storage(root, false, 65536, Optional.empty(),
                new PostProcessor(Optional.empty(), Optional.empty(), 1), 1000, 0);
        Repository kept = storage.userRepository("kept");
        for (int i = 0; i < 50_000; i++) {
            storage.userRepository("u" + i);
        }
        long left = Long.MAX_VALUE;
        for (int i = 0; i < 20 && left > 1000; i++) {
            System.gc();
            Thread.sleep(50);
            left = storage.userRepositoriesInMemory();
        }
        assertTrue(left <= 1000, left + " user repositories still in memory");
        assertSame(kept, storage.userRepository("kept"), "one instance while it is in use");
        Files.delete(root);
    }
}
