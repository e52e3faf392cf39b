// ConfigOptions: the `--config PATH` option shared by serve, check and logs
// (used with @OptionGroup so the spelling and help text live in one place).

import ArgumentParser

/// The options that locate `config.json`.
public struct ConfigOptions: ParsableArguments {
    /// Path of the config file; relative paths inside it resolve against its folder.
    @Option(name: .long, help: ArgumentHelp(
        "Path of the config file. Relative paths inside it resolve against its folder.",
        valueName: "path"))
    public var config: String = "config.json"

    /// The default: `./config.json`.
    public init() {}
}
