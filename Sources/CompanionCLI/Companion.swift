// The root command: lists the subcommands in one place.
import ArgumentParser

public struct Companion: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "companion",
        abstract: "Serve several static sites from one config, with an access log you can query.",
        subcommands: []
    )

    public init() {}
}

/// Entry point of the `companion` executable: parses the command line and runs
/// the chosen subcommand. Errors are printed as one sentence, never a stack trace.
public func runCompanion() {
    Companion.main()
}
