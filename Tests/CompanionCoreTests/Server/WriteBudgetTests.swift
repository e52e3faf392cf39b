// The per-turn write budget (Connection.writeBytesPerTurn): a large body leaves in turns
// of 256 KiB, the connection taken up again in the next turn (its socket still writable,
// so no epoll edge would come for it). Bodies must arrive whole and in order across turns.
import Glibc
import Synchronization
import Testing
@testable import CompanionCore

@Suite struct WriteBudgetTests {
    /// Two clients on one loop read an 8 MiB file at once, one of them from another thread:
    /// both bodies are the file, byte for byte, and writes were left for a later turn.
    @Test func largeBodiesLeaveInTurnsAndArriveWhole() throws {
        let directory = TempDirectory()
        var big = [UInt8](repeating: 0, count: 8 << 20)
        for i in big.indices { big[i] = UInt8(truncatingIfNeeded: (i &* 2654435761) >> 13) }
        directory.write("a/big.bin", big)
        let server = try TestServer(directory: directory, workers: 1)
        let request = "GET /big.bin HTTP/1.1\r\nHost: a.test\r\n\r\n"
        let first = try TestConnection(port: server.port)
        let second = try TestConnection(port: server.port)
        first.send(request)
        second.send(request)
        let secondBody = Mutex<[UInt8]?>(nil)
        let reader = try ThreadRunner {
            let response = try? second.readResponse()
            secondBody.withLock { $0 = response?.body }
        }
        let response = try first.readResponse()
        reader.join()
        #expect(response.status == 200)
        #expect(response.body == big)
        #expect(secondBody.withLock { $0 } == big)
        #expect(server.server.metrics.total(LoopMetrics.Cell.writeTurnsYielded) > 0)
        // The connections stay usable after their turns: a second request on each.
        first.send(request)
        #expect(try first.readResponse().body == big)
    }
}
