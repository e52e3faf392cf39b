// LogFormatter+Table: aligned text for a terminal. Numbers right-aligned, two
// spaces between columns, NULL shown as `-`, lines cut to the terminal width.
// SECURITY: logged fields come from clients; control characters (C0, DEL, C1)
// are shown as `\xHH` so a crafted User-Agent cannot send escape sequences to
// the terminal of whoever reads the log.

extension LogFormatter {
    static let tableHeader = ["TIME", "CLIENT", "SITE", "METHOD", "PATH", "STATUS", "BYTES", "MS", "USER_AGENT"]
    /// Which table columns are right-aligned.
    static let tableRightAligned: Set<Int> = [5, 6, 7]

    func tableRows(_ rows: [AccessLogRow], withHeader: Bool) -> String {
        var widths: [Int]? = nil
        return tableRows(rows, withHeader: withHeader, widths: &widths)
    }

    /// Rows of a streamed table: the first chunk sets the column widths (`widths` nil on the
    /// first call), later chunks keep them, so the columns line up across chunks (a longer
    /// cell later pushes only its own line).
    public func tableRows(_ rows: [AccessLogRow], withHeader: Bool, widths: inout [Int]?) -> String {
        let cells: [[String]] = rows.map { row in
            let path = row.path.map { $0 + (row.query.map { "?" + $0 } ?? "") }
            return [row.time, row.client, row.site ?? "-", row.method ?? "-", path ?? "-", String(row.status),
                    String(row.bytes), milliseconds(row.durationMicros), row.userAgent ?? "-"].map(terminalSafe)
        }
        if widths == nil { widths = Self.widths(of: cells, base: LogFormatter.tableHeader) }
        return table(header: withHeader ? LogFormatter.tableHeader : nil, cells: cells,
                     rightAligned: LogFormatter.tableRightAligned, widths: widths!)
    }

    func tableGroups(_ groups: [LogGroup], grouping: LogGrouping) -> String {
        let measures = groupMeasures(grouping)
        let header = grouping.keys.map { $0.rawValue.uppercased() } + measures.map { $0.name.uppercased() }
        let cells = groups.map { group in
            group.values.map { terminalSafe(plain($0) ?? "-") } + measures.map { $0.value(group).map(String.init) ?? "-" }
        }
        var right = Set(grouping.keys.count..<header.count)
        for (index, key) in grouping.keys.enumerated() where key == .status { right.insert(index) }
        return table(header: header, cells: cells, rightAligned: right, widthsFrom: header)
    }

    func tableSummary(_ pairs: [(String, String)]) -> String {
        let cells = pairs.map { [$0.0.replacingUnderscores(), $0.1] }
        return table(header: nil, cells: cells, rightAligned: [1], widthsFrom: ["", ""])
    }

    /// Milliseconds with three decimals: 1234 µs → `1.234`.
    func milliseconds(_ micros: Int) -> String {
        "\(micros / 1000).\(pad(micros % 1000, 3))"
    }

    static func widths(of cells: [[String]], base: [String]) -> [Int] {
        var widths = base.map(\.count)
        for line in cells { for (index, cell) in line.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return widths
    }

    private func table(header: [String]?, cells: [[String]], rightAligned: Set<Int>, widthsFrom base: [String]) -> String {
        table(header: header, cells: cells, rightAligned: rightAligned, widths: Self.widths(of: cells, base: base))
    }

    private func table(header: [String]?, cells: [[String]], rightAligned: Set<Int>, widths: [Int]) -> String {
        var text = ""
        for line in (header.map { [$0] } ?? []) + cells {
            var out = ""
            for (index, cell) in line.enumerated() {
                let gap = String(repeating: " ", count: max(0, widths[index] - cell.count))
                if index > 0 { out += "  " }
                if rightAligned.contains(index) { out += gap + cell }
                else if index == line.count - 1 { out += cell }
                else { out += cell + gap }
            }
            text += cut(out) + "\n"
        }
        return text
    }

    /// Cuts a line to `terminalWidth` characters, marking the cut with `…`.
    func cut(_ line: String) -> String {
        guard let width = terminalWidth, width > 0, line.count > width else { return line }
        return String(line.prefix(width - 1)) + "…"
    }

    /// Control and bidi characters as `\xHH` per UTF-8 byte (TerminalSafety).
    func terminalSafe(_ value: String) -> String {
        TerminalSafety.escaped(value)
    }
}

private extension String {
    func replacingUnderscores() -> String { String(map { $0 == "_" ? " " : $0 }) }
}
