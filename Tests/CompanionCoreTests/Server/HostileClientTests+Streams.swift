// More hostile clients: slowloris heads and bodies, a pipelined flood that never
// reads, a reset in the middle of a response (the log must count the bytes really sent),
// and a file truncated or replaced while it is being sent. Each test is bounded by socket
// timeouts; the pauses in them are the adversary's pacing, not synchronisation.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct HostileStreamTests {
    /// A head dripped a byte at a time never completes: 408 at the header timeout, then close.
    @Test func aDrippedHeadIsAnswered408AtTheHeaderTimeout() throws {
        let directory = TempDirectory()
        directory.write("a/index.html", "home")
        let timeoutMs = 700
        let server = try TestServer(directory: directory, topLevel: "\"limits\": {\"headerTimeoutMs\": \(timeoutMs)},")
        let slow = try TestConnection(port: server.port, timeoutSeconds: 5)
        let started = HostileClientTests.monotonicSeconds()
        let head = Array("GET /index.html HTTP/1.1\r\nHost: a.test\r\nX-Filler: ".utf8) + [UInt8](repeating: 0x61, count: 400)
        var sent = 0
        while sent < head.count, !hasInput(slow.fd) {
            slow.send([head[sent]])
            sent += 1
            usleep(20_000)
            // Others are served meanwhile.
            if sent % 10 == 0 { #expect(try get(server.port, "/index.html").text == "home") }
        }
        let answer = String(decoding: slow.readUntilClose(), as: UTF8.self)
        let elapsed = HostileClientTests.monotonicSeconds() - started
        #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer.prefix(60))")
        #expect(sent < head.count)
        #expect(elapsed >= Double(timeoutMs) / 1000 - 0.01 && elapsed < Double(timeoutMs) / 1000 + 2)
    }

    /// A body dripped after a complete head: the response goes out at once, the rest of the
    /// body is skipped while it arrives, and the connection closes at the header timeout
    /// counted from the head's first byte (a body is not a way to hold a connection forever).
    @Test func aDrippedBodyIsCutOffAtTheHeaderTimeout() throws {
        let directory = TempDirectory()
        directory.write("a/index.html", "home")
        let timeoutMs = 700
        let server = try TestServer(directory: directory, topLevel: "\"limits\": {\"headerTimeoutMs\": \(timeoutMs), \"idleTimeoutMs\": 30000},")
        let slow = try TestConnection(port: server.port, timeoutSeconds: 5)
        let started = HostileClientTests.monotonicSeconds()
        slow.send("POST /index.html HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100000\r\n\r\n")
        let response = try slow.readResponse()
        #expect(response.status == 405)
        var sent = 0
        while sent < 1000, !hasInput(slow.fd) {
            slow.send([0x62])
            sent += 1
            usleep(20_000)
        }
        let elapsed = HostileClientTests.monotonicSeconds() - started
        #expect(slow.isClosedByPeer())
        #expect(elapsed >= Double(timeoutMs) / 1000 - 0.01 && elapsed < Double(timeoutMs) / 1000 + 2, "closed after \(elapsed) s")
        #expect(try get(server.port, "/index.html").text == "home")
    }

    /// 20,000 pipelined requests from a client that does not read: the server stops reading
    /// it once its queued output is back-pressured, serves others meanwhile, and answers all
    /// of them in order once the client reads.
    @Test func aPipelinedFloodIsBackPressuredAndAnsweredInOrder() throws {
        let directory = TempDirectory()
        // 20,000 requests of ~450 bytes (9 MB) and 2 KB responses (44 MB): more than the
        // loopback socket buffers on both sides can hold, so only back-pressure stops it.
        let page = String(repeating: "0123456789abcdef", count: 128)
        directory.write("a/small.txt", page)
        let server = try TestServer(directory: directory)
        let flooder = try TestConnection(port: server.port, timeoutSeconds: 10)
        let count = 20_000
        let padding = String(repeating: "p", count: 400)
        var requests: [UInt8] = []
        for index in 0..<count {
            requests += Array("GET /small.txt?n=\(index) HTTP/1.1\r\nHost: a.test\r\nX-Pad: \(padding)\r\n\r\n".utf8)
        }
        // Non-blocking sends: the server must stop reading long before all of it is taken.
        let flags = fcntl(flooder.fd, F_GETFL)
        _ = fcntl(flooder.fd, F_SETFL, flags | O_NONBLOCK)
        var offset = 0
        var stalls = 0
        while offset < requests.count && stalls < 50 {
            let n = requests[offset...].withUnsafeBytes { Glibc.send(flooder.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                offset += n
                stalls = 0
            } else {
                stalls += 1
                usleep(10_000)
            }
        }
        #expect(offset < requests.count, "the server took the whole flood (\(offset) bytes) without back-pressure")
        #expect(try get(server.port, "/small.txt").text == page)
        _ = fcntl(flooder.fd, F_SETFL, flags)
        // Now read, and send the rest as the server drains.
        var answered = 0
        let rest = Array(requests[offset...])
        let sender = try ThreadRunner {
            rest.withUnsafeBytes { raw in
                var sentRest = 0
                while sentRest < raw.count {
                    let n = Glibc.send(flooder.fd, raw.baseAddress! + sentRest, raw.count - sentRest, Int32(MSG_NOSIGNAL))
                    if n <= 0 { return }
                    sentRest += n
                }
            }
        }
        while answered < count {
            let response = try flooder.readResponse()
            guard response.status == 200, response.body.count == page.utf8.count else { break }
            answered += 1
        }
        sender.join()
        #expect(answered == count)
    }

    /// A client that resets mid-response is logged with the bytes it was sent, not the
    /// file's size: at least what it received, less than the whole.
    @Test func aResetMidResponseLogsTheBytesSent() throws {
        let directory = TempDirectory()
        let size = 32 << 20
        directory.write("a/big.bin", [UInt8](repeating: 0x5A, count: size))
        let server = try TestServer(directory: directory, topLevel: "\"accessLog\": {\"sqlite\": \"logs/access.sqlite\", \"flushMs\": 100},")
        let database = directory.path + "/logs/access.sqlite"
        let client = try TestConnection(port: server.port, timeoutSeconds: 5)
        client.send("GET /big.bin HTTP/1.1\r\nHost: a.test\r\n\r\n")
        var received = 0
        var start: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while received < 256 * 1024 {
            let n = buffer.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            if start.count < 4096 { start += buffer[0..<n] }
            received += n
        }
        client.abort()   // SO_LINGER 0: a reset
        let headLength = try #require(TestConnection.find(Array("\r\n\r\n".utf8), in: start)) + 4
        let receivedBody = received - headLength
        var bytes = -1
        for _ in 0..<100 where bytes < 0 {
            if let row = try? AccessLogLiveTests.rows(database).first { bytes = row.bytes } else { usleep(50_000) }
        }
        #expect(bytes >= receivedBody, "logged \(bytes), received \(receivedBody) body bytes")
        #expect(bytes < size, "logged the whole file (\(bytes)) for a reset client")
    }

    /// A file truncated while it is sent: the response cannot keep its Content-Length, so the
    /// connection closes early (never hangs or spins) and the server goes on serving.
    @Test func aFileTruncatedDuringSendfileEndsTheResponse() throws {
        let directory = TempDirectory()
        let size = 64 << 20
        let path = directory.write("a/big.bin", [UInt8](repeating: 0x5A, count: size))
        directory.write("a/index.html", "home")
        let server = try TestServer(directory: directory)
        let client = try TestConnection(port: server.port, timeoutSeconds: 5)
        client.send("GET /big.bin HTTP/1.1\r\nHost: a.test\r\n\r\n")
        var buffer = [UInt8](repeating: 0, count: 65536)
        var received = buffer.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) }
        #expect(truncate(path, 1 << 20) == 0)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            received += n
        }
        #expect(received < size, "received \(received) of a file truncated to 1 MiB")
        #expect(client.isClosedByPeer())
        #expect(try get(server.port, "/index.html").text == "home")
    }

    /// A file replaced (renamed over) while it is sent: the open descriptor keeps the old
    /// bytes, so the client gets the whole old version, consistent with its Content-Length.
    @Test func aFileReplacedDuringSendfileSendsTheOldVersionWhole() throws {
        let directory = TempDirectory()
        let size = 16 << 20
        directory.write("a/big.bin", [UInt8](repeating: 0x41, count: size))
        let server = try TestServer(directory: directory, fileCacheMilliseconds: 0)
        let client = try TestConnection(port: server.port, timeoutSeconds: 5)
        client.send("GET /big.bin HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let first = buffer.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) }
        bytes += buffer[0..<max(0, first)]
        let replacement = directory.write("a/new.bin", [UInt8](repeating: 0x42, count: 1000))
        #expect(rename(replacement, directory.path + "/a/big.bin") == 0)
        bytes += client.readUntilClose()
        let headEnd = try #require(TestConnection.find(Array("\r\n\r\n".utf8), in: bytes))
        let body = bytes[(headEnd + 4)...]
        #expect(body.count == size)
        #expect(body.allSatisfy { $0 == 0x41 })
        #expect(try get(server.port, "/big.bin").body.count == 1000)
    }
}

/// Whether bytes or an EOF wait on `fd` (does not block).
func hasInput(_ fd: Int32) -> Bool {
    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&entry, 1, 0) > 0
}

/// A pthread running a closure once; `join` waits for it.
final class ThreadRunner: @unchecked Sendable {
    private var thread: pthread_t
    private final class Box { let body: () -> Void; init(_ body: @escaping () -> Void) { self.body = body } }

    init(_ body: @escaping () -> Void) throws {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { raw in
            let box = Unmanaged<AnyObject>.fromOpaque(raw!).takeRetainedValue() as! Box
            box.body()
            return nil
        }, box)
        guard result == 0 else { throw TestClientError.connect(result) }
        thread = handle
    }

    func join() { pthread_join(thread, nil) }
}
