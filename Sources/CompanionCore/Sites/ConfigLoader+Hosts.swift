// ConfigLoader+Hosts: `sites[].host`: host names (RFC 1123 §2.1 labels), the
// `*.` wildcard prefix, bracketed IPv6 literals, and uniqueness across sites.
// Names are stored lowercased without a trailing dot, the form HostRouter expects.

import Glibc

extension ConfigLoader {
    /// `host`: one name or a non-empty list. Each valid name is claimed for `site`; a name another
    /// site already claimed is reported at its own key path.
    func readHosts(_ value: JSONValue, at path: String, site: Int, owners: inout [String: Int],
                   into validator: inout ConfigValidator) -> [String]? {
        guard let entries = validator.stringOrList(value, at: path) else { return nil }
        var hosts: [String] = []
        var isValid = true
        for entry in entries {
            guard let text = validator.string(entry.value, at: entry.path) else {
                isValid = false
                continue
            }
            let shown = entry.value.shortDescription
            switch Self.normalizeHostName(text) {
            case .failure(let reason):
                validator.report(entry.path, "invalid host name \(shown): \(reason.message)")
                isValid = false
            case .success(let name):
                if let owner = owners[name] {
                    let message = owner == site
                        ? "\(shown) is listed twice"
                        : "\(JSONValue.string(name).shortDescription) is already used by sites[\(owner)]"
                    validator.report(entry.path, message)
                    isValid = false
                } else {
                    owners[name] = site
                    hosts.append(name)
                }
            }
        }
        return isValid ? hosts : nil
    }

    /// Why a host name is invalid.
    struct HostNameFailure: Error {
        var message: String
    }

    /// Lowercases a configured host name and checks it: `example.test`, `*.example.test`,
    /// `127.0.0.1`, `[::1]`. A single trailing dot is dropped (`example.test.`).
    static func normalizeHostName(_ written: String) -> Result<String, HostNameFailure> {
        guard written.utf8.allSatisfy({ $0 < 0x80 }) else {
            return .failure(HostNameFailure(message: "write international names in their xn-- (punycode) form"))
        }
        var name = written.lowercased()
        if name.hasPrefix("[") {
            guard name.hasSuffix("]"), name.count > 2,
                  canonicalAddress(String(name.dropFirst().dropLast()), family: AF_INET6) != nil else {
                return .failure(HostNameFailure(message: "expected an IPv6 address in brackets, as in [::1]"))
            }
            return .success(name)
        }
        if name.hasSuffix(".") { name.removeLast() }
        if name.contains(":") {
            return .failure(HostNameFailure(message: "a host name has no port (the port of the Host header is ignored)"))
        }
        var labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if labels.first == "*" {
            labels.removeFirst()
            if labels.isEmpty {
                return .failure(HostNameFailure(message: "a wildcard needs a domain after \"*.\"; unknown hosts go to the default site"))
            }
        }
        guard name.utf8.count <= 253 else {
            return .failure(HostNameFailure(message: "longer than 253 characters"))
        }
        for label in labels {
            if let problem = labelProblem(label) { return .failure(HostNameFailure(message: problem)) }
        }
        return .success(name)
    }

    /// RFC 1123 §2.1: 1–63 letters, digits and hyphens, not starting or ending with a hyphen
    /// (underscores are accepted too, as they occur in internal names).
    static func labelProblem(_ label: Substring) -> String? {
        if label.isEmpty { return "empty label (two dots in a row, or a leading dot)" }
        if label.contains("*") { return "'*' is only allowed as the whole first label, as in *.example.test" }
        if label.utf8.count > 63 { return "label \"\(label)\" is longer than 63 characters" }
        let isAllowed = label.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        if !isAllowed { return "only letters, digits, '-' and '_' are allowed in a label" }
        if label.hasPrefix("-") || label.hasSuffix("-") { return "a label cannot start or end with '-'" }
        return nil
    }
}
