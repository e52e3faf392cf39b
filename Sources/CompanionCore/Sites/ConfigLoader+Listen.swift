// ConfigLoader+Listen: the `listen` key and the HOST:PORT grammar shared with
// `serve --listen`. Only numeric addresses and `localhost` are accepted: a bind
// address is never looked up in DNS.

import Glibc

extension ConfigLoader {
    /// The accepted forms of a listen address, for messages (also `serve --listen` errors).
    public static let listenForms = "expected HOST:PORT with an IPv4 address, [IPv6 address] or localhost, and a port 0-65535"

    /// Parses `HOST:PORT`: `127.0.0.1:8080`, `[::1]:8080`, `localhost:0` (→ 127.0.0.1), `0.0.0.0:80`, `[::]:443`.
    ///
    /// The host is returned in canonical form (`[0:0::1]` → `::1`). IPv4 must be a dotted quad without
    /// leading zeros; the port is 0–65535 (0 = any free port).
    /// - Returns: `nil` when `s` is not of that form.
    public static func parseListenAddress(_ s: String) -> ListenAddress? {
        let bytes = Array(s.utf8)
        guard let colon = bytes.lastIndex(of: UInt8(ascii: ":")), let port = parsePort(bytes[(colon + 1)...]) else {
            return nil
        }
        let hostBytes = bytes[..<colon]
        if hostBytes.first == UInt8(ascii: "[") {
            guard hostBytes.count > 2, hostBytes.last == UInt8(ascii: "]") else { return nil }
            let inner = String(decoding: hostBytes.dropFirst().dropLast(), as: UTF8.self)
            guard let canonical = canonicalAddress(inner, family: AF_INET6) else { return nil }
            return ListenAddress(host: canonical, port: port, isIPv6: true)
        }
        let host = String(decoding: hostBytes, as: UTF8.self)
        if host.lowercased() == "localhost" { return ListenAddress(host: "127.0.0.1", port: port, isIPv6: false) }
        guard let canonical = canonicalAddress(host, family: AF_INET) else { return nil }
        return ListenAddress(host: canonical, port: port, isIPv6: false)
    }

    /// 1–5 ASCII digits, at most 65535.
    static func parsePort(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 5 else { return nil }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value <= 65535 ? value : nil
    }

    /// `inet_pton` then `inet_ntop`: validates a numeric address and returns its canonical text.
    /// glibc's `inet_pton(AF_INET)` takes only the dotted quad, without leading zeros.
    static func canonicalAddress(_ text: String, family: Int32) -> String? {
        guard !text.isEmpty, !text.contains("%") else { return nil }
        var storage = in6_addr()  // large enough for either family
        guard inet_pton(family, text, &storage) == 1 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, &storage, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `listen`: one address or a non-empty list; the same non-zero address twice is a problem
    /// (the second bind would fail with EADDRINUSE).
    func readListen(_ value: JSONValue, at path: String, into validator: inout ConfigValidator) -> [ListenAddress]? {
        guard let entries = validator.stringOrList(value, at: path) else { return nil }
        var addresses: [ListenAddress] = []
        var firstPath: [ListenAddress: String] = [:]
        var isValid = true
        for entry in entries {
            guard let text = validator.string(entry.value, at: entry.path) else {
                isValid = false
                continue
            }
            guard let address = Self.parseListenAddress(text) else {
                validator.report(entry.path, "invalid address \(entry.value.shortDescription); \(Self.listenForms)")
                isValid = false
                continue
            }
            if address.port != 0, let earlier = firstPath[address] {
                validator.report(entry.path, "\(address) is already listed at \(earlier)")
                isValid = false
                continue
            }
            firstPath[address] = entry.path
            addresses.append(address)
        }
        return isValid ? addresses : nil
    }
}
