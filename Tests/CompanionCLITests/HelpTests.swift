// The help text is part of the contract (SPEC §1): `companion --help` lists every
// subcommand and each `SUBCOMMAND --help` explains its options. Checked on the
// built binary, as a user runs it.
import CompanionCore
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

    @Test func versionIsPrinted() throws {
        let (status, output) = try Self.run(["--version"])
        #expect(status == 0)
        #expect(output == CompanionVersion.string + "\n")
    }

    /// `logs --help` broke lines mid-sentence (hard newlines inside a paragraph
    /// that the parser then wrapped again). Every line of a paragraph but its last must
    /// reach well into the 80 columns, and none may pass them.
    @Test(arguments: ["serve", "check", "logs", "hash-password"])
    func helpParagraphsAreWrappedCleanly(name: String) throws {
        let (status, output) = try Self.run([name, "--help"])
        #expect(status == 0)
        let prose = output.components(separatedBy: "USAGE:")[0]
        for paragraph in prose.components(separatedBy: "\n\n") {
            let lines = paragraph.split(separator: "\n")
            for (i, line) in lines.enumerated() {
                #expect(line.count <= 80, "\(name): \(line)")
                if i < lines.count - 1 { #expect(line.count >= 55, "\(name) breaks early: \(line)") }
            }
        }
    }

    /// The completion scripts the argument parser generates, run by the real shells: bash
    /// completes subcommands, options and option values; zsh and fish parse theirs.
    @Test func completionScriptsWork() throws {
        let (status, script) = try Self.run(["--generate-completion-script", "bash"])
        #expect(status == 0)
        let folder = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("companion.bash").path
        try Data(script.utf8).write(to: URL(fileURLWithPath: path))
        // The script calls the binary for dynamic values: put it on PATH as `companion`.
        let bin = folder.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent("companion").path,
                                                   withDestinationPath: CompanionProcess.binary)
        let driver = """
            source "$0"
            comp() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
                     _companion companion "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"; echo "${COMPREPLY[*]}"; }
            comp companion lo
            comp companion logs --for
            comp companion logs --format ""
            """
        let result = try runTool(["env", "PATH=\(bin.path):/usr/bin:/bin", "bash", "-c", driver, path])
        #expect(result.stdout == "logs\n--format\ntable json ndjson csv combined vcombined\n", "\(result.stderr)")
        for (shell, check) in [("zsh", ["zsh", "-n"]), ("fish", ["fish", "--no-execute"])] {
            let (generated, text) = try Self.run(["--generate-completion-script", shell])
            #expect(generated == 0)
            let file = folder.appendingPathComponent("companion.\(shell)").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            let parsed = try runTool(check + [file])
            #expect(parsed.status == 0, "\(shell): \(parsed.stderr)")
        }
    }
}
