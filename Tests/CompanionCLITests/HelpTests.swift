// The help text is part of the contract (SPEC §1): `companion --help` lists every
// subcommand and each `SUBCOMMAND --help` explains its options. Checked on the
// built binary, as a user runs it.
import Foundation
import Testing

@Suite struct HelpTests {
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CompanionProcess.binary)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func rootHelpListsEverySubcommand() throws {
        let (status, output) = try Self.run(["--help"])
        #expect(status == 0)
        for name in ["serve", "check", "logs", "hash-password"] { #expect(output.contains(name)) }
    }

    @Test(arguments: [
        ("serve", ["--config", "--listen", "--workers"]),
        ("check", ["--config"]),
        ("logs", ["--status", "--since", "--group-by", "--format", "--follow", "--db"]),
        ("hash-password", ["stdin"]),
    ])
    func subcommandHelpExplainsItsOptions(name: String, options: [String]) throws {
        let (status, output) = try Self.run([name, "--help"])
        #expect(status == 0)
        for option in options { #expect(output.contains(option), "\(name) --help lacks \(option)") }
    }

    @Test func unknownSubcommandIsAnErrorWithoutAStackTrace() throws {
        let (status, output) = try Self.run(["frobnicate"])
        #expect(status != 0)
        #expect(!output.contains("Fatal error"))
        #expect(output.lowercased().contains("frobnicate"))
    }

    @Test func checkOfABrokenConfigListsEveryProblem() throws {
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.json")
        try #"{"listen": "nowhere", "sites": [{"host": "a.test", "root": "missing", "lisitng": true}]}"#
            .write(to: config, atomically: true, encoding: .utf8)
        let (status, output) = try Self.run(["check", "--config", config.path])
        #expect(status == 1)
        #expect(output.contains("listen"))
        #expect(output.contains("sites[0].root"))
        #expect(output.contains("sites[0].lisitng"))
        #expect(!output.contains("Fatal error"))
    }
}
