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
        text.reserveCapacity(text.utf8.count + rows.count * 160)
        for row in rows {
            // Numbers and the time need no quoting; the texts go through csvField.
            text += String(row.id)
            text += ","
            text += row.time
            for field in [row.site, row.host, row.client, row.method, row.path, row.query, row.protocolVersion] {
                text += ","
                text += csvField(field)
            }
            text += ","
            text += String(row.status)
            text += ","
            text += String(row.bytes)
            text += ","
            text += String(row.durationMicros)
            for field in [row.referrer, row.userAgent, row.encoding] {
                text += ","
                text += csvField(field)
            }
            text += "\r\n"
        }
        return text
    }

    /// Printable ASCII with no comma or quote, not starting like a formula: written as it is.
    static func isPlainCSV(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { bytes in
            if let first = bytes.first, first == UInt8(ascii: "=") || first == UInt8(ascii: "+")
                || first == UInt8(ascii: "-") || first == UInt8(ascii: "@") { return false }
            for byte in bytes where byte < 0x20 || byte >= 0x7F || byte == 0x2C || byte == 0x22 { return false }
            return true
        }
    }

    /// One field, quoted only when RFC 4180 requires it.
    func csvField(_ raw: String?) -> String {
        guard let raw else { return "" }
        if Self.isPlainCSV(raw) { return raw }
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
