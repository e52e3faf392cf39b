// CheckCommand: `companion check [--config PATH]` (SPEC §1). Loads the config
// exactly as `serve` would; prints the resolved listen addresses and sites on
// stdout and exits 0, or prints every problem on stderr, one line each, as
// `companion: config.json: sites[1].root: ...`, and exits 1.

import ArgumentParser
import CompanionCore
import Glibc

/// Validates a config file without serving it.
public struct CheckCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the config and print the resolved listen addresses and sites.",
        discussion: """
            Exits with status 0 when the config is valid. Otherwise every problem is listed on \
            stderr with its JSON key path (for example sites[1].root) and the status is 1.
            """
    )

    /// `--config PATH`.
    @OptionGroup public var options: ConfigOptions

    public init() {}

    /// Runs the check with the active plugin registry's loader and prints the outcome.
    /// - Throws: `ExitCode(1)` when the config has problems (already printed).
    public func run() throws {
        let outcome = Self.check(configPath: options.config, loader: ActivePlugins.registry.configLoader)
        for line in outcome.stdout { print(line) }
        for line in outcome.stderr { Self.writeError(line) }
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }

    /// What `check` prints and its exit status, separated from the printing so tests can read it.
    public struct Outcome: Sendable, Equatable {
        /// Lines for stdout.
        public var stdout: [String]
        /// Lines for stderr, each starting with `companion: `.
        public var stderr: [String]
        /// 0 for a valid config, 1 otherwise.
        public var exitCode: Int32
    }

    /// Loads the config at `configPath` with `loader` and describes the result.
    public static func check(configPath: String, loader: ConfigLoader) -> Outcome {
        do {
            let config = try loader.load(path: configPath)
            let certificates = CertificateCheck.check(config, now: Int64(UTCTime.nowMicros() / 1_000_000))
            if !certificates.errors.isEmpty {
                return Outcome(stdout: [], stderr: certificates.errors.map { "companion: \(configPath): " + $0 }, exitCode: 1)
            }
            return Outcome(stdout: describe(config) + certificates.summary,
                           stderr: certificates.warnings.map { "companion: warning: \(configPath): " + $0 }, exitCode: 0)
        } catch {
            return Outcome(stdout: [], stderr: error.lines.map { "companion: " + $0 }, exitCode: 1)
        }
    }

    /// The resolved config, one line per item: listeners, workers, one line per site, access log,
    /// limits, user. Also suitable for `serve`'s start-up lines.
    public static func describe(_ config: ServerConfig) -> [String] {
        var lines = ["config OK: \(config.configPath)"]
        lines += config.listen.map { "listen \($0)\($0.tls ? " tls" : "")" }
        lines.append("workers \(config.workers)")
        if let admin = config.admin { lines.append("admin \(admin.listen)") }
        for (index, site) in config.sites.enumerated() {
            lines.append(describe(site, index: index, isDefault: index == config.defaultSiteIndex))
        }
        if let log = config.accessLog {
            var line = "accessLog"
            if !log.sqlite.isEmpty { line += " sqlite=\(log.sqlite)" }
            if let url = log.postgres { line += " postgres=\(PostgresLogReader.redacted(url))" }
            if let name = log.hostName { line += " hostName=\(name)" }
            line += " flushMs=\(log.flushMs)"
            if let days = log.retainDays { line += " retainDays=\(days)" }
            line += " anonymizeClients=\(log.anonymizeClients)"
            lines.append(line)
        } else {
            lines.append("accessLog off")
        }
        let limits = config.limits
        lines.append("limits headerTimeoutMs=\(limits.headerTimeoutMs) idleTimeoutMs=\(limits.idleTimeoutMs)"
                     + " maxHeaderBytes=\(limits.maxHeaderBytes) maxBodyBytes=\(limits.maxBodyBytes)")
        if let user = config.user { lines.append("user \(user)") }
        return lines
    }

    /// `sites[0] hosts=a.test,*.a.test root=/srv/a index=index.html listing=off gzip=on level=6
    /// minBytes=256 default=yes plugins=headers,redirect`. `isDefault` is whether the site answers
    /// unknown hosts (also true for the first site when none says `default: true`).
    public static func describe(_ site: SiteConfig, index: Int, isDefault: Bool) -> String {
        var line = "sites[\(index)] hosts=\(site.hosts.joined(separator: ","))"
        line += " root=\(site.root)"
        line += " index=\(site.index.isEmpty ? "-" : site.index.joined(separator: ","))"
        line += " listing=\(site.listing ? "on" : "off")"
        if site.gzip.enabled {
            line += " gzip=on level=\(site.gzip.level) minBytes=\(site.gzip.minBytes)"
            if let types = site.gzip.types { line += " types=\(types.isEmpty ? "-" : types.joined(separator: ","))" }
        } else {
            line += " gzip=off"
        }
        line += " default=\(isDefault ? "yes" : "no")"
        line += " plugins=\(site.plugins.isEmpty ? "-" : site.plugins.map(\.type).joined(separator: ","))"
        switch site.tls {
        case .files(let certificate, _)?: line += " tls=\(certificate)"
        case .acme?: line += " tls=acme"
        case nil: break
        }
        if site.httpsRedirect { line += " httpsRedirect=on" }
        return line
    }

    /// Writes one line to stderr with write(2), unbuffered, so it is never lost on exit.
    static func writeError(_ line: String) {
        writeLineToStandardError(line)
    }
}
