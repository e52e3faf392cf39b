// LogFormatter+CSV: RFC 4180 output. Records end with CRLF (§2.1); a field is
// quoted when it holds a comma, a quote, CR or LF, and quotes are doubled
// (§2.6, §2.7). NULL is an empty field.
// SECURITY: a spreadsheet runs a cell that starts with = + - @ (or a tab or CR) as a
// formula (`Host: =HYPERLINK(...)`), so such a field gets a leading `'` and quotes
// (OWASP's CSV-injection rule); controls and bidi characters are written as `\xHH`
// (TerminalSafety), since a CSV export is often read with `cat` or `less`.

extension LogFormatter {
    func csvRows(_ rows: [AccessLogRow], withHeader: Bool) -> String {
        var text = withHeader ? LogFormatter.columns.joined(separator: ",") + "\r\n" : ""
        for row in rows {
            let fields: [String?] = [
                String(row.id), row.time, row.site, row.host, row.client, row.method, row.path, row.query,
                row.protocolVersion, String(row.status), String(row.bytes), String(row.durationMicros),
                row.referrer, row.userAgent, row.encoding,
            ]
            text += fields.map(csvField).joined(separator: ",") + "\r\n"
        }
        return text
    }

    /// One field, quoted only when RFC 4180 requires it.
    func csvField(_ raw: String?) -> String {
        guard let raw else { return "" }
        var value = TerminalSafety.escaped(raw)
        let startsFormula: Bool
        switch raw.utf8.first {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D: startsFormula = true
        default: startsFormula = false
        }
        if startsFormula { value = "'" + value }
        let needsQuotes = startsFormula || value.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0D || $0 == 0x0A }
        guard needsQuotes else { return value }
        var out = "\""
        for character in value.unicodeScalars {
            if character == "\"" { out += "\"\"" } else { out.unicodeScalars.append(character) }
        }
        return out + "\""
    }
}
