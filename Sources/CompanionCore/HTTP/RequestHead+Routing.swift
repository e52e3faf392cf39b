// RequestHead+Routing: the host name that picks the site (SPEC §3 "Routing").
// Owns only the extraction and normalisation; the site lookup lives with the router.

extension RequestHead {
    /// The host part that routes this request, as a range of `bytes`: the authority of an absolute-form
    /// target if present (RFC 9112 §3.2.2: it replaces Host), else the Host value; port and one trailing
    /// dot removed, not lowercased. nil when there is neither; an empty range for an empty Host.
    /// Lets a router compare bytes without building a String.
    public var routingHostBytes: Range<Int>? {
        let r: Range<Int>
        if let authority = absoluteAuthority {
            r = authority
        } else if let host = hostFieldHost {
            // The parser's Host check found where the host ends (before the port; an IP literal
            // with its brackets): only a trailing dot is left to remove.
            if host.count > 0 && bytes[host.upperBound - 1] == UInt8(ascii: ".") { return host.lowerBound..<host.upperBound - 1 }
            return host
        } else {
            return nil
        }
        guard !r.isEmpty else { return r }
        var end = r.upperBound
        if bytes[r.lowerBound] == UInt8(ascii: "[") {
            // IP-literal: the parser checked it ends with "]" before any port.
            var i = r.lowerBound
            while i < r.upperBound && bytes[i] != UInt8(ascii: "]") { i += 1 }
            return r.lowerBound..<min(i + 1, r.upperBound)
        }
        // reg-name and IPv4address contain no ":", so the first one starts the port (RFC 3986 §3.2).
        var i = r.lowerBound
        while i < end && bytes[i] != UInt8(ascii: ":") { i += 1 }
        end = i
        if end > r.lowerBound && bytes[end - 1] == UInt8(ascii: ".") { end -= 1 }
        return r.lowerBound..<end
    }

    /// The routing host, lowercased: `Example.COM.:8080` → `example.com`, `[::1]:8080` → `[::1]`.
    /// nil when there is no Host (and no absolute-form authority); "" when Host is empty. Allocates.
    public var routingHost: String? {
        guard let r = routingHostBytes else { return nil }
        var out = ""
        out.reserveCapacity(r.count)
        // The parser admitted only ASCII here (reg-name, IPv4, IP-literal syntax).
        for b in bytes[r] { out.unicodeScalars.append(Unicode.Scalar(asciiLower(b))) }
        return out
    }

    /// The first field with this known name.
    func firstField(_ name: HeaderName) -> HeaderField? {
        guard knownSeen & name.bit != 0 else { return nil }
        for field in fields where field.known == name { return field }
        return nil
    }
}
