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

    /// `listen`: one address or a non-empty list; an entry is `"HOST:PORT"` or
    /// `{"address": "HOST:PORT", "tls": true, "proxyProtocol": true}` (SPEC §6, §7). The same non-zero address twice is a
    /// problem (the second bind would fail with EADDRINUSE).
    func readListen(_ value: JSONValue, at path: String, into validator: inout ConfigValidator) -> [ListenAddress]? {
        let entries: [(value: JSONValue, path: String)]
        if value.arrayValue != nil {
            guard let elements = validator.array(value, at: path, nonEmpty: true) else { return nil }
            entries = elements.enumerated().map { ($0.element, ConfigProblem.keyPath(path, index: $0.offset)) }
        } else if value.objectValue != nil {
            entries = [(value, path)]
        } else {
            guard let list = validator.stringOrList(value, at: path) else { return nil }
            entries = list
        }
        var addresses: [ListenAddress] = []
        var firstPath: [String: String] = [:]
        var isValid = true
        for entry in entries {
            var text: String?
            var tls = false
            var proxyProtocol = false
            if entry.value.objectValue != nil {
                guard let members = validator.object(entry.value, at: entry.path, allowed: ["address", "tls", "proxyProtocol"]) else {
                    isValid = false
                    continue
                }
                for (key, member) in members {
                    let memberPath = ConfigProblem.keyPath(entry.path, key)
                    switch key {
                    case "address": text = validator.string(member, at: memberPath)
                    case "tls": tls = validator.bool(member, at: memberPath) ?? false
                    case "proxyProtocol": proxyProtocol = validator.bool(member, at: memberPath) ?? false
                    default: break
                    }
                }
                if members.first(where: { $0.key == "address" }) == nil {
                    validator.reportMissing(ConfigProblem.keyPath(entry.path, "address"))
                }
            } else {
                text = validator.string(entry.value, at: entry.path)
            }
            guard let text else {
                isValid = false
                continue
            }
            guard var address = Self.parseListenAddress(text) else {
                validator.report(entry.path, "invalid address \(JSONValue.string(text).shortDescription); \(Self.listenForms)")
                isValid = false
                continue
            }
            address.tls = tls
            address.proxyProtocol = proxyProtocol
            if address.port != 0, let earlier = firstPath[address.description] {
                validator.report(entry.path, "\(address) is already listed at \(earlier)")
                isValid = false
                continue
            }
            firstPath[address.description] = entry.path
            addresses.append(address)
        }
        return isValid ? addresses : nil
    }
}
