// LogFormatter: renders what LogQuery read as text in the formats of SPEC §5.
// This file: the dispatch and JSON / NDJSON. Table, CSV and combined live in
// LogFormatter+Table.swift, LogFormatter+CSV.swift, LogFormatter+Combined.swift.
// Names in JSON and CSV are the column names of SPEC §5.

/// `--format` of `companion logs`.
public enum LogFormat: String, CaseIterable, Sendable {
    case table, json, ndjson, csv, combined
}

/// Turns rows, counts, summaries and groups into output text.
public struct LogFormatter: Sendable {
    public var format: LogFormat
    /// Cut table lines to this many characters (the terminal's width); nil = no limit.
    public var terminalWidth: Int?

    public init(format: LogFormat, terminalWidth: Int? = nil) {
        self.format = format
        self.terminalWidth = terminalWidth
    }

    /// The column names of SPEC §5, in table order.
    public static let columns = ["id", "time", "site", "host", "client", "method", "path", "query", "protocol",
                                 "status", "bytes", "duration_us", "referrer", "user_agent", "encoding"]

    /// Rows as text. `isFirstChunk` is false for the later chunks of `--follow`,
    /// which repeat no table or CSV header.
    public func rows(_ rows: [AccessLogRow], isFirstChunk: Bool = true) -> String {
        switch format {
        case .table: return tableRows(rows, withHeader: isFirstChunk)
        case .json:
            return rows.isEmpty ? "[]\n" : "[\n" + rows.map(jsonObject).joined(separator: ",\n") + "\n]\n"
        case .ndjson: return rows.map { jsonObject($0) + "\n" }.joined()
        case .csv: return csvRows(rows, withHeader: isFirstChunk)
        case .combined: return rows.map(combinedLine).joined()
        }
    }

    /// `--count` output.
    public func count(_ count: Int) -> String {
        switch format {
        case .json, .ndjson: "{\"count\":\(count)}\n"
        case .csv: "count\r\n\(count)\r\n"
        case .table, .combined: "\(count)\n"
        }
    }

    static let summaryNames = ["requests", "unique_clients", "bytes", "1xx", "2xx", "3xx", "4xx", "5xx"]

    /// `--summary` output.
    public func summary(_ summary: LogSummary) -> String {
        let values = [summary.requests, summary.uniqueClients, summary.bytes] + summary.statusClasses
        let pairs = zip(LogFormatter.summaryNames, values)
        switch format {
        case .json, .ndjson:
            return "{" + pairs.map { "\"\($0)\":\($1)" }.joined(separator: ",") + "}\n"
        case .csv:
            return LogFormatter.summaryNames.joined(separator: ",") + "\r\n" + values.map(String.init).joined(separator: ",") + "\r\n"
        case .table, .combined:
            return tableSummary(Array(pairs))
        }
    }

    /// `--group-by` output: the group's name (e.g. `status`), `count` and `bytes`.
    public func groups(_ groups: [LogGroup], key: LogGroupKey) -> String {
        switch format {
        case .json, .ndjson:
            let objects = groups.map { "{\"\(key.rawValue)\":\(jsonValue($0.value)),\"count\":\($0.count),\"bytes\":\($0.bytes)}" }
            if format == .ndjson { return objects.map { $0 + "\n" }.joined() }
            return objects.isEmpty ? "[]\n" : "[\n" + objects.joined(separator: ",\n") + "\n]\n"
        case .csv:
            var text = "\(key.rawValue),count,bytes\r\n"
            for group in groups { text += "\(csvField(plain(group.value))),\(group.count),\(group.bytes)\r\n" }
            return text
        case .table, .combined:
            return tableGroups(groups, key: key)
        }
    }

    /// The text of a group value; nil for NULL.
    func plain(_ value: LogValue?) -> String? {
        switch value {
        case .text(let text): text
        case .integer(let number): String(number)
        case nil: nil
        }
    }

    // MARK: JSON (RFC 8259)

    public func jsonObject(_ row: AccessLogRow) -> String {
        let strings: [String?] = [row.time, row.site, row.host, row.client, row.method, row.path, row.query, row.protocolVersion]
        var text = "{\"id\":\(row.id)"
        for (name, value) in zip(LogFormatter.columns[1...8], strings) { text += ",\"\(name)\":" + jsonString(value) }
        text += ",\"status\":\(row.status),\"bytes\":\(row.bytes),\"duration_us\":\(row.durationMicros)"
        for (name, value) in zip(LogFormatter.columns[12...14], [row.referrer, row.userAgent, row.encoding]) {
            text += ",\"\(name)\":" + jsonString(value)
        }
        return text + "}"
    }

    func jsonValue(_ value: LogValue?) -> String {
        switch value {
        case .integer(let number): String(number)
        case .text(let text): jsonString(text)
        case nil: "null"
        }
    }

    /// RFC 8259 §7: a JSON string literal (one escaper for the project: JSONValue's).
    func jsonString(_ value: String?) -> String {
        guard let value else { return "null" }
        return "\"" + JSONValue.escapeForMessage(value) + "\""
    }
}
