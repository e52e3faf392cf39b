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
//
// Threads: the loops and the log writer already run when this is called. What keeps a
// concurrent change from being dropped: only pages of the read-only segments of loaded
// ELF objects are dropped, from inside dl_iterate_phdr(3), which holds the dynamic
// loader's lock; so no object can be unloaded and its addresses reused by a writable
// mapping between reading smaps and the madvise. A read-only mapping cannot gain a
// changed page without mprotect, which the loader does under that lock too.

import CLinux
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

    /// Drops the resident pages of the droppable mappings that lie in a read-only segment of
    /// a loaded ELF object (the program and its libraries). Returns the KiB that were
    /// resident in the mappings it dropped pages of (0 when /proc is not mounted). Any
    /// thread may run meanwhile (see the top of the file); one that uses a dropped page
    /// faults the same bytes back in.
    @discardableResult
    public static func release() -> Int {
        guard case .success(let text) = ConfigFile.read("/proc/self/smaps", naming: "/proc/self/smaps") else { return 0 }
        var context = ReleaseContext(ranges: droppable(smaps: text))
        withUnsafeMutablePointer(to: &context) { pointer in
            companion_each_readonly_segment({ start, end, raw in
                guard let raw else { return }
                raw.assumingMemoryBound(to: ReleaseContext.self).pointee.drop(UInt(start)..<UInt(end))
            }, pointer)
        }
        return context.releasedKiB
    }

    /// The droppable mappings, and which of them had pages dropped.
    struct ReleaseContext {
        var ranges: [Range]
        var dropped: [Bool]
        let pageSize = UInt(max(4096, sysconf(Int32(_SC_PAGESIZE))))

        init(ranges: [Range]) {
            self.ranges = ranges
            dropped = [Bool](repeating: false, count: ranges.count)
        }

        /// Drops the pages of `segment` (widened to whole pages) that lie in a droppable mapping.
        mutating func drop(_ segment: Swift.Range<UInt>) {
            let widened = (segment.lowerBound & ~(pageSize - 1))..<((segment.upperBound + pageSize - 1) & ~(pageSize - 1))
            for (index, part) in StartupPages.overlaps(of: widened, with: ranges) {
                guard let base = UnsafeMutableRawPointer(bitPattern: part.lowerBound) else { continue }
                if madvise(base, Int(part.upperBound - part.lowerBound), MADV_DONTNEED) == 0 { dropped[index] = true }
            }
        }

        var releasedKiB: Int {
            zip(ranges, dropped).reduce(0) { $0 + ($1.1 ? $1.0.residentKiB : 0) }
        }
    }

    /// The non-empty overlaps of `segment` with each of `ranges`, with the index of the range.
    static func overlaps(of segment: Swift.Range<UInt>, with ranges: [Range]) -> [(index: Int, part: Swift.Range<UInt>)] {
        var result: [(index: Int, part: Swift.Range<UInt>)] = []
        for (index, range) in ranges.enumerated() {
            let lower = max(segment.lowerBound, range.start)
            let upper = min(segment.upperBound, range.end)
            if lower < upper { result.append((index, lower..<upper)) }
        }
        return result
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
            guard let nibble = ASCII.hexValue(byte) else { return nil }
            value = value << 4 | UInt(nibble)
        }
        return value
    }
}
