// LogsCommand: `companion logs` (SPEC §5). Options, their validation, and run().
// Reading and printing live in LogsCommand+Output.swift; finding the database
// from a config in LogsCommand+Database.swift.
import ArgumentParser
import CompanionCore

extension LogFormat: ExpressibleByArgument {}
extension LogGroupKey: ExpressibleByArgument {}
extension LogSort: ExpressibleByArgument {}

/// `--group-by hour,status`: one to three keys, each once.
struct GroupKeys: ExpressibleByArgument, Sendable {
    var keys: [LogGroupKey]

    init?(argument: String) {
        var keys: [LogGroupKey] = []
        for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let key = LogGroupKey(rawValue: String(part)), !keys.contains(key) else { return nil }
            keys.append(key)
        }
        guard (1...3).contains(keys.count) else { return nil }
        self.keys = keys
    }

    static var allValueStrings: [String] { LogGroupKey.allCases.map(\.rawValue) }
}

/// What `--unique` counts.
enum UniqueKey: String, ExpressibleByArgument, CaseIterable {
    case client
}

/// Queries the SQLite access log while the server writes it.
public struct LogsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Query the access log (SQLite, or PostgreSQL for a fleet).",
        discussion: """
            Filters combine with AND. Without --count, --summary or --group-by, prints the newest \
            --limit rows, oldest first. The database is opened read-only, so this works while the \
            server is writing it.
            """
    )

    @OptionGroup var filters: LogFilterOptions

    @Option(help: ArgumentHelp("Show the newest N rows, oldest first; 0 shows all.", valueName: "n"))
    var limit: Int = 50

    @Flag(help: "Print only the number of matching requests.")
    var count = false

    @Flag(help: "Print totals: requests, unique clients, bytes, requests per status class.")
    var summary = false

    @Option(name: .customLong("group-by"), help: ArgumentHelp("Count requests and bytes per group, largest first; up to three keys, e.g. hour,status.", valueName: "key[,key]"))
    var groupBy: GroupKeys?

    @Option(help: ArgumentHelp("With --group-by: show the N largest groups; 0 shows all.", valueName: "n"))
    var top: Int = 10

    @Option(help: ArgumentHelp("With --group-by: order groups by count, bytes or duration (the mean).", valueName: "measure"))
    var sort: LogSort = .count

    @Flag(help: "With --group-by: add each group's duration percentiles (p50, p95, p99).")
    var percentiles = false

    @Option(help: ArgumentHelp("Count distinct clients (exactly): alone, over the filtered requests; with --group-by, per group.", valueName: "client"))
    var unique: UniqueKey?

    @Option(help: ArgumentHelp("Show the N slowest requests, slowest first.", valueName: "n"))
    var slowest: Int?

    @Option(help: ArgumentHelp("Output format: table, json, ndjson, csv, combined (nginx combined log format) or vcombined (combined after the site, as GoAccess's VCOMBINED reads it).", valueName: "format"))
    var format: LogFormat = .table

    @Flag(help: "Keep printing new requests as they are logged, until interrupted (Ctrl-C).")
    var follow = false

    public init() {}

    public func validate() throws {
        if limit < 0 { throw ValidationError("--limit: expected 0 (all) or a positive number; got \(limit)") }
        if top < 0 { throw ValidationError("--top: expected 0 (all) or a positive number; got \(top)") }
        if let slowest, slowest < 1 { throw ValidationError("--slowest: expected a positive number; got \(slowest)") }
        if groupBy == nil {
            if sort != .count { throw ValidationError("--sort orders the groups of --group-by; add --group-by") }
            if percentiles { throw ValidationError("--percentiles adds to the groups of --group-by (--summary always shows them); add --group-by") }
        }
        let modes = [count ? "--count" : nil, summary ? "--summary" : nil, groupBy != nil ? "--group-by" : nil,
                     slowest != nil ? "--slowest" : nil, unique != nil && groupBy == nil ? "--unique" : nil].compactMap { $0 }
        if modes.count > 1 { throw ValidationError("\(modes.joined(separator: " and ")) cannot be combined; choose one") }
        if format == .combined || format == .vcombined, let mode = modes.first(where: { $0 != "--slowest" }) {
            throw ValidationError("--format \(format.rawValue) prints one line per request; it does not combine with \(mode)")
        }
        if follow {
            if let mode = modes.first { throw ValidationError("--follow prints requests as they arrive; it does not combine with \(mode)") }
            if format == .json { throw ValidationError("--follow cannot write one JSON array; use --format ndjson") }
        }
    }

    public func run() throws {
        let databasePath = try resolvedDatabasePath()
        let width = TerminalOutput.width()
        if follow {
            TerminalOutput.stopOnInterrupt()
            try followLog(databasePath: databasePath, terminalWidth: width, pollIntervalMs: 50,
                          shouldStop: TerminalOutput.isInterrupted, output: TerminalOutput.write)
        } else {
            try write(databasePath: databasePath, terminalWidth: width, output: TerminalOutput.write)
        }
    }

    /// The filters as a query, with `--since`/`--until` resolved against `nowMicros`.
    func query(nowMicros: Int64) throws -> LogQuery { try filters.query(nowMicros: nowMicros) }

    func resolvedDatabasePath() throws -> String { try filters.resolvedDatabasePath() }

    /// `--group-by` and what goes with it.
    var grouping: LogGrouping? {
        groupBy.map { LogGrouping(keys: $0.keys, top: top, sort: sort, uniqueClients: unique != nil, percentiles: percentiles) }
    }
}
