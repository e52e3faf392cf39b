// The root command: lists the subcommands in one place, and the entry point
// that prints our own errors as `companion: <message>` (never a stack trace).
import ArgumentParser
import Glibc

public struct Companion: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "companion",
        abstract: "Serve several static sites from one config, with an access log you can query.",
        subcommands: [ServeCommand.self, CheckCommand.self, LogsCommand.self, HashPasswordCommand.self]
    )

    public init() {}
}

/// Entry point of the `companion` executable: parses the command line and runs
/// the chosen subcommand.
public func runCompanion() {
    do {
        var command = try Companion.parseAsRoot()
        try command.run()
    } catch let error as CLIError {
        for line in error.description.split(separator: "\n") {
            fputs("companion: \(line)\n", stderr)
        }
        exit(1)
    } catch {
        Companion.exit(withError: error)
    }
}
