// StartupPages: after start-up, unmap the program's clean code and read-only data
// pages, so that resident memory holds what serving touches, not what starting did.
//
// Why: the kernel maps file pages 64 KiB at a time around each fault ("fault-around"),
// and start-up (argument parsing, the config, the schema, TLS set-up) runs code spread
// over the whole 10 MiB text of the binary. After start-up, 5.2 MiB of the binary's
// code, 1.5 MiB of its read-only data and 2-3 MiB of the libraries' were resident, of
// which serving static files uses a small part. Dropping a clean page of a private
// file mapping (MADV_DONTNEED) loses nothing: the next use maps it again from the page
// cache, where it stays. (MADV_RANDOM does not stop fault-around on current kernels,
// so pages used again come back 64 KiB at a time: after a load of every benchmark
// scenario, ~4 MiB of the text is resident again.)
//
// Only mappings that cannot hold a changed page are touched: backed by a file, not
// writable, not shared, and with no anonymous (copied-on-write) page in them. RELRO
// segments (relocated, then made read-only) have anonymous pages and are left alone.

import Glibc

public enum StartupPages {
    /// A mapping whose pages may be dropped: [start, end) and its resident KiB when read.
    public struct Range: Equatable, Sendable {
        public var start: UInt
        public var end: UInt
        public var residentKiB: Int
    }

    /// The mappings of `/proc/self/smaps` text `smaps` whose pages can be dropped without
    /// losing a change: file-backed, `r-xp` or `r--p`, and `Anonymous: 0 kB`.
    /// Malformed lines are skipped; a mapping whose `Anonymous` line is missing is not taken.
    public static func droppable(smaps: [UInt8]) -> [Range] {
        var ranges: [Range] = []
        var current: Range?
        var currentAnonymousKiB: Int?
        func finish() {
            if let range = current, currentAnonymousKiB == 0 { ranges.append(range) }
            current = nil
            currentAnonymousKiB = nil
        }
        var lineStart = 0
        while lineStart < smaps.count {
            var lineEnd = lineStart
            while lineEnd < smaps.count && smaps[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            let line = smaps[lineStart..<lineEnd]
            lineStart = lineEnd + 1
            if let header = parseHeader(line) {
                finish()
                if header.candidate { current = Range(start: header.start, end: header.end, residentKiB: 0) }
                continue
            }
            guard current != nil else { continue }
            if let kib = field(line, named: "Rss") {
                current?.residentKiB = kib
            } else if let kib = field(line, named: "Anonymous") {
                currentAnonymousKiB = kib
            }
        }
        finish()
        return ranges
    }

    /// Drops the resident pages of every droppable mapping of this process. Returns the KiB that were resident in them
    /// (0 when /proc is not mounted). Safe to call from any thread at any time: the ranges
    /// hold no changed page, so a concurrent reader faults the same bytes back in.
    @discardableResult
    public static func release() -> Int {
        guard case .success(let text) = ConfigFile.read("/proc/self/smaps", naming: "/proc/self/smaps") else { return 0 }
        var released = 0
        for range in droppable(smaps: text) {
            guard let base = UnsafeMutableRawPointer(bitPattern: range.start) else { continue }
            let length = Int(range.end - range.start)
            if madvise(base, length, MADV_DONTNEED) == 0 { released += range.residentKiB }
        }
        return released
    }

    /// `start-end perms offset dev inode [path]`: the range and whether it is a candidate
    /// (a path starting with `/`, perms `r-xp` or `r--p`). nil when `line` is not a header.
    static func parseHeader(_ line: ArraySlice<UInt8>) -> (start: UInt, end: UInt, candidate: Bool)? {
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
        guard parts.count >= 5, let dash = parts[0].firstIndex(of: UInt8(ascii: "-")),
              let start = hex(parts[0][parts[0].startIndex..<dash]),
              let end = hex(parts[0][(dash + 1)...]), end > start,
              parts[1].count == 4 else { return nil }
        let perms = Array(parts[1])
        let readOnlyPrivate = perms[0] == UInt8(ascii: "r") && perms[1] == UInt8(ascii: "-") && perms[3] == UInt8(ascii: "p")
        let fileBacked = parts.count >= 6 && parts[5].first == UInt8(ascii: "/")
        return (start, end, readOnlyPrivate && fileBacked)
    }

    /// `Name:   123 kB` -> 123.
    static func field(_ line: ArraySlice<UInt8>, named name: String) -> Int? {
        let prefix = Array(name.utf8) + [UInt8(ascii: ":")]
        guard line.starts(with: prefix) else { return nil }
        var value = 0
        var digits = 0
        for byte in line.dropFirst(prefix.count) {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                if digits > 0 { break }
                continue
            }
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"), digits < 18 else { return digits > 0 ? value : nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits > 0 ? value : nil
    }

    static func hex(_ digits: ArraySlice<UInt8>) -> UInt? {
        guard !digits.isEmpty, digits.count <= 16 else { return nil }
        var value: UInt = 0
        for byte in digits {
            let nibble: UInt
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = UInt(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = UInt(byte - UInt8(ascii: "a") + 10)
            default: return nil
            }
            value = value << 4 | nibble
        }
        return value
    }
}
