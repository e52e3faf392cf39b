// ReportHTML: a LogReport as one self-contained HTML page: inline CSS and SVG, no
// network request, readable on a phone (one column under 700 px) and printable.
// Every number a test or a script may want carries its raw value in `data-*`
// attributes (`data-metric`, `data-panel`, `data-key`, `data-count`, ...).
// SECURITY: paths, referrers, agents and hosts come from clients; every text is
// HTML-escaped, in elements and in attributes alike.

public enum ReportHTML {
    /// The whole page. `liveScript`: the dashboard's script (server-sent events), or nil
    /// for a file.
    public static func page(_ report: LogReport, title: String = "companion: access log report", liveScript: String? = nil) -> String {
        shell(body: body(report), title: title, liveScript: liveScript)
    }

    /// A page around a body already rendered (the dashboard's).
    public static func shell(body: String, title: String, liveScript: String?) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="icon" href="data:,">
        <title>\(escape(title))</title>
        <style>\(css)</style>
        </head>
        <body>
        <main id="report">
        \(body)
        </main>
        \(liveScript.map { "<script>\($0)</script>" } ?? "")
        </body>
        </html>

        """
    }

    /// The content of `<main id="report">` (what the dashboard replaces on each update).
    public static func body(_ report: LogReport) -> String {
        var html = """
            <header>
            <h1>Access log report</h1>
            <p class="filters" data-filters="\(escape(report.filterText))">\(report.filterText.isEmpty ? "All requests" : escape(report.filterText))</p>
            <p class="generated">Generated <time data-generated="\(escape(report.generated))">\(escape(report.generated))</time></p>
            </header>

            """
        html += cards(report.summary)
        html += "<div class=\"grid\">\n"
        let unit = report.bucket == .day ? "day" : report.bucket == .hour ? "hour" : "minute"
        html += panel("over-time", "Requests and bandwidth per \(unit)", wide: true, content: trafficChart(report.overTime) + bucketTable(report.overTime))
        html += panel("status-over-time", "Status classes per \(unit)", wide: true, content: statusChart(report.overTime))
        html += panel("top-paths", "Top paths", content: groupTable(report.topPaths, name: "Path", percentiles: true))
        html += panel("not-found", "Top 404s", content: groupTable(report.notFound, name: "Path"))
        html += panel("server-errors", "5xx by path", content: groupTable(report.serverErrors, name: "Path"))
        html += panel("referrers", "Top referrers", content: groupTable(report.referrers, name: "Referrer"))
        html += panel("families", "Browsers and agents", content: familyTable(report.families, total: report.summary.requests))
        html += panel("agents", "Top user agents", content: groupTable(report.agents, name: "User agent"))
        html += panel("clients", "Top clients", content: groupTable(report.clients, name: "Client"))
        html += panel("sites", "Sites", wide: true, content: groupTable(report.sites, name: "Site", clients: true, percentiles: true))
        html += "</div>\n"
        return html
    }

    // MARK: - Pieces

    static func cards(_ summary: LogSummary) -> String {
        var items: [(String, String, Int?, String)] = [
            ("requests", "Requests", summary.requests, number(summary.requests)),
            ("unique_clients", "Unique clients", summary.uniqueClients, number(summary.uniqueClients)),
            ("bytes", "Bandwidth", summary.bytes, bytes(summary.bytes)),
        ]
        for (index, name) in ["2xx", "3xx", "4xx", "5xx"].enumerated() {
            items.append((name, name, summary.statusClasses[index + 1], number(summary.statusClasses[index + 1])))
        }
        let percentiles = summary.percentiles
        for (name, value) in [("p50_us", percentiles?.p50), ("p95_us", percentiles?.p95), ("p99_us", percentiles?.p99)] {
            items.append((name, String(name.prefix(3)) + " duration", value, value.map(duration) ?? "–"))
        }
        var html = "<section class=\"cards\">\n"
        for (metric, label, raw, shown) in items {
            html += "<div class=\"card\"><span class=\"label\">\(label)</span>"
            html += "<span class=\"value\" data-metric=\"\(metric)\" data-value=\"\(raw.map(String.init) ?? "")\">\(shown)</span></div>\n"
        }
        return html + "</section>\n"
    }

    static func panel(_ id: String, _ title: String, wide: Bool = false, content: String) -> String {
        "<section class=\"panel\(wide ? " wide" : "")\" id=\"\(id)\">\n<h2>\(escape(title))</h2>\n\(content)</section>\n"
    }

    static func groupTable(_ groups: [LogGroup], name: String, clients: Bool = false, percentiles: Bool = false) -> String {
        guard !groups.isEmpty else { return "<p class=\"empty\">No requests.</p>\n" }
        let total = max(1, groups.map(\.count).max() ?? 1)
        var html = "<div class=\"scroll\"><table class=\"data\"><thead><tr><th class=\"key\">\(name)</th><th>Requests</th><th>Bytes</th>"
        if clients { html += "<th>Clients</th>" }
        if percentiles { html += "<th>p50</th><th>p95</th><th>p99</th>" }
        html += "</tr></thead><tbody>\n"
        for group in groups {
            let key: String
            switch group.value {
            case .text(let text)?: key = text
            case .integer(let number)?: key = String(number)
            case nil: key = ""
            }
            let shown = key.isEmpty ? "<em>(none)</em>" : escape(key)
            let share = Double(group.count) / Double(total) * 100
            html += "<tr data-key=\"\(escape(key))\" data-count=\"\(group.count)\" data-bytes=\"\(group.bytes)\""
            if let clients = group.clients { html += " data-clients=\"\(clients)\"" }
            if let p = group.percentiles { html += " data-p50=\"\(p.p50)\" data-p95=\"\(p.p95)\" data-p99=\"\(p.p99)\"" }
            html += "><td class=\"key\"><span class=\"bar\" style=\"width:\(String(format1(share)))%\"></span><span class=\"text\">\(shown)</span></td>"
            html += "<td>\(number(group.count))</td><td>\(bytes(group.bytes))</td>"
            if clients { html += "<td>\(group.clients.map(number) ?? "–")</td>" }
            if percentiles {
                for value in [group.percentiles?.p50, group.percentiles?.p95, group.percentiles?.p99] {
                    html += "<td>\(value.map(duration) ?? "–")</td>"
                }
            }
            html += "</tr>\n"
        }
        return html + "</tbody></table></div>\n"
    }

    static func familyTable(_ families: [LogReportFamily], total: Int) -> String {
        guard !families.isEmpty else { return "<p class=\"empty\">No requests.</p>\n" }
        var html = "<table class=\"data\"><thead><tr><th class=\"key\">Family</th><th>Requests</th><th>Share</th></tr></thead><tbody>\n"
        for family in families {
            let share = total == 0 ? 0 : Double(family.requests) / Double(total) * 100
            html += "<tr data-key=\"\(escape(family.name))\" data-count=\"\(family.requests)\"><td class=\"key\">"
            html += "<span class=\"bar\" style=\"width:\(format1(share))%\"></span><span class=\"text\">\(escape(family.name))</span></td>"
            html += "<td>\(number(family.requests))</td><td>\(format1(share)) %</td></tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    static func bucketTable(_ buckets: [LogReportBucket]) -> String {
        guard !buckets.isEmpty else { return "" }
        var html = "<details><summary>Numbers</summary><div class=\"scroll\"><table class=\"data\"><thead><tr><th class=\"key\">Time (UTC)</th><th>Requests</th><th>Bytes</th>"
        html += "<th>2xx</th><th>3xx</th><th>4xx</th><th>5xx</th></tr></thead><tbody>\n"
        for bucket in buckets {
            html += "<tr data-key=\"\(escape(bucket.label))\" data-count=\"\(bucket.requests)\" data-bytes=\"\(bucket.bytes)\">"
            html += "<td class=\"key\">\(escape(bucket.label))</td><td>\(number(bucket.requests))</td><td>\(bytes(bucket.bytes))</td>"
            for index in 1...4 { html += "<td>\(number(bucket.statusClasses[index]))</td>" }
            html += "</tr>\n"
        }
        return html + "</tbody></table></div></details>\n"
    }

    // MARK: - Charts (inline SVG)

    static let chartWidth = 720.0, chartHeight = 180.0

    static func trafficChart(_ buckets: [LogReportBucket]) -> String {
        guard !buckets.isEmpty else { return "<p class=\"empty\">No requests.</p>\n" }
        let maxRequests = Double(max(1, buckets.map(\.requests).max() ?? 1))
        let maxBytes = Double(max(1, buckets.map(\.bytes).max() ?? 1))
        let slot = chartWidth / Double(buckets.count)
        var svg = svgOpen(label: "Requests (bars) and bandwidth (line) over time")
        var points: [String] = []
        for (index, bucket) in buckets.enumerated() {
            let height = Double(bucket.requests) / maxRequests * (chartHeight - 20)
            let x = Double(index) * slot
            svg += "<rect class=\"requests\" x=\"\(format1(x + (slot - barWidth(slot)) / 2))\" y=\"\(format1(chartHeight - 20 - height))\" width=\"\(format1(barWidth(slot)))\" height=\"\(format1(height))\">"
            svg += "<title>\(escape(bucket.label)): \(number(bucket.requests)) requests, \(bytes(bucket.bytes))</title></rect>"
            points.append("\(format1(x + slot / 2)),\(format1(chartHeight - 20 - Double(bucket.bytes) / maxBytes * (chartHeight - 20)))")
        }
        svg += "<polyline class=\"bandwidth\" points=\"\(points.joined(separator: " "))\"/>"
        svg += axisLabels(buckets.map(\.label), slot: slot)
        return svg + "</svg>\n<p class=\"legend\"><span class=\"swatch requests\"></span>requests (peak \(number(Int(maxRequests)))) <span class=\"swatch bandwidth\"></span>bandwidth (peak \(bytes(Int(maxBytes))))</p>\n"
    }

    static let classNames = ["1xx", "2xx", "3xx", "4xx", "5xx"]

    static func statusChart(_ buckets: [LogReportBucket]) -> String {
        guard !buckets.isEmpty else { return "<p class=\"empty\">No requests.</p>\n" }
        let maxRequests = Double(max(1, buckets.map(\.requests).max() ?? 1))
        let slot = chartWidth / Double(buckets.count)
        var svg = svgOpen(label: "Requests per status class over time")
        for (index, bucket) in buckets.enumerated() {
            var y = chartHeight - 20
            for statusClass in 0..<5 where bucket.statusClasses[statusClass] > 0 {
                let height = Double(bucket.statusClasses[statusClass]) / maxRequests * (chartHeight - 20)
                y -= height
                svg += "<rect class=\"s\(statusClass + 1)xx\" x=\"\(format1(Double(index) * slot + (slot - barWidth(slot)) / 2))\" y=\"\(format1(y))\" width=\"\(format1(barWidth(slot)))\" height=\"\(format1(height))\">"
                svg += "<title>\(escape(bucket.label)): \(number(bucket.statusClasses[statusClass])) \(classNames[statusClass])</title></rect>"
            }
        }
        svg += axisLabels(buckets.map(\.label), slot: slot)
        var legend = "<p class=\"legend\">"
        for name in classNames.dropFirst() { legend += "<span class=\"swatch s\(name)\"></span>\(name) " }
        return svg + "</svg>\n" + legend + "</p>\n"
    }

    /// Bars fill 80 % of their slot, but no wider than 48 units (one bucket is not a wall).
    static func barWidth(_ slot: Double) -> Double { min(max(slot * 0.8, 0.5), 48) }

    static func svgOpen(label: String) -> String {
        "<svg class=\"chart\" viewBox=\"0 0 \(Int(chartWidth)) \(Int(chartHeight))\" role=\"img\" aria-label=\"\(escape(label))\">"
    }

    /// The first, middle and last bucket's labels under the bars.
    static func axisLabels(_ labels: [String], slot: Double) -> String {
        var indexes = [0]
        if labels.count > 2 { indexes.append(labels.count / 2) }
        if labels.count > 1 { indexes.append(labels.count - 1) }
        var svg = ""
        for index in indexes {
            let anchor = index == 0 ? "start" : index == labels.count - 1 ? "end" : "middle"
            let x = index == 0 ? 0 : index == labels.count - 1 ? chartWidth : Double(index) * slot + slot / 2
            svg += "<text x=\"\(format1(x))\" y=\"\(Int(chartHeight) - 4)\" text-anchor=\"\(anchor)\">\(escape(labels[index]))</text>"
        }
        return svg
    }

    // MARK: - Formatting

    /// HTML text and attribute escaping: the listing's escaper (`& < > " '` as entities,
    /// controls as U+FFFD).
    public static func escape(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        ListingEscaper.appendHTMLText(text.utf8, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// 1234567 → "1,234,567".
    static func number(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }

    static func bytes(_ value: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var amount = Double(value)
        var unit = 0
        while amount >= 1024 && unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        return unit == 0 ? "\(value) B" : "\(format1(amount)) \(units[unit])"
    }

    static func duration(_ micros: Int) -> String {
        micros < 1000 ? "\(micros) µs" : micros < 1_000_000 ? "\(format1(Double(micros) / 1000)) ms" : "\(format1(Double(micros) / 1_000_000)) s"
    }

    /// One decimal place, without Foundation.
    static func format1(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    static let css = """
        :root{--fg:#1d2330;--muted:#5d6678;--bg:#f5f6f8;--panel:#fff;--line:#e2e5ea;--accent:#3563e9;--ok:#2f9e44;--redirect:#1c7ed6;--client:#e8590c;--server:#c92a2a}
        *{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
        main{max-width:1200px;margin:0 auto;padding:16px}header h1{margin:0 0 4px;font-size:1.5em}header p{margin:0;color:var(--muted)}
        .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(130px,1fr));gap:10px;margin:16px 0}
        .card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px 12px}
        .card .label{display:block;color:var(--muted);font-size:.8em;text-transform:uppercase;letter-spacing:.04em}.card .value{font-size:1.35em;font-weight:600}
        .grid{display:grid;grid-template-columns:1fr 1fr;gap:14px}.panel{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:12px 14px;min-width:0}
        .panel.wide{grid-column:1/-1}.panel h2{margin:0 0 8px;font-size:1.05em}
        table.data{width:100%;border-collapse:collapse;font-size:.9em;font-variant-numeric:tabular-nums}
        table.data th,table.data td{padding:4px 6px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
        table.data th.key,table.data td.key{text-align:left;white-space:normal;word-break:break-all;position:relative;width:100%}
        td.key .bar{position:absolute;left:0;top:3px;bottom:3px;background:rgba(53,99,233,.12);border-radius:3px}td.key .text{position:relative}
        svg.chart{width:100%;height:auto;display:block}svg.chart text{font-size:11px;fill:var(--muted)}
        rect.requests{fill:rgba(53,99,233,.55)}polyline.bandwidth{fill:none;stroke:#f08c00;stroke-width:2}
        .s1xx{fill:#adb5bd;background:#adb5bd}.s2xx{fill:var(--ok);background:var(--ok)}.s3xx{fill:var(--redirect);background:var(--redirect)}
        .s4xx{fill:var(--client);background:var(--client)}.s5xx{fill:var(--server);background:var(--server)}
        .legend{margin:6px 0 0;color:var(--muted);font-size:.85em}.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px}
        .swatch.requests{background:rgba(53,99,233,.55)}.swatch.bandwidth{background:#f08c00}.empty{color:var(--muted)}
        details summary{cursor:pointer;color:var(--muted);margin-top:6px}
        .scroll{overflow-x:auto}
        @media (max-width:700px){.grid{grid-template-columns:1fr}main{padding:10px}table.data th,table.data td{padding:3px 4px}
        table.data td.key{min-width:11em}.cards{grid-template-columns:1fr 1fr}}
        @media print{body{background:#fff}.panel,.card{border-color:#bbb;break-inside:avoid}details{display:none}}
        """
}
