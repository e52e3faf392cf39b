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

    @Option(help: ArgumentHelp("The access log database to read: a SQLite file, or a postgresql:// URL.", valueName: "path"))
    var db: String?

    @Option(help: ArgumentHelp("Read the database path from this config's accessLog.sqlite (default ./config.json).", valueName: "path"))
    var config: String?

    @Option(help: ArgumentHelp("Only these statuses: 404, 4xx, 400-499 or a list such as 404,500.", valueName: "status"))
    var status: StatusFilter?

    @Option(help: ArgumentHelp("Only requests served by this site (its first host name).", valueName: "name"))
    var site: String?

    @Option(help: ArgumentHelp("Only requests with this method (GET, HEAD, ...).", valueName: "method"))
    var method: String?

    @Option(help: ArgumentHelp("Only paths matching this glob, e.g. '/blog/*' (SQLite GLOB: case-sensitive, * ? [...]).", valueName: "glob"))
    var path: String?

    @Option(help: ArgumentHelp("Only requests from this client address or CIDR range, e.g. 203.0.113.0/24.", valueName: "ip[/bits]"))
    var client: String?

    @Option(name: .customLong("not-client"), help: ArgumentHelp("Leave out requests from this client address or CIDR range.", valueName: "ip[/bits]"))
    var notClient: String?

    @Option(help: ArgumentHelp("Only requests whose Host matched this glob, e.g. 'www.*'.", valueName: "glob"))
    var host: String?

    @Option(name: .customLong("user-agent"), help: ArgumentHelp("Only requests whose User-Agent matches this glob, e.g. '*Firefox*'.", valueName: "glob"))
    var userAgent: String?

    @Option(help: ArgumentHelp("Only requests whose Referer matches this glob.", valueName: "glob"))
    var referrer: String?

    @Option(help: ArgumentHelp("Only requests whose query string (after ?) matches this glob.", valueName: "glob"))
    var query: String?

    @Option(name: .customLong("not-path"), help: ArgumentHelp("Leave out paths matching this glob.", valueName: "glob"))
    var notPath: String?

    @Option(name: .customLong("not-host"), help: ArgumentHelp("Leave out requests whose Host matches this glob.", valueName: "glob"))
    var notHost: String?

    @Option(name: .customLong("not-user-agent"), help: ArgumentHelp("Leave out requests whose User-Agent matches this glob, e.g. '*bot*'.", valueName: "glob"))
    var notUserAgent: String?

    @Option(name: .customLong("not-referrer"), help: ArgumentHelp("Leave out requests whose Referer matches this glob.", valueName: "glob"))
    var notReferrer: String?

    @Option(name: .customLong("not-query"), help: ArgumentHelp("Leave out requests whose query string matches this glob.", valueName: "glob"))
    var notQuery: String?

    @Option(help: ArgumentHelp("Only requests at or after this time: 30m, 2h, 7d, 2026-11-27 (UTC) or RFC 3339.", valueName: "time"))
    var since: TimeFilter?

    @Option(help: ArgumentHelp("Only requests before this time: 30m, 2h, 7d, 2026-11-27 (UTC) or RFC 3339.", valueName: "time"))
    var until: TimeFilter?

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
        _ = try status?.validRanges()
        _ = try since?.resolve(option: "--since", nowMicros: 0)
        _ = try until?.resolve(option: "--until", nowMicros: 0)
        if db != nil && config != nil { throw ValidationError("--db and --config name the database twice; give one of them") }
        if limit < 0 { throw ValidationError("--limit: expected 0 (all) or a positive number; got \(limit)") }
        if top < 0 { throw ValidationError("--top: expected 0 (all) or a positive number; got \(top)") }
        if let slowest, slowest < 1 { throw ValidationError("--slowest: expected a positive number; got \(slowest)") }
        for (option, value) in [("--client", client), ("--not-client", notClient)] {
            if let value, !LogQuery.isValidClientFilter(value) {
                throw ValidationError("\(option): expected an IP address or a CIDR range such as 203.0.113.0/24 or 2001:db8::/32; got '\(value)'")
            }
        }
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
            try followLog(databasePath: databasePath, terminalWidth: width, pollIntervalMs: 250,
                          shouldStop: TerminalOutput.isInterrupted, output: TerminalOutput.write)
        } else {
            try write(databasePath: databasePath, terminalWidth: width, output: TerminalOutput.write)
        }
    }

    /// The filters as a query, with `--since`/`--until` resolved against `nowMicros`.
    func query(nowMicros: Int64) throws -> LogQuery {
        var query = LogQuery(statusRanges: try status?.validRanges() ?? [], site: try siteName(), method: method?.uppercased(),
                             pathGlob: path, client: client,
                             sinceMicros: try since?.resolve(option: "--since", nowMicros: nowMicros),
                             untilMicros: try until?.resolve(option: "--until", nowMicros: nowMicros))
        let globs: [(LogGlob.Column, String?, Bool)] = [
            (.host, host, false), (.user_agent, userAgent, false), (.referrer, referrer, false), (.query, self.query, false),
            (.path, notPath, true), (.host, notHost, true), (.user_agent, notUserAgent, true),
            (.referrer, notReferrer, true), (.query, notQuery, true),
        ]
        for case let (column, pattern?, negated) in globs { query.globs.append(LogGlob(column, pattern, negated: negated)) }
        query.notClient = notClient
        return query
    }

    /// `--group-by` and what goes with it.
    var grouping: LogGrouping? {
        groupBy.map { LogGrouping(keys: $0.keys, top: top, sort: sort, uniqueClients: unique != nil, percentiles: percentiles) }
    }
}
