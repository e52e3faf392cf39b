// LogFormatter: renders what LogQuery read as text in the formats of SPEC §5.
// This file: the dispatch and JSON / NDJSON. Table, CSV and combined live in
// LogFormatter+Table.swift, LogFormatter+CSV.swift, LogFormatter+Combined.swift.
// Names in JSON and CSV are the column names of SPEC §5.

/// `--format` of `companion logs`.
public enum LogFormat: String, CaseIterable, Sendable {
    case table, json, ndjson, csv, combined
    /// Apache's vhost_combined: the site (GoAccess's `%v`) before a combined line.
    case vcombined
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
        case .combined: return combinedLines(rows, withSite: false)
        case .vcombined: return combinedLines(rows, withSite: true)
        }
    }

    /// `--count` output.
    public func count(_ count: Int) -> String {
        switch format {
        case .json, .ndjson: "{\"count\":\(count)}\n"
        case .csv: "count\r\n\(count)\r\n"
        case .table, .combined, .vcombined: "\(count)\n"
        }
    }

    /// `--unique client` output (without `--group-by`).
    public func uniqueClients(_ count: Int) -> String {
        switch format {
        case .json, .ndjson: "{\"unique_clients\":\(count)}\n"
        case .csv: "unique_clients\r\n\(count)\r\n"
        case .table, .combined, .vcombined: "\(count)\n"
        }
    }

    static let summaryNames = ["requests", "unique_clients", "bytes", "1xx", "2xx", "3xx", "4xx", "5xx", "p50_us", "p95_us", "p99_us"]

    /// `--summary` output. Percentiles are null (csv: empty, table: `-`) when nothing matched.
    public func summary(_ summary: LogSummary) -> String {
        let percentiles = summary.percentiles
        let values: [Int?] = [summary.requests, summary.uniqueClients, summary.bytes] + summary.statusClasses
            + [percentiles?.p50, percentiles?.p95, percentiles?.p99]
        let pairs = zip(LogFormatter.summaryNames, values)
        switch format {
        case .json, .ndjson:
            return "{" + pairs.map { "\"\($0)\":\($1.map(String.init) ?? "null")" }.joined(separator: ",") + "}\n"
        case .csv:
            return LogFormatter.summaryNames.joined(separator: ",") + "\r\n" + values.map { $0.map(String.init) ?? "" }.joined(separator: ",") + "\r\n"
        case .table, .combined, .vcombined:
            return tableSummary(pairs.map { ($0, $1.map(String.init) ?? "-") })
        }
    }

    /// The columns of a `--group-by` answer after the keys, and each group's values for them.
    func groupMeasures(_ grouping: LogGrouping) -> [(name: String, value: (LogGroup) -> Int?)] {
        var measures: [(name: String, value: (LogGroup) -> Int?)] = [("count", { $0.count }), ("bytes", { $0.bytes })]
        if grouping.uniqueClients { measures.append(("clients", { $0.clients })) }
        if grouping.sort == .duration { measures.append(("avg_duration_us", { $0.averageDurationMicros })) }
        if grouping.percentiles {
            measures += [("p50_us", { $0.percentiles?.p50 }), ("p95_us", { $0.percentiles?.p95 }), ("p99_us", { $0.percentiles?.p99 })]
        }
        return measures
    }

    /// `--group-by` output: a column per key (named as the key, e.g. `status`), then `count`,
    /// `bytes` and what `--unique client`, `--sort duration` and `--percentiles` add.
    public func groups(_ groups: [LogGroup], grouping: LogGrouping) -> String {
        let keys = grouping.keys.map(\.rawValue)
        let measures = groupMeasures(grouping)
        switch format {
        case .json, .ndjson:
            let objects = groups.map { group in
                "{" + (zip(keys, group.values).map { "\"\($0)\":\(jsonValue($1))" }
                       + measures.map { "\"\($0.name)\":\($0.value(group).map(String.init) ?? "null")" }).joined(separator: ",") + "}"
            }
            if format == .ndjson { return objects.map { $0 + "\n" }.joined() }
            return objects.isEmpty ? "[]\n" : "[\n" + objects.joined(separator: ",\n") + "\n]\n"
        case .csv:
            var text = (keys + measures.map(\.name)).joined(separator: ",") + "\r\n"
            for group in groups {
                text += (group.values.map { csvField(plain($0)) } + measures.map { $0.value(group).map(String.init) ?? "" }).joined(separator: ",") + "\r\n"
            }
            return text
        case .table, .combined, .vcombined:
            return tableGroups(groups, grouping: grouping)
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
