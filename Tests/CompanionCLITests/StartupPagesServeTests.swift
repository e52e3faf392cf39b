// `companion serve` gives back the code and read-only data pages that start-up alone
// touched (peak RSS): read from the running server's /proc/PID/smaps.
@testable import CompanionCore
import Foundation
import Testing

@Suite struct StartupPagesServeTests {
    @Test func theServersCodeIsMostlyNotResidentWhenItIsReady() throws {
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try Self.startServer(in: dir)
        defer { server.signal(SIGKILL) }
        let port = try #require(server.waitForPort())
        // "ready" is written after the release, so smaps read now sees its effect.
        #expect(server.waitForLine(containing: "companion: ready") != nil)
        let mapping = try #require(try Self.codeMapping(of: server.process.processIdentifier))
        #expect(mapping.size > 1024)
        // Start-up left 78 % of the debug build's code resident (5.3 MiB text, release off);
        // after the release about 20 % is back by the time the loops wait.
        #expect(mapping.resident * 2 < mapping.size, "\(mapping.resident) of \(mapping.size) KiB of code resident")
        // The dropped pages come back as they are used.
        let reply = try RawClient.get(port: port, path: "/", host: "a.test")
        #expect(reply.hasPrefix("HTTP/1.1 200"))
        #expect(reply.hasSuffix("hello\n"))
    }

    /// A reload runs the config loader and builds new sites: code start-up ran and then gave
    /// back. Without a release after it, every reload left that code resident again
    /// (release build: RSS 6.6 MiB at ready, 9.6 MiB after ten reloads; 5.9 with it).
    @Test func aReloadGivesBackTheCodeItTouched() throws {
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try Self.startServer(in: dir)
        defer { server.signal(SIGKILL) }
        // Debug build: 1,040 KiB at ready, 3,236 after three reloads without the release, 768 with it.
        try Self.expectCodeGivenBack(server, after: "config reloaded") { _ in server.signal(SIGHUP) }
        #expect(try RawClient.get(port: try #require(server.waitForPort()), path: "/", host: "a.test").hasSuffix("hello\n"))
    }

    /// A renewed certificate file makes the server build its sites again (Server.reload, from
    /// the certificate watcher, as after an ACME order): the same start-up code as a SIGHUP
    /// reload, so it gives that code back too.
    @Test func aCertificateRenewalGivesBackTheCodeItTouched() throws {
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try TLSFiles([("a", "a.test")])
        let (server, _) = try HostileTLSTests.start(dir, files: files, limit: nil)
        defer { server.signal(SIGKILL) }
        // Debug build: 3,108 of 5,304 KiB resident after three renewals without the release.
        try Self.expectCodeGivenBack(server, after: "certificates reloaded") { count in
            try HTTPSReloadTests.renew(files, names: "a.test,renewed\(count).a.test")
        }
    }

    /// Less than half of the code mapping is resident at ready, and again after `reload`
    /// has run three times (1, 2, 3), each waited for by its `line` (written after the release).
    static func expectCodeGivenBack(_ server: CompanionProcess, after line: String, reload: (Int) throws -> Void) throws {
        #expect(server.waitForLine(containing: "companion: ready") != nil)
        let pid = server.process.processIdentifier
        let ready = try #require(try codeMapping(of: pid))
        for count in 1...3 {
            try reload(count)
            #expect(waitUntilTrue(seconds: 20) { server.stderrLines.filter { $0.contains(line) }.count == count })
        }
        let reloaded = try #require(try codeMapping(of: pid))
        #expect(ready.resident * 2 < ready.size)
        #expect(reloaded.resident * 2 < reloaded.size, "\(reloaded.resident) of \(reloaded.size) KiB of code resident")
    }

    /// `companion serve` with one worker, a log and one site whose index says "hello".
    static func startServer(in dir: URL) throws -> CompanionProcess {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("site"), withIntermediateDirectories: true)
        try "hello\n".write(to: dir.appendingPathComponent("site/index.html"), atomically: true, encoding: .utf8)
        try #"{"listen": "127.0.0.1:0", "workers": 1, "sites": [{"host": "a.test", "root": "site"}], "accessLog": {"sqlite": "logs/access.sqlite"}}"#
            .write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        return try CompanionProcess(["serve", "--config", dir.appendingPathComponent("config.json").path])
    }

    /// The size and resident KiB of the executable's code mapping in /proc/PID/smaps.
    static func codeMapping(of pid: Int32) throws -> (size: Int, resident: Int)? {
        // Read to EOF (ConfigFile.read): a /proc file's size is 0, and `Data(contentsOf:)` stopped
        // after the first 4 KiB, which under TSan (its mappings come first) held no line of the binary.
        let text = try String(decoding: ConfigFile.read("/proc/\(pid)/smaps").get(), as: UTF8.self)
        var code: (size: Int, resident: Int)?
        var inCode = false
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 5, fields[0].contains("-"), fields[1].count == 4 {
                inCode = fields[1] == "r-xp" && fields.count >= 6 && fields[5].hasSuffix("/companion") && code == nil
                if inCode {
                    let bounds = fields[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
                    code = (Int((bounds[1] - bounds[0]) >> 10), 0)
                }
            } else if inCode, line.hasPrefix("Rss:"), let kib = Int(fields[1]) {
                code?.resident = kib
            }
        }
        return code
    }
}
