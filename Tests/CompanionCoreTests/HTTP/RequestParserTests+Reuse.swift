// Parsing into a finished head's arrays (what a connection does for every request
// after the first) gives the same head as parsing into new ones.
import Testing
@testable import CompanionCore

extension RequestParserTests {
    static func describe(_ head: RequestHead) -> String {
        let fields = head.fields.map { "\($0.name) \($0.value) \(String(describing: $0.known))" }
        return "\(head.bytes) \(head.method) \(head.methodBytes) \(head.target) \(head.path) \(String(describing: head.query)) "
            + "\(head.versionMinor) \(fields) \(head.contentLength) \(head.isKeepAlive) \(head.knownSeen)"
    }

    @Test func reusedStorageGivesTheSameHeads() throws {
        let requests = [
            "GET /a/long/path/with/many/segments?x=1 HTTP/1.1\r\nHost: a.test\r\nUser-Agent: agent\r\nAccept: */*\r\nReferer: http://r/\r\nX-Long: \(String(repeating: "v", count: 300))\r\n\r\n",
            "HEAD / HTTP/1.0\r\nHost: b\r\n\r\n",
            "GET /x HTTP/1.1\r\nHost: c.test\r\nConnection: close\r\n\r\n",
            "OPTIONS * HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n",
        ]
        let parser = RequestParser()
        var storage = RequestHead.Storage()
        for text in requests + requests.reversed() {
            let bytes = Array(text.utf8)
            let reused = bytes.withUnsafeBytes { parser.parse($0, reusing: &storage) }
            let fresh = parser.parse(bytes)
            guard case .complete(let head, let consumed) = reused, case .complete(let expected, let expectedConsumed) = fresh else {
                Issue.record("not parsed: \(text)")
                continue
            }
            #expect(consumed == expectedConsumed)
            #expect(Self.describe(head) == Self.describe(expected))
            storage = RequestHead.Storage(reclaiming: head)
        }
        // A head someone kept is not overwritten by the next parse into its arrays.
        let first = Array(requests[0].utf8)
        guard case .complete(let kept, _) = first.withUnsafeBytes({ parser.parse($0, reusing: &storage) }) else {
            Issue.record("not parsed")
            return
        }
        storage = RequestHead.Storage(reclaiming: kept)
        let snapshot = Self.describe(kept)
        _ = Array(requests[1].utf8).withUnsafeBytes { parser.parse($0, reusing: &storage) }
        #expect(Self.describe(kept) == snapshot)
    }
}
