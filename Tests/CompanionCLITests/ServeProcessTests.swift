// Live tests of the real `companion` binary: start-up lines, SIGTERM during a
// large download (the response finishes, exit 0), SIGHUP reload (valid and
// invalid), and `check`. Readiness is the "listening on" line, not a sleep.
import Foundation
import Testing

/// A `companion` child process with its stderr collected line by line.
final class CompanionProcess: @unchecked Sendable {
    // @unchecked Sendable: `lines` is guarded by `lock`; the rest is set in init.
    let process = Process()
    private let errPipe = Pipe()
    private let outPipe = Pipe()
    private let lock = NSLock()
    private var lines: [String] = []
    private var partial = Data()
    private(set) var stdout = Data()

    static var binary: String {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("companion").path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug/companion").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[1]
    }

    init(_ arguments: [String], directory: String? = nil, executable: String? = nil,
         environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: executable ?? Self.binary)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardError = errPipe
        process.standardOutput = outPipe
        errPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.append(data)
        }
        try process.run()
    }

    private func append(_ data: Data) {
        lock.lock()
        defer { lock.unlock() }
        partial.append(data)
        while let newline = partial.firstIndex(of: 10) {
            lines.append(String(decoding: partial[partial.startIndex..<newline], as: UTF8.self))
            partial.removeSubrange(partial.startIndex...newline)
        }
    }

    var stderrLines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }

    /// Waits (polling, bounded) until a stderr line contains `text`; returns it.
    func waitForLine(containing text: String, timeout: Double = 20) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = stderrLines.first(where: { $0.contains(text) }) { return line }
            if !process.isRunning { return stderrLines.first { $0.contains(text) } }
            usleep(20_000)
        }
        return nil
    }

    /// The port from the first "listening on http://HOST:PORT/" line.
    func waitForPort() -> Int? {
        guard let line = waitForLine(containing: "listening on http://") else { return nil }
        let afterScheme = line.components(separatedBy: "http://")[1]
        let hostPort = afterScheme.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        return Int(hostPort.components(separatedBy: ":").last ?? "")
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    func waitForExit(timeout: Double = 20) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate(); return nil }
        return process.terminationStatus
    }
}

/// A blocking loopback client socket for the process tests.
final class RawClient {
    /// -1 once closed. SECURITY of the suite: an init that throws after every property is set
    /// still runs deinit, so a failed connect closed its descriptor twice, and the second
    /// close could hit a descriptor another test had opened meanwhile (a server's epoll or
    /// listener: "epoll_ctl: Bad file descriptor" in a parallel TSan run).
    private(set) var fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            fd = -1
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads up to `limit` bytes (one recv).
    func receive(limit: Int = 65536) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: limit)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, limit, 0) }
        return n > 0 ? Array(buffer[0..<n]) : []
    }

    /// Reads until EOF.
    func receiveAll() -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = receive()
            if chunk.isEmpty { return all }
            all.append(contentsOf: chunk)
        }
    }

    /// One request with Connection: close; returns the raw response text.
    static func get(port: Int, path: String, host: String) throws -> String {
        let client = try RawClient(port: port)
        client.send("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n")
        return String(decoding: client.receiveAll(), as: UTF8.self)
    }
}

func makeTempDirectory() -> URL {
    let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("companion-cli-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite(.serialized) struct ServeProcessTests {
    @Test func sigtermFinishesALargeDownloadAndExitsZero() throws {
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("site"), withIntermediateDirectories: true)
        let size = 48 << 20
        var bytes = [UInt8](repeating: 0, count: size)
        for i in stride(from: 0, to: size, by: 4096) { bytes[i] = UInt8(truncatingIfNeeded: i >> 12) }
        let big = Data(bytes)
        try big.write(to: dir.appendingPathComponent("site/big.bin"))
        try #"{"listen": "127.0.0.1:0", "sites": [{"host": "a.test", "root": "site"}], "accessLog": {"sqlite": "logs/access.sqlite"}}"#
            .write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)

        let server = try CompanionProcess(["serve", "--config", dir.appendingPathComponent("config.json").path])
        let port = try #require(server.waitForPort())
        #expect(server.waitForLine(containing: "site a.test") != nil)   // printed after the "listening" line

        let client = try RawClient(port: port)
        client.send("GET /big.bin HTTP/1.1\r\nHost: a.test\r\n\r\n")
        var received = client.receive(limit: 4096)   // the download has started
        #expect(!received.isEmpty)
        server.signal(SIGTERM)
        #expect(server.waitForLine(containing: "stopping") != nil)
        received += client.receiveAll()
        let headEnd = try #require(received.firstRange(of: [13, 10, 13, 10]))
        let body = received[headEnd.upperBound...]
        #expect(body.count == size)
        #expect(Data(body) == big)
        #expect(server.waitForExit() == 0)
        // New connections are refused after the stop.
        #expect(throws: (any Error).self) { _ = try RawClient(port: port) }
    }

    @Test func sighupReloadsValidConfigAndKeepsOldOnInvalid() throws {
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, text) in [("one", "first root"), ("two", "second root")] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(name), withIntermediateDirectories: true)
            try text.write(to: dir.appendingPathComponent("\(name)/index.html"), atomically: true, encoding: .utf8)
        }
        let configURL = dir.appendingPathComponent("config.json")
        try #"{"listen": "127.0.0.1:0", "sites": [{"host": "a.test", "root": "one"}]}"#
            .write(to: configURL, atomically: true, encoding: .utf8)
        let server = try CompanionProcess(["serve", "--config", configURL.path])
        defer { server.signal(SIGKILL) }
        let port = try #require(server.waitForPort())
        #expect(try RawClient.get(port: port, path: "/", host: "a.test").hasSuffix("first root"))

        // A keep-alive connection opened before the reload survives it.
        let kept = try RawClient(port: port)
        kept.send("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
        #expect(String(decoding: kept.receive(), as: UTF8.self).hasSuffix("first root"))

        try #"{"listen": "127.0.0.1:0", "sites": [{"host": "a.test", "root": "two"}]}"#
            .write(to: configURL, atomically: true, encoding: .utf8)
        server.signal(SIGHUP)
        #expect(server.waitForLine(containing: "config reloaded") != nil)
        #expect(try RawClient.get(port: port, path: "/", host: "a.test").hasSuffix("second root"))
        kept.send("GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        #expect(String(decoding: kept.receiveAll(), as: UTF8.self).hasSuffix("second root"))

        try #"{"listen": "127.0.0.1:0", "sites": [{"host": "a.test", "root": "missing"}]}"#
            .write(to: configURL, atomically: true, encoding: .utf8)
        server.signal(SIGHUP)
        let failure = server.waitForLine(containing: "reload failed")
        #expect(failure != nil)
        #expect(server.waitForLine(containing: "sites[0].root") != nil)
        #expect(try RawClient.get(port: port, path: "/", host: "a.test").hasSuffix("second root"))

        server.signal(SIGINT)
        #expect(server.waitForExit() == 0)
    }

    @Test func addressInUseIsAClearError() throws {
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("site"), withIntermediateDirectories: true)
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(holder, 1)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(holder, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: bound.sin_port))
        try #"{"listen": "127.0.0.1:\#(port)", "sites": [{"host": "a.test", "root": "site"}]}"#
            .write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let server = try CompanionProcess(["serve", "--config", dir.appendingPathComponent("config.json").path])
        #expect(server.waitForExit() == 1)
        let message = server.stderrLines.joined(separator: "\n")
        #expect(message.contains("127.0.0.1:\(port)"))
        #expect(message.contains("Address already in use"))
        #expect(!message.contains("Fatal error"))
    }
}
