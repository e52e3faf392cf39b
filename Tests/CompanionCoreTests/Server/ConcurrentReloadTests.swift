// Reloads from two threads at once (a SIGHUP while a certificate renewal reloads): the
// server's reload lock orders them, each builds on the state the one before installed, and
// requests are answered throughout. Under ThreadSanitizer (Tests/sanitizers/run.sh, in CI)
// this is also the check that the lock is seen to order them: with `Locked(())` as the lock
// the sanitizer reported a race between the two (Locked.swift says why).
import Glibc
import Testing
@testable import CompanionCore

@Suite struct ConcurrentReloadTests {
    /// What a reloading thread needs (the test's own references, kept alive by the test).
    final class Reloader: @unchecked Sendable {
        let server: Server
        let config: ServerConfig
        let rounds: Int
        /// Failed reloads, written by the thread before it exits (read after the join).
        var failures = 0

        init(server: Server, config: ServerConfig, rounds: Int) {
            self.server = server
            self.config = config
            self.rounds = rounds
        }
    }

    @Test func reloadsFromTwoThreadsAreOrderedAndLoseNoRequest() throws {
        let directory = TempDirectory()
        directory.write("a/page.txt", "page")
        let server = try TestServer(directory: directory)
        let config = server.server.state.config
        let before = server.server.metrics.reloads.succeeded
        let reloaders = (0..<2).map { _ in Reloader(server: server.server, config: config, rounds: 10) }
        var threads: [pthread_t] = []
        for reloader in reloaders {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(reloader).toOpaque()
            #expect(pthread_create(&thread, nil, { raw in
                let reloader = Unmanaged<Reloader>.fromOpaque(raw!).takeRetainedValue()
                for _ in 0..<reloader.rounds {
                    do { try reloader.server.reload(reloader.config) } catch { reloader.failures += 1 }
                }
                return nil
            }, context) == 0)
            threads.append(thread)
        }
        // Requests while the reloads run, on new connections and on one kept open.
        let kept = try TestConnection(port: server.port)
        for _ in 0..<20 {
            #expect(try get(server.port, "/page.txt").text == "page")
            kept.send("GET /page.txt HTTP/1.1\r\nHost: a.test\r\n\r\n")
            #expect(try kept.readResponse().text == "page")
        }
        for thread in threads { pthread_join(thread, nil) }
        #expect(reloaders.allSatisfy { $0.failures == 0 })
        #expect(server.server.metrics.reloads.succeeded == before + 20)
        #expect(try get(server.port, "/page.txt").text == "page")
    }
}
