// HostRouter: picks the site for a request's host (SPEC §3 Routing). Exact names
// first, then wildcards (`*.example.test` matches `a.example.test` and
// `a.b.example.test`, not `example.test`; the longest suffix wins), else the
// default site. Built once per config; routing is on the request path, so it
// compares bytes, case-folds ASCII on the fly and allocates nothing.

/// Maps a host name to the index of the site that serves it.
///
/// Immutable after `init`; share one instance between all event loops.
public struct HostRouter: Sendable {
    /// The site that answers hosts no site names.
    public let defaultIndex: Int
    /// Exact names, lowercased, in the order the sites list them.
    private let names: [[UInt8]]
    private let nameSites: [Int]
    /// Open-addressing table (power-of-two size, at most half full) of indices into `names`; -1 = empty.
    private let slots: [Int32]
    /// Wildcard suffixes including the leading dot (`.example.test`), longest first.
    private let wildcardSuffixes: [[UInt8]]
    private let wildcardSites: [Int]

    /// Builds the tables from the sites' host lists.
    /// - Parameters:
    ///   - sites: the configured sites; their `hosts` are lowercased (``ConfigLoader`` ensures it).
    ///   - defaultIndex: the site for unknown or missing hosts.
    /// When a name appears twice (only possible for hand-built sites), the first site keeps it.
    public init(sites: [SiteConfig], defaultIndex: Int) {
        self.defaultIndex = defaultIndex
        var names: [[UInt8]] = []
        var nameSites: [Int] = []
        var wildcards: [(suffix: [UInt8], site: Int)] = []
        for (siteIndex, site) in sites.enumerated() {
            for host in site.hosts {
                let bytes = Array(host.lowercased().utf8)
                if bytes.starts(with: [UInt8(ascii: "*"), UInt8(ascii: ".")]) {
                    let suffix = Array(bytes.dropFirst())
                    if !wildcards.contains(where: { $0.suffix == suffix }) { wildcards.append((suffix, siteIndex)) }
                } else if !names.contains(bytes) {
                    names.append(bytes)
                    nameSites.append(siteIndex)
                }
            }
        }
        var size = 8
        while size < names.count * 2 { size *= 2 }
        var slots = [Int32](repeating: -1, count: size)
        for (index, name) in names.enumerated() {
            var slot = name.withUnsafeBufferPointer { Self.hash($0) } & (size - 1)
            while slots[slot] >= 0 { slot = (slot + 1) & (size - 1) }
            slots[slot] = Int32(index)
        }
        // Stable sort: among equally long suffixes the earlier site wins.
        let ordered = wildcards.enumerated().sorted { a, b in
            a.element.suffix.count != b.element.suffix.count
                ? a.element.suffix.count > b.element.suffix.count : a.offset < b.offset
        }.map(\.element)
        self.names = names
        self.nameSites = nameSites
        self.slots = slots
        self.wildcardSuffixes = ordered.map(\.suffix)
        self.wildcardSites = ordered.map(\.site)
    }

    /// The site for a host already lowercased with port and trailing dot removed; `nil` → default.
    /// (ASCII case is folded anyway, so a stray capital does not miss.)
    public func route(_ host: String?) -> Int {
        guard var host, !host.isEmpty else { return defaultIndex }
        return host.withUTF8 { route(normalized: $0) }
    }

    /// The site for a raw `Host` header value (RFC 9110 §7.2: `uri-host [ ":" port ]`): the port and
    /// one trailing dot are removed and ASCII case is folded here, without allocating.
    /// An IPv6 literal keeps its brackets (`[::1]:8080` → `[::1]`).
    public func route(hostHeader: UnsafeBufferPointer<UInt8>) -> Int {
        var end = hostHeader.count
        if hostHeader.first == UInt8(ascii: "[") {
            if let close = hostHeader.firstIndex(of: UInt8(ascii: "]")) { end = close + 1 }
        } else if let colon = hostHeader.firstIndex(of: UInt8(ascii: ":")) {
            end = colon
        }
        if end > 0 && hostHeader[end - 1] == UInt8(ascii: ".") { end -= 1 }
        return route(normalized: UnsafeBufferPointer(rebasing: hostHeader[0..<end]))
    }

    /// Exact table lookup, then the wildcard suffixes, then the default.
    private func route(normalized host: UnsafeBufferPointer<UInt8>) -> Int {
        guard !host.isEmpty else { return defaultIndex }
        let mask = slots.count - 1
        var slot = Self.hash(host) & mask
        while true {
            let entry = slots[slot]
            if entry < 0 { break }
            if Self.equalsFolded(host, from: 0, names[Int(entry)]) { return nameSites[Int(entry)] }
            slot = (slot + 1) & mask
        }
        for (index, suffix) in wildcardSuffixes.enumerated() where host.count > suffix.count {
            if Self.equalsFolded(host, from: host.count - suffix.count, suffix) { return wildcardSites[index] }
        }
        return defaultIndex
    }

    /// FNV-1a over the ASCII-lowercased bytes.
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(lowercased(byte))) &* 0x0000_0100_0000_01B3
        }
        return Int(truncatingIfNeeded: hash >> 1)
    }

    /// Whether `host[start...]` equals `lowercasedName`, folding ASCII case of `host`.
    private static func equalsFolded(_ host: UnsafeBufferPointer<UInt8>, from start: Int, _ lowercasedName: [UInt8]) -> Bool {
        guard host.count - start == lowercasedName.count else { return false }
        for offset in 0..<lowercasedName.count where lowercased(host[start + offset]) != lowercasedName[offset] {
            return false
        }
        return true
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
