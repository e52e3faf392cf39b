// The root command: lists the subcommands in one place, and the entry point
// that prints our own errors as `companion: <message>` (never a stack trace).
import ArgumentParser
import CompanionCore
import Glibc

public struct Companion: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "companion",
        abstract: "Serve several static sites from one config, with an access log you can query.",
        version: CompanionVersion.string,
        subcommands: [ServeCommand.self, CheckCommand.self, LogsCommand.self, ReportCommand.self, HashPasswordCommand.self]
    )

    public init() {}
}

/// Entry point of the `companion` executable: parses the command line and runs
/// the chosen subcommand.
public func runCompanion() {
    do {
        var command = try Companion.parseAsRoot()
        try command.run()
    } catch let error where isOurs(error) {
        for line in "\(error)".split(separator: "\n") {
            writeLineToStandardError("companion: \(line)")
        }
        exit(1)
    } catch {
        Companion.exit(withError: error)
    }
}

/// Our own error types print as `companion: <sentence>`; ArgumentParser's own errors
/// (usage, help, ExitCode) keep its formatting.
private func isOurs(_ error: any Error) -> Bool {
    error is CLIError || error is ConfigError || error is ServerError || error is LogsError || error is AccessLogError
}
