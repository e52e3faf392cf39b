// `companion serve` gives back the code and read-only data pages that start-up alone
// touched (issue 13, peak RSS): read from the running server's /proc/PID/smaps.
@testable import CompanionCore
import Foundation
import Testing

@Suite struct StartupPagesServeTests {
    @Test func theServersCodeIsMostlyNotResidentWhenItIsReady() throws {
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("site"), withIntermediateDirectories: true)
        try "hello\n".write(to: dir.appendingPathComponent("site/index.html"), atomically: true, encoding: .utf8)
        try #"{"listen": "127.0.0.1:0", "workers": 1, "sites": [{"host": "a.test", "root": "site"}], "accessLog": {"sqlite": "logs/access.sqlite"}}"#
            .write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let server = try CompanionProcess(["serve", "--config", dir.appendingPathComponent("config.json").path])
        defer { server.signal(SIGKILL) }
        let port = try #require(server.waitForPort())
        // "ready" is written after the release, so smaps read now sees its effect.
        #expect(server.waitForLine(containing: "companion: ready") != nil)
        // Read to EOF (ConfigFile.read): a /proc file's size is 0, and `Data(contentsOf:)` stopped
        // after the first 4 KiB, which under TSan (its mappings come first) held no line of the binary.
        let text = try String(decoding: ConfigFile.read("/proc/\(server.process.processIdentifier)/smaps").get(), as: UTF8.self)

        // The executable's code mapping: its size, and what is resident of it.
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
        let mapping = try #require(code)
        #expect(mapping.size > 1024)
        // Start-up left 78 % of the debug build's code resident (5.3 MiB text, release off);
        // after the release about 20 % is back by the time the loops wait.
        #expect(mapping.resident * 2 < mapping.size, "\(mapping.resident) of \(mapping.size) KiB of code resident")
        // The dropped pages come back as they are used.
        let reply = try RawClient.get(port: port, path: "/", host: "a.test")
        #expect(reply.hasPrefix("HTTP/1.1 200"))
        #expect(reply.hasSuffix("hello\n"))
    }
}
