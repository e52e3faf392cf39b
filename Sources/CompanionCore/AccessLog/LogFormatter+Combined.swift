// LogFormatter+Combined: the Apache/nginx "combined" format, as nginx writes it,
// so GoAccess and other log tools can read an export:
//   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
// Time in UTC (`+0000`); `"-"` for a request that failed to parse and for
// missing referrer / user agent; `0` for no body.

extension LogFormatter {
    func combinedLine(_ row: AccessLogRow) -> String {
        let time = UTCTime(storedText: row.time)?.combinedLogText ?? row.time
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
