// ForwardedHeaders: the client behind trusted proxies (SPEC §7). Only when the peer is in
// `trustedProxies` are X-Forwarded-For and X-Forwarded-Proto read at all. X-Forwarded-For
// is read from the right, as nginx's realip module does with `real_ip_recursive on`: each
// proxy appends the address it received the request from, so the rightmost entries were
// written by our own proxies and the left end by whoever sent the request (anyone can
// forge it). The client is the first entry from the right that is not trusted; when every
// entry is trusted, the leftmost. An entry that is not an address stops the walk, and the
// last address read stands. Several X-Forwarded-For fields count as one list, in order.

struct ForwardedClient {
    /// The client's address in canonical text (nil: keep the peer's).
    var client: String?
    /// X-Forwarded-Proto said https (only believed from a trusted peer).
    var https: Bool
}

enum ForwardedHeaders {
    static let forwardedFor = Array("x-forwarded-for".utf8)
    static let forwardedProto = Array("x-forwarded-proto".utf8)
    static let https = Array("https".utf8)

    /// What the headers of `head` say about the client, given that `peer` sent it; nil when
    /// the peer is not trusted (the headers are then ignored).
    static func resolve(_ head: RequestHead, peer: String, trusted: TrustedProxies) -> ForwardedClient? {
        guard !trusted.isEmpty, let peerAddress = IPAddress(peer), trusted.contains(peerAddress) else { return nil }
        var entries: [ArraySlice<UInt8>] = []
        var proto: ArraySlice<UInt8>?
        for field in head.fields {
            let name = head.bytes[field.name]
            if equalsLowercase(name, forwardedFor) {
                entries += head.bytes[field.value].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            } else if proto == nil, equalsLowercase(name, forwardedProto) {
                proto = head.bytes[field.value]
            }
        }
        var result = ForwardedClient(client: nil, https: false)
        if let proto {
            // The first value: what the first proxy saw (a chain may append its own).
            let first = trim(proto.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).first ?? [])
            result.https = equalsLowercase(first, https)
        }
        var current = peerAddress
        for entry in entries.reversed() {
            guard trusted.contains(current), let address = parseEntry(trim(entry)) else { break }
            current = address
        }
        if current != peerAddress { result.client = current.text }
        return result
    }

    /// One X-Forwarded-For entry: an address, "[IPv6]" or "[IPv6]:port", or "IPv4:port"
    /// (some load balancers add the port).
    static func parseEntry(_ entry: ArraySlice<UInt8>) -> IPAddress? {
        if entry.first == UInt8(ascii: "[") {
            guard let close = entry.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            let rest = entry[(close + 1)...]
            guard rest.isEmpty || (rest.first == UInt8(ascii: ":") && isPort(rest.dropFirst())) else { return nil }
            return IPAddress(utf8: entry[(entry.startIndex + 1)..<close])
        }
        let colons = entry.lazy.filter { $0 == UInt8(ascii: ":") }.count
        if colons == 1, let colon = entry.firstIndex(of: UInt8(ascii: ":")) {
            guard isPort(entry[(colon + 1)...]) else { return nil }
            return IPAddress(utf8: entry[..<colon])
        }
        return IPAddress(utf8: entry)
    }

    private static func isPort(_ digits: ArraySlice<UInt8>) -> Bool {
        !digits.isEmpty && digits.count <= 5 && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    private static func trim(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }

    private static func equalsLowercase(_ bytes: ArraySlice<UInt8>, _ lower: [UInt8]) -> Bool {
        guard bytes.count == lower.count else { return false }
        return zip(bytes, lower).allSatisfy { asciiLower($0) == $1 }
    }
}
