// HTTPSURL: the parts of an https:// URL the ACME client connects to. Only what ACME
// directories and their links use: a host name or IPv4 address, an optional port, a path
// with its query. No user info, no fragments.

struct HTTPSURL: Equatable, Sendable, CustomStringConvertible {
    var host: String
    var port: Int
    /// Starts with "/"; includes the query.
    var target: String

    init?(_ text: String) {
        guard text.hasPrefix("https://") else { return nil }
        let rest = text.dropFirst("https://".count)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if let hash = target.firstIndex(of: "#") { target = String(target[..<hash]) }
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        guard !authority.isEmpty, !authority.contains("@"), !authority.contains("[") else { return nil }
        var host = Substring(authority)
        var port = 443
        if let colon = authority.lastIndex(of: ":") {
            guard let value = Int(authority[authority.index(after: colon)...]), (1...65535).contains(value) else { return nil }
            port = value
            host = authority[..<colon]
        }
        guard !host.isEmpty, host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
              target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        self.host = host.lowercased()
        self.port = port
        self.target = target
    }

    var description: String { port == 443 ? "https://\(host)\(target)" : "https://\(host):\(port)\(target)" }
}
