// AccessLogRecord: one row of the access log as a value with Strings (the public
// form, for `AccessLogWriter.append` and tests; the server itself writes rows
// straight into an AccessLogBatch), and AccessLogSettings, the `accessLog` part
// of config.json.
import Glibc

/// One response, as a caller of `AccessLogWriter.append` reports it.
///
/// Fields follow the `requests` columns of SPEC §5. Unknown values (a request
/// that failed to parse) are nil; `time`, `client`, `status`, `bytes` and
/// `durationMicros` are always known.
///
/// Strings must already be valid UTF-8 with undecodable bytes written as `\xHH`:
/// build them with `AccessLogRecord.loggable(_:)` from the raw request bytes.
public struct AccessLogRecord: Sendable, Equatable {
    /// Request start, Unix epoch microseconds (UTC). Stored as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public var timeMicros: Int64
    /// First host name of the site that served the request.
    public var site: String?
    /// The Host header as sent, nil when absent.
    public var host: String?
    /// Client IP address as text (`127.0.0.1`, `::1`).
    public var client: String
    public var method: String?
    /// Request target path as received (before percent-decoding).
    public var path: String?
    /// Query string without `?`, nil when there is none.
    public var query: String?
    /// `HTTP/1.1` or `HTTP/1.0`.
    public var protocolVersion: String?
    public var status: Int
    /// Body bytes actually sent.
    public var bytes: Int
    /// From request start to the last byte queued.
    public var durationMicros: Int
    public var referrer: String?
    public var userAgent: String?
    /// `gzip`, `br`, `zstd`, or nil for identity.
    public var encoding: String?
    /// `http` or `https`.
    public var scheme: String?
    /// `TLSv1.3` or `TLSv1.2` over HTTPS, nil over plain HTTP.
    public var tlsVersion: String?

    public init(
        timeMicros: Int64, site: String? = nil, host: String? = nil, client: String,
        method: String? = nil, path: String? = nil, query: String? = nil, protocolVersion: String? = nil,
        status: Int, bytes: Int, durationMicros: Int,
        referrer: String? = nil, userAgent: String? = nil, encoding: String? = nil,
        scheme: String? = nil, tlsVersion: String? = nil
    ) {
        self.timeMicros = timeMicros; self.site = site; self.host = host; self.client = client
        self.method = method; self.path = path; self.query = query; self.protocolVersion = protocolVersion
        self.status = status; self.bytes = bytes; self.durationMicros = durationMicros
        self.referrer = referrer; self.userAgent = userAgent; self.encoding = encoding
        self.scheme = scheme; self.tlsVersion = tlsVersion
    }
}

/// The `accessLog` settings of config.json (SPEC §2).
public struct AccessLogSettings: Sendable, Equatable {
    /// Database file; its folder is created when missing.
    public var path: String
    /// How far the database may lag behind `append` (`accessLog.flushMs`).
    public var flushMs: Int = 1000
    /// Delete rows older than this many days, in the background (`accessLog.retainDays`).
    public var retainDays: Int? = nil
    /// Store client addresses with the last IPv4 octet / last 80 IPv6 bits zeroed.
    public var anonymizeClients: Bool = false
    /// Past this many waiting records, `append` drops and counts instead of growing.
    public var maxQueuedRecords: Int = 1_000_000
    /// Write to this PostgreSQL database (`accessLog.postgres`) instead of the file at `path`
    /// (`path` then only names it in messages).
    public var postgresURL: String? = nil
    /// The `host_name` of PostgreSQL rows: which companion host served them.
    public var hostName: String = AccessLogSettings.machineHostName()

    // Knobs for tests; the defaults are what the server uses.
    /// `busy_timeout` of the writer's connection.
    var busyTimeoutMs: Int = 1000
    /// Longest pause between retries of a failing batch (back-off doubles from 100 ms).
    var maxRetryDelayMs: Int = 5000
    /// How long `shutdown()` keeps retrying a failing database before dropping what it holds.
    var shutdownGraceMs: Int = 10_000
    /// Where stderr lines go.
    var report: @Sendable (String) -> Void = { writeLineToStandardError($0) }

    public init(path: String, flushMs: Int = 1000, retainDays: Int? = nil,
                anonymizeClients: Bool = false, maxQueuedRecords: Int = 1_000_000) {
        self.path = path; self.flushMs = flushMs; self.retainDays = retainDays
        self.anonymizeClients = anonymizeClients; self.maxQueuedRecords = maxQueuedRecords
    }

    /// gethostname(2), or "localhost" when it fails.
    public static func machineHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func == (lhs: AccessLogSettings, rhs: AccessLogSettings) -> Bool {
        lhs.path == rhs.path && lhs.flushMs == rhs.flushMs && lhs.retainDays == rhs.retainDays
            && lhs.anonymizeClients == rhs.anonymizeClients && lhs.maxQueuedRecords == rhs.maxQueuedRecords
            && lhs.postgresURL == rhs.postgresURL && lhs.hostName == rhs.hostName
    }
}
