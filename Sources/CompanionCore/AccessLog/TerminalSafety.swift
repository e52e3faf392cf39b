// TerminalSafety: the characters a log value must not carry raw to a terminal or a
// spreadsheet. A client writes Host, path, User-Agent and Referer; `companion logs`
// prints them. C0/C1 controls and DEL can drive a terminal (escape sequences start
// with ESC or the C1 CSI, U+009B); bidi overrides reorder what a reader sees
// (CVE-2021-42574, "Trojan Source"). Every output format escapes these.

enum TerminalSafety {
    /// True when every byte is printable ASCII (nothing to escape, nothing to decode).
    static func isPrintableASCII(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { bytes in
            for byte in bytes where byte < 0x20 || byte >= 0x7F { return false }
            return true
        }
    }

    /// True for C0 controls, DEL, C1 controls and the Unicode bidi controls
    /// (ALM U+061C, LRM/RLM U+200E–F, embeddings and overrides U+202A–E, isolates U+2066–9).
    static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00..<0x20, 0x7F...0x9F, 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// `value` with each unsafe character as `\xHH` per UTF-8 byte (the log's own
    /// escape for invalid bytes, SPEC §5); unchanged (no copy) when nothing is unsafe.
    static func escaped(_ value: String) -> String {
        if isPrintableASCII(value) { return value }   // most values: one pass over the bytes
        guard value.unicodeScalars.contains(where: isUnsafe) else { return value }
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count + 8)
        for scalar in value.unicodeScalars {
            if isUnsafe(scalar) {
                for byte in String(scalar).utf8 { appendHexEscape(byte, to: &out) }
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
