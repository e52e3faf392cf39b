// Exports stream: rows are read and written in chunks, so `--limit 0` over a
// large log runs in constant memory (before: the whole output was built in memory, 12 GB
// of RSS for 10M rows), and the chunk boundaries do not show in any format.
import ArgumentParser
import CompanionCLI
import CompanionCore
import Foundation
import Testing

@Suite(.serialized) struct LogsStreamingTests {
    /// A log of `count` rows written by the server's own writer from fixture-like records.
    static func database(rows count: Int) throws -> (folder: LogsTemporaryFolder, path: String) {
        let folder = LogsTemporaryFolder()
        let path = folder.path + "/logs/access.sqlite"
        let writer = try AccessLogWriter(settings: AccessLogSettings(path: path))
        var batch: [AccessLogRecord] = []
        for i in 0..<count {
            batch.append(AccessLogRecord(timeMicros: fixtureStart + Int64(i) * 1000, site: "a.test", host: "a.test",
                                         client: "192.0.2.\(i % 200)", method: "GET", path: "/p/\(i)", query: nil,
                                         protocolVersion: "HTTP/1.1", status: i % 10 == 0 ? 404 : 200, bytes: i,
                                         durationMicros: 10, referrer: nil, userAgent: "agent \(i % 7)"))
            if batch.count == 10_000 { writer.append(contentsOf: &batch) }
        }
        writer.append(contentsOf: &batch)
        writer.shutdown()
        return (folder, path)
    }

    @Test func chunkBoundariesDoNotShow() throws {
        let count = 2 * 10_000 + 345   // three chunks
        let (folder, path) = try Self.database(rows: count)
        defer { withExtendedLifetime(folder) {} }
        let json = try LogsCommand.parse(["--limit", "0", "--format", "json"]).render(databasePath: path)
        let array = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(array.count == count)
        #expect(array.map { $0["id"] as? Int } == (1...count).map { $0 })
        let csv = try LogsCommand.parse(["--limit", "0", "--format", "csv"]).render(databasePath: path)
        #expect(csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == count + 1)   // one header
        // The newest N, oldest first, across chunks; with a filter.
        let ndjson = try LogsCommand.parse(["--limit", "12345", "--format", "ndjson"]).render(databasePath: path)
        let ids = ndjson.split(separator: "\n").map { Int($0.split(separator: ",")[0].dropFirst(6))! }
        #expect(ids == Array((count - 12345 + 1)...count))
        let notFound = try LogsCommand.parse(["--status", "404", "--limit", "1500", "--format", "combined"]).render(databasePath: path)
        #expect(notFound.split(separator: "\n").count == 1500)
        #expect(notFound.hasSuffix("\"GET /p/\(count - 5) HTTP/1.1\" 404 \(count - 5) \"-\" \"agent \((count - 5) % 7)\"\n"))
        #expect(try LogsCommand.parse(["--status", "599", "--limit", "0", "--format", "json"]).render(databasePath: path) == "[]\n")
        // The table: one header, every row, the columns of later chunks where the first put them.
        let table = try LogsCommand.parse(["--limit", "0"]).render(databasePath: path).split(separator: "\n")
        #expect(table.count == count + 1)
        #expect(table.first?.hasPrefix("TIME") == true)
        // The method column starts at the same place in the first row of each chunk.
        let methodColumn = { (line: Substring) in line.firstRange(of: " GET ").map { line.distance(from: line.startIndex, to: $0.lowerBound) } }
        #expect(methodColumn(table[1]) != nil)
        for line in [table[10_001], table[20_001], table[count]] { #expect(methodColumn(line) == methodColumn(table[1]), "\(line)") }
    }

    /// Peak RSS of `companion logs --limit 0` exporting 150,000 rows to /dev/null: under
    /// 50 MiB (the old code held the whole output and its rows: ~180 MB here).
    @Test func aLargeExportRunsInConstantMemory() throws {
        if ProcessInfo.processInfo.environment["COMPANION_SANITIZER"] != nil { return }   // their allocators keep memory
        let (folder, path) = try Self.database(rows: 150_000)
        defer { withExtendedLifetime(folder) {} }
        for format in ["csv", "json", "table"] {
            let result = try runTool(["sh", "-c", "/usr/bin/time -f '%M' \"$0\" logs --db \"$1\" --limit 0 --format \"$2\" > /dev/null",
                                      CompanionProcess.binary, path, format])
            #expect(result.status == 0, "\(result.stderr)")
            let kilobytes = Int(result.stderr.split(separator: "\n").last ?? "") ?? .max
            #expect(kilobytes < 50 * 1024, "\(format): peak RSS \(kilobytes) KiB")
        }
        // A closed pipe ends the export at once, quietly (SIGPIPE), without an error message.
        let head = try runTool(["sh", "-c", "\"$0\" logs --db \"$1\" --limit 0 --format csv | head -n 3", CompanionProcess.binary, path])
        #expect(head.stdout.split(whereSeparator: \.isNewline).count == 3)
        #expect(head.stderr.isEmpty, "\(head.stderr)")
    }
}
