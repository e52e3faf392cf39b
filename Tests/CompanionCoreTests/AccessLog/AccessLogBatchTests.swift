// AccessLogBatch: rows written, moved and read back field by field.
import Testing
@testable import CompanionCore

@Suite struct AccessLogBatchTests {
    static func record(_ n: Int) -> AccessLogRecord {
        AccessLogRecord(timeMicros: 1_700_000_000_000_000 + Int64(n), site: "a.test", host: "A.test:8080",
                        client: "192.0.2.\(n)", method: "GET", path: "/p\(n)", query: n.isMultiple(of: 2) ? nil : "q=\(n)",
                        protocolVersion: "HTTP/1.1", status: 200 + n, bytes: 10 * n, durationMicros: 7 * n,
                        referrer: nil, userAgent: "ua \(n)", encoding: n == 1 ? "gzip" : nil)
    }

    static func read(_ batch: AccessLogBatch) -> [AccessLogRecord] {
        batch.withRows { rows in rows.map(record(of:)) }
    }

    /// A row read back as the record it was written from.
    static func record(of row: AccessLogBatch.Row) -> AccessLogRecord {
        AccessLogRecord(timeMicros: row.timeMicros, site: row.text(.site), host: row.text(.host),
                        client: row.text(.client) ?? "?", method: row.text(.method), path: row.text(.path),
                        query: row.text(.query), protocolVersion: row.text(.protocolVersion),
                        status: row.status, bytes: row.bytes, durationMicros: row.durationMicros,
                        referrer: row.text(.referrer), userAgent: row.text(.userAgent), encoding: row.text(.encoding),
                        scheme: row.text(.scheme), tlsVersion: row.text(.tlsVersion))
    }

    @Test func recordsRoundTripWithNullsAndEmptyText() {
        var batch = AccessLogBatch()
        var records = (0..<50).map(Self.record)
        records[3].path = ""          // empty is not NULL
        records[4].client = "::1"
        for record in records { batch.append(record) }
        #expect(batch.count == 50)
        #expect(Self.read(batch) == records)
    }

    @Test func rawBytesAreReadAsLogText() {
        var batch = AccessLogBatch()
        let path: [UInt8] = [0x2F, 0xC3, 0xA9, 0xFF]
        path.withUnsafeBytes { raw in
            batch.appendRow(timeMicros: 1, status: 400, bytes: 0, durationMicros: 0,
                            nil, nil, UnsafeRawBufferPointer(start: nil, count: 0), nil, raw, nil, nil, nil, nil, nil, nil, nil)
        }
        #expect(Self.read(batch).first?.path == "/\u{E9}\\xFF")
        #expect(Self.read(batch).first?.client == "")
    }

    @Test func firstRowsMoveInOrderWithTheirByteCounts() {
        var pending = AccessLogBatch()
        var done = AccessLogBatch()
        for n in 0..<3 { pending.append(Self.record(n)) }
        pending.moveFirstRow(to: &done, bytes: 111, durationMicros: 222)
        #expect(pending.count == 2)
        pending.append(Self.record(3))   // appended behind the rows still pending
        pending.moveFirstRow(to: &done, bytes: 5, durationMicros: 6)
        var expected = [Self.record(0), Self.record(1)]
        expected[0].bytes = 111; expected[0].durationMicros = 222
        expected[1].bytes = 5; expected[1].durationMicros = 6
        #expect(Self.read(done) == expected)
        #expect(Self.read(pending) == [Self.record(2), Self.record(3)])
        pending.moveFirstRow(to: &done, bytes: 0, durationMicros: 0)
        pending.moveFirstRow(to: &done, bytes: 0, durationMicros: 0)
        #expect(pending.isEmpty && pending.used == 0)
        #expect(done.count == 4)
    }

    @Test func appendingThePrefixOfAnotherBatch() {
        var source = AccessLogBatch()
        for n in 0..<10 { source.append(Self.record(n)) }
        var target = AccessLogBatch(capacity: 64)   // grows while appending
        target.append(Self.record(99))
        target.append(rowsOf: source, count: 4)
        #expect(Self.read(target) == [Self.record(99)] + (0..<4).map(Self.record))
        target.append(rowsOf: source)
        #expect(target.count == 15)
        target.removeAll()
        #expect(target.isEmpty && target.capacity > 0)
    }
}
