// ListingRenderer: sorts directory entries and renders them as an HTML page or a
// JSON array (SPEC §3 Listing). It never touches the disk (PathResolver.listDirectory
// decides what is listed) and never sees a file-system path, only the request path.

/// The `?sort=` key of a listing.
public enum ListingSort: String, Sendable {
    case name, size, mtime
}

/// The `?order=` of a listing.
public enum ListingOrder: String, Sendable {
    case asc, desc
}

/// Sorting and rendering of directory listings.
public enum ListingRenderer {
    /// The `Content-Security-Policy` for listing and error pages: nothing may load or run;
    /// only the page's own inline `<style>` applies (a file name that slips past escaping
    /// still cannot run or load anything).
    public static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// Sorts entries: directories always first, then by `key` in `order`.
    ///
    /// The default (`.name`, `.asc`) is SPEC's order: names compared case-insensitively
    /// (ASCII letters folded; other bytes compared as they are), raw bytes breaking ties.
    /// For `.size` and `.mtime`, equal keys fall back to ascending name order.
    public static func sort(_ entries: inout [DirectoryEntry], by key: ListingSort, order: ListingOrder) {
        entries.sort { a, b in precedes(a, b, by: key, order: order) }
    }

    /// Sorts like `sort(_:by:order:)` and keeps the first `limit` entries; returns how many
    /// were dropped. Above the limit only the kept entries are fully sorted (a bounded
    /// selection: O(n log limit) comparisons, not O(n log n)).
    public static func sort(_ entries: inout [DirectoryEntry], by key: ListingSort, order: ListingOrder,
                            keepingAtMost limit: Int) -> Int {
        let total = entries.count
        guard total > limit else {
            sort(&entries, by: key, order: order)
            return 0
        }
        // A max-heap (by the listing order) of the best `limit` entries seen so far.
        let before = { (a: DirectoryEntry, b: DirectoryEntry) in precedes(a, b, by: key, order: order) }
        var heap = Array(entries[..<limit])
        heap.reserveCapacity(limit)
        for index in stride(from: limit / 2 - 1, through: 0, by: -1) { siftDown(&heap, from: index, before: before) }
        for entry in entries[limit...] where before(entry, heap[0]) {
            heap[0] = entry
            siftDown(&heap, from: 0, before: before)
        }
        heap.sort(by: before)
        entries = heap
        return total - limit
    }

    /// Restores the max-heap property below `start` (the root is the entry listed last).
    private static func siftDown(_ heap: inout [DirectoryEntry], from start: Int,
                                 before: (DirectoryEntry, DirectoryEntry) -> Bool) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var largest = left
            if left + 1 < heap.count, before(heap[left], heap[left + 1]) { largest = left + 1 }
            guard before(heap[parent], heap[largest]) else { return }
            heap.swapAt(parent, largest)
            parent = largest
        }
    }

    /// Whether `a` is listed before `b`.
    static func precedes(_ a: DirectoryEntry, _ b: DirectoryEntry, by key: ListingSort, order: ListingOrder) -> Bool {
        if a.isDirectory != b.isDirectory { return a.isDirectory }
        let primary: Int
        switch key {
        case .name: primary = compareNames(a.name, b.name)
        case .size: primary = a.size == b.size ? 0 : (a.size < b.size ? -1 : 1)
        case .mtime: primary = a.mtimeSeconds == b.mtimeSeconds ? 0 : (a.mtimeSeconds < b.mtimeSeconds ? -1 : 1)
        }
        if primary != 0 { return order == .asc ? primary < 0 : primary > 0 }
        return compareNames(a.name, b.name) < 0
    }

    /// Three-way comparison: ASCII case-insensitive first, then raw bytes.
    static func compareNames(_ a: [UInt8], _ b: [UInt8]) -> Int {
        func fold(_ byte: UInt8) -> UInt8 {
            byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
        }
        for (x, y) in zip(a, b) where fold(x) != fold(y) { return fold(x) < fold(y) ? -1 : 1 }
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return 0
    }

    /// Renders the HTML listing page (UTF-8), entries in the given order.
    ///
    /// SECURITY: names are HTML-escaped in text and percent-encoded per segment in links
    /// (two encoders, one per context: one escaper for both is how listings got XSS);
    /// serve with `contentSecurityPolicy` and
    /// `X-Content-Type-Options: nosniff`.
    /// - Parameters:
    ///   - displayPath: the normalised request path of the directory, e.g. `/docs/`.
    ///   - isRoot: true for the site root (no `../` link).
    ///   - omitted: entries left out by the listing's cap; > 0 adds a row that says so.
    public static func html(entries: [DirectoryEntry], displayPath: String, isRoot: Bool, omitted: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(600 + entries.count * 160)
        out.append(contentsOf: "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n".utf8)
        out.append(contentsOf: "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n".utf8)
        out.append(contentsOf: "<title>Index of ".utf8)
        ListingEscaper.appendHTMLText(displayPath.utf8, into: &out)
        out.append(contentsOf: "</title>\n".utf8)
        out.append(contentsOf: style.utf8)
        out.append(contentsOf: "</head>\n<body>\n<h1>Index of ".utf8)
        ListingEscaper.appendHTMLText(displayPath.utf8, into: &out)
        out.append(contentsOf: "</h1>\n<table>\n".utf8)
        out.append(contentsOf: "<thead><tr><th>Name</th><th>Size</th><th>Modified (UTC)</th></tr></thead>\n<tbody>\n".utf8)
        if !isRoot {
            out.append(contentsOf: "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n".utf8)
        }
        for entry in entries {
            out.append(contentsOf: "<tr><td><a href=\"".utf8)
            ListingEscaper.appendHref(entry.name, isDirectory: entry.isDirectory, into: &out)
            out.append(contentsOf: "\">".utf8)
            ListingEscaper.appendHTMLText(entry.name, into: &out)
            if entry.isDirectory { out.append(UInt8(ascii: "/")) }
            out.append(contentsOf: "</a></td><td".utf8)
            if entry.isDirectory {
                out.append(contentsOf: ">-".utf8)
            } else {
                out.append(contentsOf: " title=\"\(entry.size) bytes\">".utf8)
                out.append(contentsOf: humanSize(entry.size).utf8)
            }
            out.append(contentsOf: "</td><td>".utf8)
            // "2026-11-27T03:25:00Z" → "2026-11-27 03:25"
            let stamp = HTTPDate.rfc3339(epochSeconds: entry.mtimeSeconds, milliseconds: nil).utf8
            out.append(contentsOf: stamp.prefix(10))
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: stamp.dropFirst(11).prefix(5))
            out.append(contentsOf: "</td></tr>\n".utf8)
        }
        if omitted > 0 {
            let noun = omitted == 1 ? "entry" : "entries"
            out.append(contentsOf: "<tr class=\"omitted\"><td colspan=\"3\">\(grouped(omitted)) more \(noun) not shown</td></tr>\n".utf8)
        }
        out.append(contentsOf: "</tbody>\n</table>\n</body>\n</html>\n".utf8)
        return out
    }

    private static let style = """
        <style>
        body{font-family:system-ui,sans-serif;margin:2em;color:#222}
        table{border-collapse:collapse}
        th,td{padding:.2em 1.2em .2em 0;text-align:left}
        td+td,th+th{text-align:right;font-variant-numeric:tabular-nums}
        a{text-decoration:none}a:hover{text-decoration:underline}
        </style>

        """

    /// `99988` → `99,988`.
    static func grouped(_ number: Int) -> String {
        let digits = Array(String(number))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out
    }

    /// Sizes as people read them: `999 B`, `1.0 KiB`, `2.5 MiB` (binary units, one decimal).
    static func humanSize(_ size: Int) -> String {
        guard size >= 1024 else { return "\(max(size, 0)) B" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
        var unit = 0
        var divisor = 1024
        while unit < units.count - 1, size / divisor >= 1024 {
            divisor *= 1024
            unit += 1
        }
        var whole = size / divisor
        // Round to tenths; remainder × 10 < 2^54, so no overflow.
        var tenths = ((size % divisor) * 10 + divisor / 2) / divisor
        if tenths == 10 {
            whole += 1
            tenths = 0
        }
        return "\(whole).\(tenths) \(units[unit])"
    }

    /// Renders the JSON listing: `[{"name":…,"type":"file"|"dir","size":…,"mtime":…}]`
    /// (SPEC §3), names without a trailing slash, mtime in RFC 3339 UTC.
    public static func json(entries: [DirectoryEntry]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(2 + entries.count * 96)
        for (index, entry) in entries.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: "{\"name\":".utf8)
            ListingEscaper.appendJSONString(entry.name, into: &out)
            out.append(contentsOf: (entry.isDirectory ? ",\"type\":\"dir\"" : ",\"type\":\"file\"").utf8)
            out.append(contentsOf: ",\"size\":".utf8)
            HTTPDate.appendDigits(entry.size, width: 1, into: &out)
            out.append(contentsOf: ",\"mtime\":\"".utf8)
            out.append(contentsOf: HTTPDate.rfc3339(epochSeconds: entry.mtimeSeconds, milliseconds: nil).utf8)
            out.append(contentsOf: "\"}".utf8)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }
}
