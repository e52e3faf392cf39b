// Companion+Plugins: the entry point for a custom `companion` binary (SPEC §4):
// `runCompanion(plugins:)` runs the same command line with a registry that holds
// the built-in plugin types plus the caller's own. `serve` and `check` read the
// registry from `ActivePlugins`; see Examples/CustomPlugin.
import CompanionCore

/// Runs `companion` (all subcommands) with `plugins` as the plugin types that
/// `serve` and `check` accept in `sites[].plugins`.
///
/// Start from `PluginRegistry.builtIn` to keep the built-in types:
/// ```swift
/// var plugins = PluginRegistry.builtIn
/// plugins.register(ServerTimingPlugin.type)
/// runCompanion(plugins: plugins)
/// ```
/// Call it once, from `main.swift`; it does not return when a command exits.
public func runCompanion(plugins: PluginRegistry) {
    ActivePlugins.use(plugins)
    runCompanion()
}

/// The plugin registry the commands use: `PluginRegistry.builtIn` unless
/// `runCompanion(plugins:)` chose another.
///
/// Thread safety: the registry is a `Sendable` value behind a `Locked` (pthread mutex); it is set
/// once at start-up, before any command runs, and read when a command loads a
/// config (start, `check`, each SIGHUP reload), so the lock is never contended.
public enum ActivePlugins {
    private static let current = Locked(PluginRegistry.builtIn)

    /// The registry in use.
    public static var registry: PluginRegistry { current.withLock { $0 } }

    /// Replaces the registry (for `runCompanion(plugins:)` and tests).
    public static func use(_ registry: PluginRegistry) {
        current.withLock { $0 = registry }
    }
}
