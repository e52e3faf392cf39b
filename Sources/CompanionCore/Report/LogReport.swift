// LogReport: the panels of `companion report` (and of the live dashboard) read from
// the access log with the same questions `companion logs` asks: totals and
// percentiles, requests/bandwidth and status classes over time, top paths, top
// 404s, 5xx by path, referrers, user agents by browser family, clients, sites.
// Every panel honours the same filters (a LogQuery). ReportHTML renders it.

/// What a report reads from: the SQLite file or the PostgreSQL database.
public protocol LogReading: AnyObject {
    func summary(_ query: LogQuery) throws -> LogSummary
    func groups(_ query: LogQuery, _ grouping: LogGrouping) throws -> [LogGroup]
    /// The newest row's id (0 when empty): the dashboard re-reads only when it moved.
    func maxID() throws -> Int64
    /// Runs `body` with every question on one snapshot of the log.
    func snapshot<T>(_ body: () throws -> T) throws -> T
}


extension SQLiteLogReader: LogReading {}
extension PostgresLogReader: LogReading {}

/// One time bucket of the over-time panels.
public struct LogReportBucket: Sendable, Equatable {
    public var label: String
    public var requests: Int
    public var bytes: Int
    /// Requests per status class, 1xx … 5xx.
    public var statusClasses: [Int]
}

/// One user-agent family (browsers, bots, tools).
public struct LogReportFamily: Sendable, Equatable {
    public var name: String
    public var requests: Int
}

/// Everything a report shows.
public struct LogReport: Sendable, Equatable {
    public var query: LogQuery
    /// What the filters say, for the header ("status 404, since 2026-12-01T00:00:00Z").
    public var filterText: String
    /// When it was made (stored time text).
    public var generated: String
    public var summary: LogSummary
    /// The over-time bucket: minute, hour or day.
    public var bucket: LogGroupKey
    public var overTime: [LogReportBucket]
    public var topPaths: [LogGroup]
    public var notFound: [LogGroup]
    public var serverErrors: [LogGroup]
    public var referrers: [LogGroup]
    public var families: [LogReportFamily]
    public var agents: [LogGroup]
    public var clients: [LogGroup]
    public var sites: [LogGroup]

    /// Rows per top-N panel.
    public static let top = 10

    /// Reads every panel.
    public init(reader: any LogReading, query: LogQuery, filterText: String, nowMicros: Int64 = UTCTime.nowMicros()) throws {
        // One snapshot: the panels agree with each other while the server writes.
        self = try reader.snapshot { try LogReport(reading: reader, query: query, filterText: filterText, nowMicros: nowMicros) }
    }

    private init(reading reader: any LogReading, query: LogQuery, filterText: String, nowMicros: Int64) throws {
        self.query = query
        self.filterText = filterText
        generated = UTCTime.storedText(epochMicros: nowMicros)
        summary = try reader.summary(query)
        // The finest bucket that keeps the chart readable: days for three days or more,
        // hours for three hours or more, else minutes.
        let days = try reader.groups(query, LogGrouping(keys: [.day], top: 0))
        if days.count >= 3 {
            bucket = .day
        } else if try reader.groups(query, LogGrouping(keys: [.hour], top: 0)).count >= 3 {
            bucket = .hour
        } else {
            bucket = .minute
        }
        var buckets: [String: LogReportBucket] = [:]
        for group in try reader.groups(query, LogGrouping(keys: [bucket, .status], top: 0)) {
            guard case .text(let label)? = group.values[0], case .integer(let status)? = group.values[1] else { continue }
            var entry = buckets[label] ?? LogReportBucket(label: label, requests: 0, bytes: 0, statusClasses: [0, 0, 0, 0, 0])
            entry.requests += group.count
            entry.bytes += group.bytes
            if (1...5).contains(status / 100) { entry.statusClasses[status / 100 - 1] += group.count }
            buckets[label] = entry
        }
        overTime = buckets.values.sorted { $0.label < $1.label }
        topPaths = try reader.groups(query, LogGrouping(keys: [.path], top: Self.top, percentiles: true))
        var notFoundQuery = query
        notFoundQuery.statusRanges = Self.intersect(query.statusRanges, 404...404)
        notFound = notFoundQuery.statusRanges.isEmpty ? [] : try reader.groups(notFoundQuery, LogGrouping(keys: [.path], top: Self.top))
        var errorQuery = query
        errorQuery.statusRanges = Self.intersect(query.statusRanges, 500...599)
        serverErrors = errorQuery.statusRanges.isEmpty ? [] : try reader.groups(errorQuery, LogGrouping(keys: [.path], top: Self.top))
        referrers = try reader.groups(query, LogGrouping(keys: [.referrer], top: Self.top))
        let allAgents = try reader.groups(query, LogGrouping(keys: [.user_agent], top: 0))
        var families: [String: Int] = [:]
        for group in allAgents {
            let agent: String? = if case .text(let text)? = group.value { text } else { nil }
            families[Self.family(of: agent), default: 0] += group.count
        }
        self.families = families.map { LogReportFamily(name: $0.key, requests: $0.value) }
            .sorted { $0.requests != $1.requests ? $0.requests > $1.requests : $0.name < $1.name }
        agents = Array(allAgents.prefix(Self.top))
        clients = try reader.groups(query, LogGrouping(keys: [.client], top: Self.top))
        sites = try reader.groups(query, LogGrouping(keys: [.site], top: 0, uniqueClients: true, percentiles: true))
    }

    /// The statuses asked for that also lie in `range` (no filter: the range itself).
    static func intersect(_ ranges: [ClosedRange<Int>], _ range: ClosedRange<Int>) -> [ClosedRange<Int>] {
        guard !ranges.isEmpty else { return [range] }
        return ranges.compactMap { asked in
            let low = max(asked.lowerBound, range.lowerBound), high = min(asked.upperBound, range.upperBound)
            return low <= high ? low...high : nil
        }
    }

    /// The browser family of a User-Agent, by the tokens browsers send (most specific first:
    /// Edge and Opera also say Chrome, Chrome also says Safari).
    public static func family(of agent: String?) -> String {
        guard let agent else { return "(none)" }
        if Crawler.matches(agent) { return "Bots" }
        let lower = agent.lowercased()
        if ["curl/", "wget/", "python-", "go-http-client", "okhttp", "httpie", "java/", "libwww"].contains(where: lower.contains) { return "Tools" }
        if lower.contains("edg/") || lower.contains("edge/") { return "Edge" }
        if lower.contains("opr/") || lower.contains("opera") { return "Opera" }
        if lower.contains("firefox/") || lower.contains("fxios/") { return "Firefox" }
        if lower.contains("chrome/") || lower.contains("chromium/") || lower.contains("crios/") { return "Chrome" }
        if lower.contains("safari/") { return "Safari" }
        if lower.contains("msie ") || lower.contains("trident/") { return "Internet Explorer" }
        return "Other"
    }
}
