// libpq is loaded with dlopen when a PostgreSQL URL is first used, not linked (CPostgres/shim.h):
// a missing library is a clear error naming the package to install, and the real one loads
// with every function companion calls. (PostgresLogTests in CompanionCLITests talk to a
// real server through it; .ci/run checks that the binary does not link libpq.)
import CPostgres
@testable import CompanionCore
import Testing

@Suite struct LibPQLoadingTests {
    @Test func aMissingLibraryIsAClearError() throws {
        let result = LibPQ.load("libpq-not-here.so.5")
        guard case .failure(let error) = result else {
            Issue.record("loading a library that does not exist succeeded")
            return
        }
        #expect(error.description.contains("libpq-not-here.so.5"))
        #expect(error.description.contains("apt install libpq5"))
        #expect(!error.connectionLost)
    }

    @Test func theSystemLibraryLoads() throws {
        let pq = try LibPQ.shared.get()
        // A conninfo that cannot parse fails inside libpq without any server: the functions are real.
        let connection = pq.connectdb("this is not a conninfo")
        defer { pq.finish(connection) }
        #expect(pq.status(connection) == CONNECTION_BAD)
        let message = pq.errorMessage(connection).map { String(cString: $0) } ?? ""
        #expect(message.contains("missing \"=\""))
    }

    @Test func aConnectionErrorStillReadsAsBefore() throws {
        // Port 1 on loopback refuses at once: the error is libpq's, on one line, password hidden.
        #expect {
            _ = try PostgresConnection(url: "postgresql://user:secret@127.0.0.1:1/db")
        } throws: { error in
            let text = (error as? PostgresError)?.description ?? ""
            return text.contains("user:***@127.0.0.1:1") && !text.contains("secret") && !text.contains("\n")
                && (error as? PostgresError)?.connectionLost == true
        }
    }
}
