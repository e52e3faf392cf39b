// ProxyProtocolHeader: HAProxy's PROXY protocol, versions 1 (text) and 2 (binary), as a
// listener with `"proxyProtocol": true` requires it at the start of every connection
// (SPEC §7; the specification is haproxy.org's proxy-protocol.txt). Parsed strictly: one
// header, exactly as the specification writes it, or the connection is closed. The header
// comes before anything else on the connection, TLS included, so the connection peeks at
// the socket, parses, and then consumes exactly the header's bytes.
import Glibc

enum ProxyProtocolHeader {
    /// The largest header accepted: v1 is at most 107 bytes; v2 is 16 + its length, and
    /// its TLVs are bounded here (HAProxy's own limit is in this range).
    static let maxLength = 16 + 2048
    static let v1MaxLength = 107
    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    static let v1Prefix = Array("PROXY ".utf8)

    enum Parsed: Equatable {
        /// A prefix of a valid header: wait for more bytes.
        case needMore
        /// Not a PROXY header, or a malformed one: close the connection.
        case invalid(String)
        /// `length` bytes of header; `source`: the client's address (nil: LOCAL or UNKNOWN,
        /// keep the connection's own peer address).
        case complete(length: Int, source: IPAddress?)
    }

    static func parse(_ bytes: ArraySlice<UInt8>) -> Parsed {
        if bytes.isEmpty { return .needMore }
        let isV2 = zip(bytes, v2Signature).allSatisfy { $0 == $1 }
        if isV2 { return bytes.count < v2Signature.count ? .needMore : parseV2(bytes) }
        let isV1 = zip(bytes, v1Prefix).allSatisfy { $0 == $1 }
        if isV1 { return parseV1(bytes) }
        return .invalid("not a PROXY protocol header")
    }

    // MARK: - Version 1: "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n"

    private static func parseV1(_ bytes: ArraySlice<UInt8>) -> Parsed {
        guard let cr = bytes.firstIndex(of: 0x0D) else {
            if let lf = bytes.firstIndex(of: 0x0A) { return .invalid("LF without CR at byte \(lf - bytes.startIndex)") }
            return bytes.count >= v1MaxLength ? .invalid("no CRLF within \(v1MaxLength) bytes") : .needMore
        }
        let length = cr - bytes.startIndex + 2
        guard length <= v1MaxLength else { return .invalid("no CRLF within \(v1MaxLength) bytes") }
        guard cr + 1 < bytes.endIndex else { return .needMore }
        guard bytes[cr + 1] == 0x0A else { return .invalid("CR not followed by LF") }
        let line = bytes[(bytes.startIndex + v1Prefix.count)..<cr]
        let fields = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard let family = fields.first else { return .invalid("no protocol") }
        if family.elementsEqual("UNKNOWN".utf8) {
            // The rest of the line may be anything printable; the addresses are not used.
            guard line.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return .invalid("control byte in UNKNOWN line") }
            return .complete(length: length, source: nil)
        }
        let isV4 = family.elementsEqual("TCP4".utf8)
        guard isV4 || family.elementsEqual("TCP6".utf8) else { return .invalid("unknown protocol") }
        guard fields.count == 5 else { return .invalid("expected 4 fields after \(isV4 ? "TCP4" : "TCP6")") }
        for address in fields[1...2] where address.contains(UInt8(ascii: ":")) == isV4 {
            return .invalid("address of the wrong family")
        }
        guard let source = IPAddress(utf8: fields[1]), IPAddress(utf8: fields[2]) != nil else { return .invalid("bad address") }
        guard isPort(fields[3]), isPort(fields[4]) else { return .invalid("bad port") }
        return .complete(length: length, source: source)
    }

    /// 0-65535 in decimal without leading zeros.
    private static func isPort(_ digits: ArraySlice<UInt8>) -> Bool {
        guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        if digits.count > 1 && digits.first == 0x30 { return false }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) } <= 65535
    }

    // MARK: - Version 2: signature, version/command, family/transport, length, addresses, TLVs

    private static func parseV2(_ bytes: ArraySlice<UInt8>) -> Parsed {
        guard bytes.count >= 16 else { return .needMore }
        let base = bytes.startIndex
        let versionCommand = bytes[base + 12]
        guard versionCommand >> 4 == 2 else { return .invalid("version \(versionCommand >> 4)") }
        let command = versionCommand & 0x0F
        guard command <= 1 else { return .invalid("command \(command)") }
        let familyTransport = bytes[base + 13]
        let family = familyTransport >> 4
        let transport = familyTransport & 0x0F
        guard family <= 3, transport <= 2 else { return .invalid("family/transport \(familyTransport)") }
        let payload = Int(bytes[base + 14]) << 8 | Int(bytes[base + 15])
        let length = 16 + payload
        guard length <= maxLength else { return .invalid("header of \(length) bytes") }
        guard bytes.count >= length else { return .needMore }
        if command == 0 { return .complete(length: length, source: nil) }   // LOCAL: the proxy's own connection
        guard transport != 2 else { return .invalid("DGRAM on a stream listener") }
        let addresses = bytes[(base + 16)..<(base + length)]
        switch family {
        case 1:
            guard addresses.count >= 12 else { return .invalid("INET addresses need 12 bytes") }
            return .complete(length: length, source: IPAddress(v4: load(in_addr(), from: addresses)))
        case 2:
            guard addresses.count >= 36 else { return .invalid("INET6 addresses need 36 bytes") }
            return .complete(length: length, source: IPAddress(v6: load(in6_addr(), from: addresses)))
        case 3:
            guard addresses.count >= 216 else { return .invalid("UNIX addresses need 216 bytes") }
            return .complete(length: length, source: nil)
        default:
            return .complete(length: length, source: nil)   // UNSPEC: the receiver ignores the addresses
        }
    }

    /// `value` with its bytes replaced by the first bytes of `bytes` (network order, as
    /// the header carries them and in_addr/in6_addr hold them).
    private static func load<Address>(_ value: Address, from bytes: ArraySlice<UInt8>) -> Address {
        var address = value
        withUnsafeMutableBytes(of: &address) { raw in
            for i in 0..<raw.count { raw[i] = bytes[bytes.startIndex + i] }
        }
        return address
    }
}
