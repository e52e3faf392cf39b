// Live tests of the connection state machine: pipelining behind a large
// (sendfile) body with back-pressure, request bodies split across packets,
// HEAD of a large file, 413 and the connection close after it, and a client
// that reads slowly (partial writes).
import Glibc
import Testing
@testable import CompanionCore

@Suite struct ConnectionTests {
    static func bigFile() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 3 << 20)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: (i &* 31) >> 7) }
        return bytes
    }

    @Test func pipelinedRequestsBehindALargeBodyStayInOrder() throws {
        let directory = TempDirectory()
        let big = Self.bigFile()
        directory.write("a/big.bin", big)
        directory.write("a/small.txt", "small")
        let server = try TestServer(directory: directory)
        let connection = try TestConnection(port: server.port)
        connection.send("GET /big.bin HTTP/1.1\r\nHost: a.test\r\n\r\nGET /small.txt HTTP/1.1\r\nHost: a.test\r\n\r\n"
                        + "GET /big.bin HTTP/1.1\r\nHost: a.test\r\nRange: bytes=10-19\r\n\r\nGET /small.txt HTTP/1.1\r\nHost: a.test\r\n\r\n")
        let first = try connection.readResponse()
        #expect(first.status == 200 && first.body == big)
        #expect(try connection.readResponse().text == "small")
        let range = try connection.readResponse()
        #expect(range.status == 206 && range.body == Array(big[10..<20]))
        #expect(try connection.readResponse().text == "small")
    }

    @Test func aSlowReaderGetsEveryByte() throws {
        let directory = TempDirectory()
        let big = Self.bigFile()
        directory.write("a/big.bin", big)
        let server = try TestServer(directory: directory)
        let connection = try TestConnection(port: server.port)
        var size: Int32 = 65536   // a small receive window forces partial writes on the server
        setsockopt(connection.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        connection.send("GET /big.bin HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        let response = try connection.readResponse()
        #expect(response.body == big)
    }

    /// Segments the client's kernel received on `fd` (`tcpi_segs_in`, at byte 140 of the
    /// kernel's `struct tcp_info` in linux/tcp.h; glibc's copy of the struct stops earlier).
    static func segmentsReceived(_ fd: Int32) -> UInt32 {
        var info = [UInt8](repeating: 0, count: 256)
        var length = socklen_t(info.count)
        let rc = info.withUnsafeMutableBytes { getsockopt(fd, Int32(IPPROTO_TCP), Int32(TCP_INFO), $0.baseAddress, &length) }
        guard rc == 0, length >= 144 else { return 0 }
        return info.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 140, as: UInt32.self) }
    }

    /// A `Connection: close` response leaves in the segment that carries the FIN: the last
    /// bytes go with MSG_MORE and the close pushes them out with it. The client then sees
    /// three segments (SYN-ACK, the ACK of its request, response + FIN), not four, and sends
    /// one ACK fewer (in the bench's close scenario, wrk's core is the bottleneck).
    @Test func aClosingResponseCarriesTheFIN() throws {
        let directory = TempDirectory()
        directory.write("a/index.html", String(repeating: "x", count: 1024))
        let server = try TestServer(directory: directory)
        for _ in 0..<5 {
            let connection = try TestConnection(port: server.port)
            connection.send("GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
            let response = try connection.readResponse()
            #expect(response.status == 200 && response.body.count == 1024)
            #expect(connection.readUntilClose().isEmpty)
            let segments = Self.segmentsReceived(connection.fd)
            #expect(segments >= 2 && segments <= 3, "segments received: \(segments)")
        }
    }

    /// Pipelined requests up to one that closes: every response arrives, in order, before the
    /// EOF, and bytes the client sends after the closing request do not cost the response.
    @Test func pipelinedResponsesBeforeACloseAllArrive() throws {
        let directory = TempDirectory()
        directory.write("a/small.txt", "small")
        directory.write("a/big.bin", Self.bigFile())
        let server = try TestServer(directory: directory)
        let connection = try TestConnection(port: server.port)
        connection.send("GET /small.txt HTTP/1.1\r\nHost: a.test\r\n\r\n"
                        + "GET /big.bin HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"
                        + "GET /small.txt HTTP/1.1\r\nHost: a.test\r\n\r\n")
        #expect(try connection.readResponse().text == "small")
        let big = try connection.readResponse()
        #expect(big.status == 200 && big.body == Self.bigFile())
        #expect(connection.readUntilClose().isEmpty)   // the third request is not answered
    }

    @Test func bodiesSplitAcrossPacketsAreDiscarded() throws {
        let directory = TempDirectory()
        directory.write("a/index.html", "home")
        let server = try TestServer(directory: directory)
        let connection = try TestConnection(port: server.port)
        connection.send("GET / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 10\r\n\r\nabc")
        #expect(try connection.readResponse().text == "home")
        connection.send("defg")
        connection.send("hij")   // the body ends here; the next request follows
        connection.send("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
        #expect(try connection.readResponse().text == "home")
    }

    @Test func headOfALargeFileHasItsLengthAndNoBody() throws {
        let directory = TempDirectory()
        directory.write("a/big.bin", Self.bigFile())
        directory.write("a/small.txt", "small")
        let server = try TestServer(directory: directory)
        let connection = try TestConnection(port: server.port)
        connection.send("HEAD /big.bin HTTP/1.1\r\nHost: a.test\r\n\r\nGET /small.txt HTTP/1.1\r\nHost: a.test\r\n\r\n")
        let head = try connection.readResponse(headRequest: true)
        #expect(head.header("Content-Length") == String(3 << 20))
        #expect(try connection.readResponse().text == "small")   // no body bytes came in between
    }

    @Test func tooLargeBodiesAre413AndClose() throws {
        let directory = TempDirectory()
        directory.write("a/index.html", "home")
        let server = try TestServer(directory: directory, topLevel: "\"limits\": {\"maxBodyBytes\": 10},")
        let connection = try TestConnection(port: server.port)
        connection.send("POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 11\r\n\r\nhello world")
        let response = try connection.readResponse()
        #expect(response.status == 413)
        #expect(response.header("Connection") == "close")
        #expect(connection.isClosedByPeer())
    }
}
