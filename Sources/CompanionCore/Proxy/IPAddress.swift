// IPAddress and AddressRange: client addresses as 16 bytes (IPv4 as ::ffff:a.b.c.d) so one
// comparison serves both families, for `trustedProxies` (SPEC §7) and the addresses that
// X-Forwarded-For and PROXY headers carry. Parsing is inet_pton's: numeric only, no
// names, no zone ids, no leading zeros in IPv4.
import CLinux
import Glibc

struct IPAddress: Equatable, Sendable {
    /// Network order; IPv4 is mapped into ::ffff:0:0/96.
    var bytes: (UInt64, UInt64)

    init(v4 address: in_addr) {
        bytes = (0, UInt64(0xFFFF) << 32 | UInt64(UInt32(bigEndian: address.s_addr)))
    }

    init(v6 address: in6_addr) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        withUnsafeBytes(of: address) { raw in
            for i in 0..<8 { high = high << 8 | UInt64(raw[i]) }
            for i in 8..<16 { low = low << 8 | UInt64(raw[i]) }
        }
        bytes = (high, low)
    }

    /// A numeric IPv4 or IPv6 address (the text of a log field, a header entry, a config).
    init?(_ text: some StringProtocol) {
        self.init(utf8: Array(text.utf8)[...])
    }

    init?(utf8 text: ArraySlice<UInt8>) {
        guard !text.isEmpty, text.count <= 45 else { return nil }
        // Only the characters of a numeric address: inet_pton reads a C string, so a NUL
        // would end the text early and accept what follows it (found by fuzz/run.sh proxy:
        // "2001:db8::1\0\n..." in a PROXY v1 header parsed as 2001:db8::1).
        for byte in text {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
                 UInt8(ascii: "A")...UInt8(ascii: "F"), UInt8(ascii: ":"), UInt8(ascii: "."): continue
            default: return nil
            }
        }
        var terminated = Array(text)
        terminated.append(0)
        if text.contains(UInt8(ascii: ":")) {
            var address = in6_addr()
            let ok = terminated.withUnsafeBufferPointer { inet_pton(AF_INET6, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), &address) }
            guard ok == 1 else { return nil }
            self.init(v6: address)
        } else {
            var address = in_addr()
            let ok = terminated.withUnsafeBufferPointer { inet_pton(AF_INET, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), &address) }
            guard ok == 1 else { return nil }
            self.init(v4: address)
        }
    }

    static func == (a: IPAddress, b: IPAddress) -> Bool { a.bytes == b.bytes }

    var isV4: Bool { bytes.0 == 0 && bytes.1 >> 32 == 0xFFFF }

    /// Canonical text: dotted quad for IPv4 (and IPv4-mapped IPv6), RFC 5952 for IPv6.
    var text: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        if isV4 {
            var address = in_addr(s_addr: UInt32(truncatingIfNeeded: bytes.1).bigEndian)
            inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count))
        } else {
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { raw in
                for i in 0..<8 { raw[i] = UInt8(truncatingIfNeeded: bytes.0 >> (56 - 8 * UInt64(i))) }
                for i in 0..<8 { raw[8 + i] = UInt8(truncatingIfNeeded: bytes.1 >> (56 - 8 * UInt64(i))) }
            }
            inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An address or a CIDR range: "10.0.0.0/8", "::1", "fd00::/8", "192.168.1.7".
struct AddressRange: Equatable, Sendable {
    let network: IPAddress
    /// Prefix length over the 128-bit form (an IPv4 /8 is /104 here).
    let prefix: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        let maxPrefix = address.isV4 ? 32 : 128
        var length = maxPrefix
        if parts.count == 2 {
            guard let written = Int(parts[1]), parts[1].allSatisfy(\.isASCII), parts[1].first != "+",
                  (0...maxPrefix).contains(written) else { return nil }
            length = written
        }
        prefix = address.isV4 ? length + 96 : length
        network = Self.masked(address, prefix)
        // "10.0.0.1/8" has host bits set: refused, as a typo for something else is likely.
        guard network == address else { return nil }
    }

    func contains(_ address: IPAddress) -> Bool {
        Self.masked(address, prefix) == network
    }

    private static func masked(_ address: IPAddress, _ prefix: Int) -> IPAddress {
        var result = address
        let highMask: UInt64 = prefix >= 64 ? ~0 : (prefix == 0 ? 0 : ~0 << (64 - UInt64(prefix)))
        let lowBits = max(0, prefix - 64)
        let lowMask: UInt64 = lowBits >= 64 ? ~0 : (lowBits == 0 ? 0 : ~0 << (64 - UInt64(lowBits)))
        result.bytes = (address.bytes.0 & highMask, address.bytes.1 & lowMask)
        return result
    }
}

/// `trustedProxies`: the peers whose X-Forwarded-For / X-Forwarded-Proto (and PROXY
/// protocol headers) are believed.
public struct TrustedProxies: Sendable, Equatable {
    let ranges: [AddressRange]

    init(_ ranges: [AddressRange]) { self.ranges = ranges }

    public static let none = TrustedProxies([])

    var isEmpty: Bool { ranges.isEmpty }

    func contains(_ address: IPAddress) -> Bool {
        ranges.contains { $0.contains(address) }
    }

    func contains(_ text: String) -> Bool {
        guard let address = IPAddress(text) else { return false }
        return contains(address)
    }
}
