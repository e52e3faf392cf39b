// LogFormatter+Combined: the Apache/nginx "combined" format, as nginx writes it,
// so GoAccess and other log tools can read an export:
//   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
// Time in UTC (`+0000`); `"-"` for a request that failed to parse and for
// missing referrer / user agent; `0` for no body.
// `vcombined` is Apache's vhost_combined: the same line after `site:port ` (the
// site, `-` for none; 443 over HTTPS, else 80), which GoAccess reads with
// `--log-format=VCOMBINED` (`%v`) for per-site panels.

extension LogFormatter {
    /// Lines for many rows; rows in the same second share the converted time.
    func combinedLines(_ rows: [AccessLogRow], withSite: Bool) -> String {
        var text = ""
        text.reserveCapacity(rows.count * 180)
        var second = Substring()
        var time = ""
        for row in rows {
            let prefix = row.time.prefix(19)
            if prefix != second {
                second = prefix
                time = UTCTime(storedText: row.time)?.combinedLogText ?? row.time
            }
            if withSite { text += "\(combinedEscaped(row.site ?? "-")):\(row.scheme == "https" ? 443 : 80) " }
            text += combinedLine(row, time: time)
        }
        return text
    }

    func combinedLine(_ row: AccessLogRow, time known: String? = nil) -> String {
        let time = known ?? UTCTime(storedText: row.time)?.combinedLogText ?? row.time
        var request = "-"
        if let method = row.method {
            request = method
            if let path = row.path { request += " " + path + (row.query.map { "?" + $0 } ?? "") }
            if let version = row.protocolVersion { request += " " + version }
        }
        return "\(combinedEscaped(row.client)) - - [\(time)] \"\(combinedEscaped(request))\" \(row.status) \(row.bytes) "
            + "\"\(combinedEscaped(row.referrer ?? "-"))\" \"\(combinedEscaped(row.userAgent ?? "-"))\"\n"
    }

    /// nginx's log escaping (ngx_http_log_escape), with SPEC §5's spelling:
    /// `"` → `\x22`, `\` → `\\`, control bytes, DEL and bytes ≥ 0x80 → `\xHH`.
    func combinedEscaped(_ value: String) -> String {
        var copy = value
        let plain = copy.withUTF8 { bytes in
            for byte in bytes where byte < 0x20 || byte >= 0x7F || byte == 0x22 || byte == 0x5C { return false }
            return true
        }
        if plain { return value }
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            switch byte {
            case 0x22, 0x00..<0x20, 0x7F...: appendHexEscape(byte, to: &out)
            case 0x5C: out += [0x5C, 0x5C]
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
