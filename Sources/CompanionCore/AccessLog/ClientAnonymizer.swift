// ClientAnonymizer: `accessLog.anonymizeClients` (SPEC §2). Zeroes the last
// IPv4 octet or the last 80 bits of an IPv6 address before the address is
// stored. Runs on the writer thread, never on an event loop.
import Glibc

/// Masks client addresses for storage.
///
/// SECURITY: the log keeps a /24 (IPv4) or /48 (IPv6) network, enough to tell
/// networks apart for statistics but not to single out a household. IPv4-mapped
/// IPv6 addresses (`::ffff:192.0.2.7`) are masked as IPv4, otherwise the whole
/// IPv4 address would sit in the kept bits. A zone (`fe80::1%eth0`) is dropped.
/// Text that is not an IP address (nothing the server produces) is stored as `-`
/// rather than risk keeping an identifier we cannot mask.
public enum ClientAnonymizer {
    /// The masked form of `client`: `192.0.2.7` → `192.0.2.0`, `2001:db8:1:2::7` → `2001:db8:1::`.
    public static func anonymize(_ client: String) -> String {
        var v4 = in_addr()
        if inet_pton(AF_INET, client, &v4) == 1 {
            withUnsafeMutableBytes(of: &v4) { $0[3] = 0 }
            return text(family: AF_INET, &v4) ?? "-"
        }
        let address = client.split(separator: "%", maxSplits: 1).first.map(String.init) ?? client
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address, &v6) == 1 else { return "-" }
        withUnsafeMutableBytes(of: &v6) { bytes in
            let isMappedV4 = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
            if isMappedV4 {
                bytes[15] = 0
            } else {
                for index in 6..<16 { bytes[index] = 0 }  // keep 48 bits, zero 80
            }
        }
        return text(family: AF_INET6, &v6) ?? "-"
    }

    /// `inet_ntop` of an address structure.
    private static func text<Address>(family: Int32, _ address: inout Address) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let result = withUnsafeBytes(of: &address) { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        guard result != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
