// Live tests: validators (304/412), ranges (206/416, multipart, If-Range) and HEAD.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct ConditionalAndRangeTests {
    static let body = (0..<1000).map { String($0 % 10) }.joined()

    static func makeServer(_ directory: TempDirectory) throws -> TestServer {
        directory.write("a/data.txt", body)
        return try TestServer(directory: directory)
    }

    @Test func ifNoneMatchAndIfModifiedSince() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let first = try get(server.port, "/data.txt")
        let etag = try #require(first.header("ETag"))
        let modified = try #require(first.header("Last-Modified"))

        let cached = try get(server.port, "/data.txt", headers: ["If-None-Match: \(etag)"])
        #expect(cached.status == 304)
        #expect(cached.header("ETag") == etag)
        #expect(cached.body.isEmpty)
        #expect(try get(server.port, "/data.txt", headers: ["If-None-Match: \"other\", W/\(etag)"]).status == 304)
        #expect(try get(server.port, "/data.txt", headers: ["If-None-Match: *"]).status == 304)
        #expect(try get(server.port, "/data.txt", headers: ["If-None-Match: \"other\""]).status == 200)
        #expect(try get(server.port, "/data.txt", headers: ["If-Modified-Since: \(modified)"]).status == 304)
        #expect(try get(server.port, "/data.txt", headers: ["If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT"]).status == 200)
        // If-None-Match present: If-Modified-Since is ignored.
        #expect(try get(server.port, "/data.txt", headers: ["If-None-Match: \"other\"", "If-Modified-Since: \(modified)"]).status == 200)
    }

    @Test func ifMatchAndIfUnmodifiedSince() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let etag = try #require(try get(server.port, "/data.txt").header("ETag"))
        #expect(try get(server.port, "/data.txt", headers: ["If-Match: \(etag)"]).status == 200)
        #expect(try get(server.port, "/data.txt", headers: ["If-Match: \"nope\""]).status == 412)
        #expect(try get(server.port, "/data.txt", headers: ["If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT"]).status == 412)
        #expect(try get(server.port, "/data.txt", headers: ["If-Unmodified-Since: Fri, 01 Jan 2100 00:00:00 GMT"]).status == 200)
    }

    @Test func singleRanges() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let bytes = Array(Self.body.utf8)
        let first = try get(server.port, "/data.txt", headers: ["Range: bytes=0-9"])
        #expect(first.status == 206)
        #expect(first.header("Content-Range") == "bytes 0-9/1000")
        #expect(first.body == Array(bytes[0..<10]))
        let suffix = try get(server.port, "/data.txt", headers: ["Range: bytes=-5"])
        #expect(suffix.header("Content-Range") == "bytes 995-999/1000")
        #expect(suffix.body == Array(bytes[995...]))
        let open = try get(server.port, "/data.txt", headers: ["Range: bytes=990-"])
        #expect(open.body == Array(bytes[990...]))
        let clamped = try get(server.port, "/data.txt", headers: ["Range: bytes=998-5000"])
        #expect(clamped.header("Content-Range") == "bytes 998-999/1000")
        let huge = try get(server.port, "/data.txt", headers: ["Range: bytes=0-18446744073709551615"])
        #expect(huge.status == 206)
        #expect(huge.body == bytes)
    }

    @Test func unsatisfiableAndInvalidRanges() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let unsatisfiable = try get(server.port, "/data.txt", headers: ["Range: bytes=5000-6000"])
        #expect(unsatisfiable.status == 416)
        #expect(unsatisfiable.header("Content-Range") == "bytes */1000")
        #expect(try get(server.port, "/data.txt", headers: ["Range: bytes=9-1"]).status == 200)
        #expect(try get(server.port, "/data.txt", headers: ["Range: items=0-1"]).status == 200)
        #expect(try get(server.port, "/data.txt", headers: ["Range: bytes=abc"]).status == 200)
    }

    @Test func multipleRanges() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let response = try get(server.port, "/data.txt", headers: ["Range: bytes=0-1,10-12"])
        #expect(response.status == 206)
        let type = try #require(response.header("Content-Type"))
        #expect(type.hasPrefix("multipart/byteranges; boundary="))
        let boundary = String(type.dropFirst("multipart/byteranges; boundary=".count))
        let text = response.text
        #expect(text.contains("--\(boundary)\r\n"))
        #expect(text.contains("Content-Range: bytes 0-1/1000\r\n\r\n01\r\n"))
        #expect(text.contains("Content-Range: bytes 10-12/1000\r\n\r\n012\r\n"))
        #expect(text.hasSuffix("--\(boundary)--\r\n"))
        #expect(Int(response.header("Content-Length") ?? "") == response.body.count)
        // Overlapping or too many ranges: one 200.
        #expect(try get(server.port, "/data.txt", headers: ["Range: bytes=0-100,50-150"]).status == 200)
        let many = (0..<17).map { "\($0 * 10)-\($0 * 10 + 1)" }.joined(separator: ",")
        #expect(try get(server.port, "/data.txt", headers: ["Range: bytes=\(many)"]).status == 200)
    }

    /// The file's time is set an hour back, so the date is a strong validator
    /// whatever second the test runs in (a file written in the Date's second is weak).
    @Test func ifRange() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        directory.setModified("a/data.txt", Int(time(nil)) - 3600)
        let full = try get(server.port, "/data.txt")
        let etag = try #require(full.header("ETag"))
        let modified = try #require(full.header("Last-Modified"))
        #expect(try get(server.port, "/data.txt", headers: ["Range: bytes=0-1", "If-Range: \(etag)"]).status == 206)
        #expect(try get(server.port, "/data.txt", headers: ["Range: bytes=0-1", "If-Range: \(modified)"]).status == 206)
        #expect(try get(server.port, "/data.txt", headers: ["Range: bytes=0-1", "If-Range: \"stale\""]).status == 200)
    }

    /// RFC 9110 §8.8.2.1: a file dated in the future is sent with
    /// Last-Modified equal to the Date, and such a date never allows a 206.
    @Test func futureModificationTimeBecomesTheDate() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        directory.setModified("a/data.txt", Int(time(nil)) + 86_400 * 365)
        let response = try get(server.port, "/data.txt")
        let modified = try #require(response.header("Last-Modified"))
        #expect(modified == response.header("Date"))
        let ranged = try get(server.port, "/data.txt", headers: ["Range: bytes=0-1", "If-Range: \(modified)"])
        #expect(ranged.status == 200)
    }

    @Test func largeFileViaSendfileArrivesWhole() throws {
        let directory = TempDirectory()
        var big = [UInt8](repeating: 0, count: 3 << 20)
        for i in big.indices { big[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 13) }
        directory.write("a/big.bin", big)
        let server = try TestServer(directory: directory)
        let response = try get(server.port, "/big.bin")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/octet-stream")
        #expect(response.body == big)
        let middle = try get(server.port, "/big.bin", headers: ["Range: bytes=1000000-2999999"])
        #expect(middle.body == Array(big[1_000_000..<3_000_000]))
    }
}
