// BasicAuthPlugin+Credentials: the `Authorization: Basic <token68>` header
// (RFC 7617 §2, RFC 9110 §11.6.2) parsed from bytes, with a hand-written base64
// decoder (RFC 4648 §4), so no String is built before the user is known.

extension BasicAuthPlugin {
    /// Encoded credentials longer than this are refused (a user name and password
    /// of a few hundred bytes at most; the header limit bounds it anyway).
    static let maxTokenBytes = 4096

    /// The user and password bytes of a Basic `Authorization` value, or nil when the
    /// scheme is not Basic, the token is not valid base64, or there is no colon.
    static func basicCredentials(_ value: ArraySlice<UInt8>) -> (user: ArraySlice<UInt8>, password: ArraySlice<UInt8>)? {
        var rest = value.drop { $0 == 0x20 || $0 == 0x09 }
        let scheme = rest.prefix { $0 != 0x20 }
        // The auth-scheme is case-insensitive (RFC 9110 §11.1).
        guard AcceptEncoding.matches(scheme, "basic") else { return nil }
        rest = rest.dropFirst(scheme.count).drop { $0 == 0x20 }
        while let last = rest.last, last == 0x20 || last == 0x09 { rest = rest.dropLast() }
        guard !rest.isEmpty, rest.count <= maxTokenBytes, let decoded = base64Decode(rest) else { return nil }
        let bytes = decoded[...]
        // RFC 7617 §2: the user-id ends at the first colon; the password may contain colons.
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        return (bytes[..<colon], bytes[(colon + 1)...])
    }

    /// Standard base64 (RFC 4648 §4) with `=` padding, which may be omitted; nil for
    /// any other byte, misplaced padding, or a length that cannot be base64.
    static func base64Decode<C: Collection>(_ input: C) -> [UInt8]? where C.Element == UInt8 {
        var output: [UInt8] = []
        output.reserveCapacity(input.count / 4 * 3 + 3)
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        var count = 0
        for byte in input {
            count += 1
            if byte == UInt8(ascii: "=") {
                padding += 1
                guard padding <= 2 else { return nil }
                continue
            }
            guard padding == 0, let value = sextet(byte) else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        let dataCount = count - padding
        // A lone sextet cannot encode a byte; padding, when present, completes a quartet.
        guard dataCount % 4 != 1, padding == 0 || count % 4 == 0 else { return nil }
        // Unused low bits must be zero (RFC 4648 §3.5: canonical encoding).
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
