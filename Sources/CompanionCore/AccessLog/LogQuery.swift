// LogQuery: the filters of `companion logs` (SPEC §5), and the value types of its
// answers (rows, summaries, groups). SQLiteLogReader and PostgresLogReader turn a
// query into SQL; LogFormatter renders the answers.

/// One row of `requests`, as read back.
public struct AccessLogRow: Sendable, Equatable {
    public var id: Int64
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`
    public var time: String
    public var site: String?, host: String?
    public var client: String
    public var method: String?, path: String?, query: String?, protocolVersion: String?
    public var status: Int, bytes: Int, durationMicros: Int
    public var referrer: String?, userAgent: String?, encoding: String?
    /// `http` or `https` (NULL in rows older than HTTPS).
    public var scheme: String?

    public init(id: Int64, time: String, site: String? = nil, host: String? = nil, client: String,
                method: String? = nil, path: String? = nil, query: String? = nil, protocolVersion: String? = nil,
                status: Int, bytes: Int, durationMicros: Int,
                referrer: String? = nil, userAgent: String? = nil, encoding: String? = nil, scheme: String? = nil) {
        self.id = id; self.time = time; self.site = site; self.host = host; self.client = client
        self.method = method; self.path = path; self.query = query; self.protocolVersion = protocolVersion
        self.status = status; self.bytes = bytes; self.durationMicros = durationMicros
        self.referrer = referrer; self.userAgent = userAgent; self.encoding = encoding; self.scheme = scheme
    }
}

/// Duration percentiles (nearest rank over DurationHistogram buckets: within 12.5 %).
public struct LogPercentiles: Sendable, Equatable {
    public var p50: Int, p95: Int, p99: Int

    public init(p50: Int, p95: Int, p99: Int) { self.p50 = p50; self.p95 = p95; self.p99 = p99 }

    init?(_ histogram: DurationHistogram) {
        guard let p50 = histogram.percentile(50), let p95 = histogram.percentile(95), let p99 = histogram.percentile(99) else { return nil }
        self.init(p50: p50, p95: p95, p99: p99)
    }
}

/// Totals for `--summary`.
public struct LogSummary: Sendable, Equatable {
    public var requests: Int
    public var uniqueClients: Int
    public var bytes: Int
    /// Requests per status class: index 0 is 1xx … index 4 is 5xx.
    public var statusClasses: [Int]
    /// nil when no request matched.
    public var percentiles: LogPercentiles?

    public init(requests: Int, uniqueClients: Int, bytes: Int, statusClasses: [Int], percentiles: LogPercentiles? = nil) {
        self.requests = requests; self.uniqueClients = uniqueClients; self.bytes = bytes
        self.statusClasses = statusClasses; self.percentiles = percentiles
    }
}

/// What `--group-by` groups on; raw values are the option's spellings.
public enum LogGroupKey: String, CaseIterable, Sendable {
    case status, path, site, host, client, method, day, hour, referrer, user_agent, encoding, scheme
    case protocolVersion = "protocol"
    /// Time buckets (UTC): a minute, five minutes; and the hour of the day across days.
    case minute
    case fiveMinutes = "5m"
    case hourOfDay = "hour_of_day"

    /// The width of a time bucket in seconds (nil: not a time bucket, or the hour of the day).
    var bucketSeconds: Int64? {
        switch self {
        case .minute: 60
        case .fiveMinutes: 300
        case .hour: 3600
        case .day: 86_400
        default: nil
        }
    }

    /// The `log` column of a key stored as a `strings` id.
    var stringColumn: String? {
        switch self {
        case .site, .host, .client, .method, .path, .referrer, .user_agent, .encoding, .scheme: rawValue
        case .protocolVersion: "protocol"
        default: nil
        }
    }

    /// The rollup dimension of the key, if rollups keep it.
    var dimension: RollupDimension? {
        switch self {
        case .status: .status
        case .site: .site
        case .method: .method
        case .path: .path
        case .referrer: .referrer
        case .user_agent: .user_agent
        case .client: .client
        default: nil
        }
    }

    /// The key's text for a bucket start (Unix seconds), as the earlier text schema grouped.
    func timeText(seconds: Int64) -> String {
        let time = UTCTime(epochMicros: seconds * 1_000_000)
        let date = "\(pad(time.year, 4))-\(pad(time.month, 2))-\(pad(time.day, 2))"
        switch self {
        case .day: return date
        case .hour: return "\(date)T\(pad(time.hour, 2)):00Z"
        case .hourOfDay: return pad(Int(seconds), 2)
        default: return "\(date)T\(pad(time.hour, 2)):\(pad(time.minute, 2))Z"
        }
    }
}

/// A column value that is text or an integer (NULL is nil around it).
public enum LogValue: Sendable, Hashable {
    case text(String)
    case integer(Int)
}

/// One `--group-by` result line.
public struct LogGroup: Sendable, Equatable {
    /// One value per key, in the order of the keys.
    public var values: [LogValue?]
    public var count: Int
    public var bytes: Int
    /// The sum of the requests' durations.
    public var durationMicros: Int
    /// Distinct clients (with `--unique client`).
    public var clients: Int?
    /// With `--percentiles`.
    public var percentiles: LogPercentiles?

    public init(values: [LogValue?], count: Int, bytes: Int, durationMicros: Int = 0, clients: Int? = nil, percentiles: LogPercentiles? = nil) {
        self.values = values; self.count = count; self.bytes = bytes; self.durationMicros = durationMicros
        self.clients = clients; self.percentiles = percentiles
    }

    /// The first key's value.
    public var value: LogValue? { values.first ?? nil }
    /// The mean duration, rounded down.
    public var averageDurationMicros: Int { count == 0 ? 0 : durationMicros / count }
}

/// How `--group-by` orders its groups (largest first; ties by the keys' values).
public enum LogSort: String, CaseIterable, Sendable {
    case count, bytes
    /// The mean duration.
    case duration
}

/// A `--group-by` question.
public struct LogGrouping: Sendable, Equatable {
    public var keys: [LogGroupKey]
    /// The largest `top` groups; 0 = all.
    public var top: Int
    public var sort: LogSort
    public var uniqueClients: Bool
    public var percentiles: Bool

    public init(keys: [LogGroupKey], top: Int = 10, sort: LogSort = .count, uniqueClients: Bool = false, percentiles: Bool = false) {
        self.keys = keys; self.top = top; self.sort = sort; self.uniqueClients = uniqueClients; self.percentiles = percentiles
    }
}

/// A glob on one text column (`--user-agent '*bot*'`), or its negation (`--not-user-agent`:
/// rows without the column count as not matching, so they are kept).
public struct LogGlob: Sendable, Equatable {
    public enum Column: String, Sendable, CaseIterable { case path, host, referrer, user_agent, query }
    public var column: Column
    public var pattern: String
    public var negated: Bool

    public init(_ column: Column, _ pattern: String, negated: Bool = false) {
        self.column = column; self.pattern = pattern; self.negated = negated
    }
}

/// The filters of `companion logs`, all combined with AND.
public struct LogQuery: Sendable, Equatable {
    /// Any of these status ranges (`--status 404,4xx`); empty means any status.
    public var statusRanges: [ClosedRange<Int>] = []
    public var site: String?
    public var method: String?
    /// An SQLite GLOB pattern on `path` (`/blog/*`).
    public var pathGlob: String?
    /// An address (`203.0.113.7`) or a CIDR range (`203.0.113.0/24`, `2001:db8::/32`).
    public var client: String?
    /// Inclusive lower bound, Unix-epoch microseconds.
    public var sinceMicros: Int64?
    /// Exclusive upper bound, Unix-epoch microseconds.
    public var untilMicros: Int64?
    /// More globs, each a term of its own.
    public var globs: [LogGlob] = []
    /// Leave out this address or CIDR range (`--not-client`).
    public var notClient: String?
    /// Only crawlers (true, `--crawlers-only`) or no crawlers (false, `--ignore-crawlers`),
    /// by `Crawler`'s rule on the User-Agent; a request without one is not a crawler's.
    public var crawlers: Bool?

    /// Whether `text` is what `client` and `notClient` accept: an address or a CIDR range.
    public static func isValidClientFilter(_ text: String) -> Bool {
        AddressRange(text) != nil
    }

    /// `pathGlob` and `globs`: what both SQL dialects turn into terms.
    var allGlobs: [LogGlob] { (pathGlob.map { [LogGlob(.path, $0)] } ?? []) + globs }

    public init(statusRanges: [ClosedRange<Int>] = [], site: String? = nil, method: String? = nil,
                pathGlob: String? = nil, client: String? = nil, sinceMicros: Int64? = nil, untilMicros: Int64? = nil) {
        self.statusRanges = statusRanges; self.site = site; self.method = method
        self.pathGlob = pathGlob; self.client = client; self.sinceMicros = sinceMicros; self.untilMicros = untilMicros
    }
}
