// TestClient: a raw-socket HTTP/1.1 client for live tests. Bytes go to the server
// exactly as written (so malformed requests reach the parser unchanged) and
// responses are parsed just enough to check status, headers and body.
import Glibc
@testable import CompanionCore

struct TestResponse: CustomStringConvertible {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    func headers(_ name: String) -> [String] {
        headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    var description: String { "\(status) \(headers) \(text.prefix(200))" }
}

enum TestClientError: Error { case connect(Int32), timeout, closed, malformed(String) }

final class TestConnection {
    let fd: Int32
    private var pending: [UInt8] = []

    init(port: Int, host: String = "127.0.0.1", timeoutSeconds: Int = 10) throws {
        let isV6 = host.contains(":")
        fd = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let result: Int32
        if isV6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(port).bigEndian
            inet_pton(AF_INET6, host, &address.sin6_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            inet_pton(AF_INET, host, &address.sin_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        if result != 0 {
            // deinit runs for an init that throws once every property is set: mark the
            // descriptor closed, or deinit closes it again (maybe another test's by then).
            let e = errno
            close(fd)
            isOpen = false
            throw TestClientError.connect(e)
        }
    }

    private var isOpen = true

    deinit { if isOpen { close(fd) } }

    /// Closes with a RST (SO_LINGER 0), as a client that crashes or gives up does.
    func abort() {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        close(fd)
        isOpen = false
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Reads more bytes; false at EOF or timeout.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        if n > 0 { pending.append(contentsOf: chunk[0..<n]); return true }
        if n == 0 { return false }
        if errno == EAGAIN || errno == EWOULDBLOCK { throw TestClientError.timeout }
        return false
    }

    /// Reads one response. `headRequest`: no body follows regardless of Content-Length.
    func readResponse(headRequest: Bool = false) throws -> TestResponse {
        var headEnd: Int?
        while headEnd == nil {
            headEnd = Self.find([13, 10, 13, 10], in: pending)
            if headEnd == nil { guard try fill() else { throw TestClientError.closed } }
        }
        let headBytes = Array(pending[0..<headEnd!])
        pending.removeFirst(headEnd! + 4)
        let lines = String(decoding: headBytes, as: UTF8.self).testSplit(by: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw TestClientError.malformed(lines[0]) }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...]).testTrimmed()))
        }
        var response = TestResponse(status: status, headers: headers, body: [])
        if headRequest || status == 304 || status == 204 { return response }
        if let lengthText = response.header("Content-Length"), let length = Int(lengthText) {
            while pending.count < length { guard try fill() else { break } }
            let take = min(length, pending.count)
            response.body = Array(pending[0..<take])
            pending.removeFirst(take)
        } else {
            while try fill() {}
            response.body = pending
            pending.removeAll()
        }
        return response
    }

    /// True when the server closed the connection (EOF) within the receive timeout.
    func isClosedByPeer() -> Bool {
        if !pending.isEmpty { return false }
        do { return try !fill() } catch { return false }
    }

    /// Everything the server sends until it closes the connection.
    func readUntilClose() -> [UInt8] {
        while (try? fill()) == true {}
        defer { pending.removeAll() }
        return pending
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<i + needle.count].elementsEqual(needle) { return i }
        return nil
    }
}

extension String {
    func testSplit(by separator: String) -> [String] {
        var parts: [String] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }

    func testTrimmed() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// One request on a fresh connection.
func roundTrip(_ port: Int, _ request: String, headRequest: Bool = false) throws -> TestResponse {
    let connection = try TestConnection(port: port)
    connection.send(request)
    return try connection.readResponse(headRequest: headRequest)
}

/// A GET with the given Host and extra header lines.
func get(_ port: Int, _ path: String, host: String = "a.test", headers: [String] = []) throws -> TestResponse {
    var request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\n"
    for header in headers { request += header + "\r\n" }
    request += "Connection: close\r\n\r\n"
    return try roundTrip(port, request)
}
