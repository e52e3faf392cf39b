// LogFilterOptions: the filters of `companion logs` and `companion report` (SPEC §5),
// which database to read, and the LogQuery they make.
import ArgumentParser
import CompanionCore

struct LogFilterOptions: ParsableArguments {
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

    @Flag(name: .customLong("crawlers-only"), help: "Only requests from crawlers: a User-Agent containing bot, crawler, spider, slurp or facebookexternalhit (any case).")
    var crawlersOnly = false

    @Flag(name: .customLong("ignore-crawlers"), help: "Leave out requests from crawlers (as --crawlers-only names them).")
    var ignoreCrawlers = false

    @Option(help: ArgumentHelp("Only requests at or after this time: 30m, 2h, 7d, 2026-11-27 (UTC) or RFC 3339.", valueName: "time"))
    var since: TimeFilter?

    @Option(help: ArgumentHelp("Only requests before this time: 30m, 2h, 7d, 2026-11-27 (UTC) or RFC 3339.", valueName: "time"))
    var until: TimeFilter?

    func validate() throws {
        _ = try status?.validRanges()
        _ = try since?.resolve(option: "--since", nowMicros: 0)
        _ = try until?.resolve(option: "--until", nowMicros: 0)
        if db != nil && config != nil { throw ValidationError("--db and --config name the database twice; give one of them") }
        if crawlersOnly && ignoreCrawlers { throw ValidationError("--crawlers-only and --ignore-crawlers together leave nothing; give one of them") }
        for (option, value) in [("--client", client), ("--not-client", notClient)] {
            if let value, !LogQuery.isValidClientFilter(value) {
                throw ValidationError("\(option): expected an IP address or a CIDR range such as 203.0.113.0/24 or 2001:db8::/32; got '\(value)'")
            }
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
        if crawlersOnly { query.crawlers = true }
        if ignoreCrawlers { query.crawlers = false }
        return query
    }

    /// The filters as the command line spells them (for a report's header).
    func description(nowMicros: Int64) throws -> String {
        var parts: [String] = []
        let named: [(String, String?)] = [
            ("status", status?.argument), ("site", site), ("method", method?.uppercased()), ("path", path), ("client", client),
            ("not client", notClient), ("host", host), ("user agent", userAgent), ("referrer", referrer), ("query", self.query),
            ("not path", notPath), ("not host", notHost), ("not user agent", notUserAgent), ("not referrer", notReferrer),
            ("not query", notQuery),
        ]
        for case let (name, value?) in named { parts.append("\(name) \(value)") }
        if crawlersOnly { parts.append("crawlers only") }
        if ignoreCrawlers { parts.append("no crawlers") }
        if let since = try since?.resolve(option: "--since", nowMicros: nowMicros) { parts.append("since \(UTCTime.storedText(epochMicros: since))") }
        if let until = try until?.resolve(option: "--until", nowMicros: nowMicros) { parts.append("until \(UTCTime.storedText(epochMicros: until))") }
        return parts.joined(separator: ", ")
    }
}

extension LogFilterOptions {
    /// The filters without a value, as dashboard URL parameters.
    static let dashboardFlags: Set<String> = ["crawlers_only", "ignore_crawlers"]

    /// The dashboard's URL parameters as `companion logs` options (`?status=404&since=1d`,
    /// `not_user_agent=*bot*`): the same filters, the same checks, the same messages. Site
    /// names resolve through the served config.
    static func dashboardParser(configPath: String) -> DashboardQueryParser {
        { parameters, nowMicros in
            var arguments: [String] = []
            for (name, value) in parameters {
                guard !["db", "config"].contains(name), name.allSatisfy({ $0.isLetter || $0 == "_" }) else {
                    throw DashboardError("unknown filter '\(name)'")
                }
                let option = "--" + name.replacing("_", with: "-")
                if Self.dashboardFlags.contains(name) {
                    // `?ignore_crawlers` or `?ignore_crawlers=1`: a flag has no value.
                    guard ["", "1", "true", "on", "yes"].contains(value.lowercased()) else {
                        throw DashboardError("\(name) takes no value (or 1); got '\(value)'")
                    }
                    arguments.append(option)
                } else {
                    arguments += [option, value]
                }
            }
            let options: LogFilterOptions
            do {
                options = try LogFilterOptions.parse(arguments + ["--config", configPath])
            } catch {
                throw DashboardError(LogFilterOptions.message(for: error))
            }
            return (try options.query(nowMicros: nowMicros), try options.description(nowMicros: nowMicros))
        }
    }
}

/// A dashboard URL the filters refuse, as the sentence `companion logs` would print.
struct DashboardError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
