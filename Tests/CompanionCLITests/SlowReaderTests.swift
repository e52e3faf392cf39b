// Slow readers: each connection used to copy a cached compressed body into
// its own output, so 20 clients that ask for a 14 MB gzip body and never read took the
// server from 120 to 380 MiB. Cached bodies are queued by reference now: many slow
// readers of one large cached body cost the server (almost) nothing in RSS.
import Foundation
import Glibc
import Testing

@Suite struct SlowReaderTests {
    /// The server's anonymous resident memory (RssAnon): buffers, caches, bodies; what these
    /// tests bound. Not VmRSS: the server gives its start-up code pages back when it is ready
    /// (StartupPages), and the code a test then runs is mapped again 64 KiB at a time, which
    /// would count megabytes of the binary as memory per connection.
    static func residentKiB(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// ~30 MB of letters from a 16-letter alphabet: gzip gets it to about half.
    static func writeBigText(_ url: URL) throws {
        var bytes = [UInt8](repeating: 0, count: 30 << 20)
        var state: UInt64 = 0x1234_5678
        for i in bytes.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes[i] = i % 80 == 79 ? 10 : UInt8(ascii: "a") + UInt8(truncatingIfNeeded: state >> 60)
        }
        try Data(bytes).write(to: url)
    }

    @Test func slowReadersOfALargeCachedBodyShareIt() throws {
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let site = dir.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
        try Self.writeBigText(site.appendingPathComponent("big.txt"))
        let config = dir.appendingPathComponent("config.json")
        try #"{"listen": "127.0.0.1:0", "workers": 1, "sites": [{"host": "a.test", "root": "site"}]}"#
            .write(to: config, atomically: true, encoding: .utf8)
        let server = try CompanionProcess(["serve", "--config", config.path])
        defer { server.signal(SIGKILL) }
        let port = try #require(server.waitForPort())
        let pid = server.process.processIdentifier

        // The first gzip request starts the background compression; wait until it is cached.
        var compressedLength = 0
        for _ in 0..<300 where compressedLength == 0 {
            let client = try RawClient(port: port)
            client.send("HEAD /big.txt HTTP/1.1\r\nHost: a.test\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n")
            let head = String(decoding: client.receiveAll(), as: UTF8.self)
            if head.contains("Content-Encoding: gzip"),
               let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("Content-Length: ") }) {
                compressedLength = Int(line.dropFirst("Content-Length: ".count)) ?? 0
            } else {
                usleep(100_000)   // polling the server's state with a bound, not a fixed sleep
            }
        }
        #expect(compressedLength > 10 << 20, "gzip body of \(compressedLength) bytes")
        let before = Self.residentKiB(pid)

        var readers: [RawClient] = []
        for _ in 0..<20 {
            let client = try RawClient(port: port)
            client.send("GET /big.txt HTTP/1.1\r\nHost: a.test\r\nAccept-Encoding: gzip\r\n\r\n")
            readers.append(client)
        }
        // Wait until every reader has response bytes waiting (its response is queued).
        for reader in readers {
            var waiting: Int32 = 0
            for _ in 0..<500 {
                _ = ioctl(reader.fd, UInt(FIONREAD), &waiting)
                if waiting > 0 { break }
                usleep(10_000)
            }
            #expect(waiting > 0)
        }
        let after = Self.residentKiB(pid)
        let grownMiB = (after - before) / 1024
        // Before the fix each reader held its own copy: 345 MiB here.
        #expect(grownMiB < 40, "RSS grew by \(grownMiB) MiB for 20 slow readers (before \(before / 1024) MiB)")
    }
}
