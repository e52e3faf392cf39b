// MetricsText: /metrics in the Prometheus text exposition format (version 0.0.4): one
// HELP and TYPE line per family, then its samples. Built on demand at scrape, so nothing
// here is on the request path.

enum MetricsText {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func render(_ metrics: ServerMetrics, state: ServerState) -> String {
        var out = Writer()
        let names = metrics.siteNames
        let classes = ["1xx", "2xx", "3xx", "4xx", "5xx"]
        out.family("companion_requests_total", "counter", "Responses by site (the configured name) and status class.")
        for (slot, name) in names.enumerated() {
            for (i, code) in classes.enumerated() {
                let value = metrics.total(LoopMetrics.Cell.sites + slot * LoopMetrics.columnsPerSite + i)
                if value > 0 { out.sample("companion_requests_total", [("site", name), ("code", code)], value) }
            }
        }
        out.family("companion_response_bytes_total", "counter", "Response bytes queued (head and body) by site.")
        for (slot, name) in names.enumerated() {
            let value = metrics.total(LoopMetrics.Cell.sites + slot * LoopMetrics.columnsPerSite + 5)
            if value > 0 { out.sample("companion_response_bytes_total", [("site", name)], value) }
        }

        out.family("companion_request_duration_seconds", "histogram",
                   "Time from a request's first byte to its response being queued.")
        var cumulative = 0
        for (i, bound) in LoopMetrics.durationBoundsMicros.enumerated() {
            cumulative += metrics.total(LoopMetrics.Cell.durations + i)
            out.sample("companion_request_duration_seconds_bucket", [("le", seconds(bound))], cumulative)
        }
        cumulative += metrics.total(LoopMetrics.Cell.durations + LoopMetrics.durationBoundsMicros.count)
        out.sample("companion_request_duration_seconds_bucket", [("le", "+Inf")], cumulative)
        out.sample("companion_request_duration_seconds_sum", [], seconds(Int64(metrics.total(LoopMetrics.Cell.durationSumMicros))))
        out.sample("companion_request_duration_seconds_count", [], cumulative)

        let accepted = metrics.total(LoopMetrics.Cell.accepted)
        let closed = metrics.total(LoopMetrics.Cell.closed)
        out.family("companion_connections_accepted_total", "counter", "Client connections accepted.")
        out.sample("companion_connections_accepted_total", [], accepted)
        out.family("companion_connections_closed_total", "counter", "Client connections closed.")
        out.sample("companion_connections_closed_total", [], closed)
        out.family("companion_connections", "gauge", "Open client connections by activity (counted once a second).")
        for activity in ConnectionActivity.allCases {
            out.sample("companion_connections", [("state", activity.label)],
                       metrics.total(LoopMetrics.Cell.connectionStates + activity.rawValue))
        }
        out.family("companion_connection_timers", "gauge",
                   "Connection deadlines waiting in the event loops' timer heaps, stale ones included (counted once a second).")
        out.sample("companion_connection_timers", [], metrics.total(LoopMetrics.Cell.deadlineEntries))

        let hits = metrics.total(LoopMetrics.Cell.fileCacheHits)
        out.family("companion_file_cache_hits_total", "counter", "Path resolutions and pages served from the loops' file caches.")
        out.sample("companion_file_cache_hits_total", [], hits)
        out.family("companion_file_cache_misses_total", "counter", "Path resolutions that went to the file system.")
        out.sample("companion_file_cache_misses_total", [], metrics.total(LoopMetrics.Cell.fileCacheLookups) - hits)

        let gzip = state.gzipCache
        out.family("companion_compressed_cache_hits_total", "counter", "Compressed variants served from the cache.")
        out.sample("companion_compressed_cache_hits_total", [], gzip.hits)
        out.family("companion_compressed_cache_misses_total", "counter", "Compressed-variant lookups that found nothing current.")
        out.sample("companion_compressed_cache_misses_total", [], gzip.misses)
        out.family("companion_compressed_cache_bytes", "gauge", "Compressed bytes held by the cache.")
        out.sample("companion_compressed_cache_bytes", [], gzip.byteCount)
        out.family("companion_compressions_total", "counter", "Bodies compressed for the cache.")
        out.sample("companion_compressions_total", [], gzip.compressions)

        let sinks = [state.accessLog, state.accessLogMirror].compactMap { $0 }
        if !sinks.isEmpty {
            let families: [(String, String, String, KeyPath<AccessLogWriter.Statistics, Int>)] = [
                ("companion_access_log_queue_depth", "gauge", "Access-log rows waiting for the writer, by sink.", \.queued),
                ("companion_access_log_rows_written_total", "counter", "Access-log rows committed, by sink.", \.written),
                ("companion_access_log_rows_dropped_total", "counter",
                 "Access-log rows dropped (queue full, or given up at shutdown), by sink.", \.dropped),
                ("companion_access_log_write_errors_total", "counter", "Failed access-log writes (each is retried), by sink.", \.writeErrors),
                ("companion_access_log_pressure_naps_total", "counter",
                 "Turns an event loop slept so a working access-log writer that fell behind could catch up, by sink.", \.pressureNaps),
            ]
            let statistics = sinks.map { ($0.settings.postgresURL == nil ? "sqlite" : "postgres", $0.statistics) }
            for (name, type, help, value) in families {
                out.family(name, type, help)
                for (sink, stats) in statistics { out.sample(name, [("sink", sink)], stats[keyPath: value]) }
            }
        }

        let reloads = metrics.reloads
        out.family("companion_config_reloads_total", "counter", "Configuration reloads by result.")
        out.sample("companion_config_reloads_total", [("result", "ok")], reloads.succeeded)
        out.sample("companion_config_reloads_total", [("result", "failed")], reloads.failed)

        if state.tls != nil {
            let tls = TLSStatistics.totals
            out.family("companion_tls_handshakes_total", "counter", "TLS handshakes by result.")
            out.sample("companion_tls_handshakes_total", [("result", "ok")], tls.succeeded)
            out.sample("companion_tls_handshakes_total", [("result", "failed")], tls.failed)
        }

        out.family("companion_start_time_seconds", "gauge", "When the server started, seconds since the Unix epoch.")
        out.sample("companion_start_time_seconds", [], String(Int64(metrics.startTimeSeconds)))
        out.family("companion_build_info", "gauge", "The running version (always 1).")
        out.sample("companion_build_info", [("version", CompanionVersion.string)], 1)
        return out.text
    }

    /// Microseconds as decimal seconds without a float round trip: 2500 → "0.0025".
    static func seconds(_ micros: Int64) -> String {
        let whole = micros / 1_000_000
        var fraction = String(micros % 1_000_000)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(whole)" : "\(whole).\(fraction)"
    }

    /// Label values escape backslash, double quote and newline (the format's rules).
    static func escapeLabel(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    private struct Writer {
        var text = ""

        mutating func family(_ name: String, _ type: String, _ help: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }

        mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Int) {
            sample(name, labels, String(value))
        }

        mutating func sample(_ name: String, _ labels: [(String, String)], _ value: String) {
            text += name
            if !labels.isEmpty {
                text += "{" + labels.map { "\($0.0)=\"\(MetricsText.escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
            }
            text += " \(value)\n"
        }
    }
}
