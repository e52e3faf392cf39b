// RequestParserTests+Sweeps: every byte 0-255 in a method token, a field name, a field value and a
// request-target, checked against the RFC grammar written out here independently of the parser's tables.
import Testing
@testable import CompanionCore

/// RFC 9110 §5.6.2:
///     token = 1*tchar
///     tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
///             "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
private let rfcTchar: Set<UInt8> = Set("!#$%&'*+-.^_`|~0123456789".utf8)
    .union(Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8))

/// RFC 9110 §5.5:
///     field-value    = *field-content
///     field-content  = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
///     field-vchar    = VCHAR / obs-text
///     obs-text       = %x80-FF
/// RFC 5234 B.1: VCHAR = %x21-7E
private func rfcFieldValueByte(_ b: UInt8) -> Bool { b == 0x09 || b == 0x20 || (0x21...0x7E).contains(b) || b >= 0x80 }

/// RFC 9112 §3.2 (and our stricter rule): request-target bytes are VCHAR only.
private func rfcTargetByte(_ b: UInt8) -> Bool { (0x21...0x7E).contains(b) }

private let allBytes = Array(0...255).map { UInt8($0) }

extension RequestParserTests {
    @Test("byte in a method token", arguments: allBytes)
    func methodByteSweep(_ b: UInt8) {
        let c = ParseCase("method", "G§T / HTTP/1.1\r\nHost: a\r\n\r\n", byte: b, .ok)
        #expect(outcome(c.bytes) == (rfcTchar.contains(b) ? .ok : .status(400)))
    }

    @Test("byte in a field name", arguments: allBytes)
    func fieldNameByteSweep(_ b: UInt8) {
        let c = ParseCase("name", "GET / HTTP/1.1\r\nHost: a\r\nX§Y: v\r\n\r\n", byte: b, .ok)
        // ":" ends the name: "X:Y: v" is the field X with the value "Y: v".
        #expect(outcome(c.bytes) == (rfcTchar.contains(b) || b == UInt8(ascii: ":") ? .ok : .status(400)))
    }

    @Test("byte in a field value", arguments: allBytes)
    func fieldValueByteSweep(_ b: UInt8) {
        let c = ParseCase("value", "GET / HTTP/1.1\r\nHost: a\r\nX: a§b\r\n\r\n", byte: b, .ok)
        let result = outcome(c.bytes)
        #expect(result == (rfcFieldValueByte(b) ? .ok : .status(400)))
        // The value keeps the byte (trimming only touches the ends).
        if rfcFieldValueByte(b), case .complete(let head, _) = RequestParser().parse(c.bytes) {
            #expect(head.value(named: "x") == [UInt8(ascii: "a"), b, UInt8(ascii: "b")][...])
        }
    }

    @Test("byte at every position of a long field value", arguments: allBytes)
    func longFieldValueByteSweep(_ b: UInt8) {
        // Values of 8+ bytes are checked a word at a time; every offset within and after the words.
        let prefix = Array("GET / HTTP/1.1\r\nHost: a\r\nX: ".utf8)
        let suffix = Array("\r\n\r\n".utf8)
        for position in 1..<19 {
            var value = [UInt8](repeating: UInt8(ascii: "v"), count: 20)
            value[position] = b
            let expected: Outcome
            switch b {
            case 0x0A: expected = .status(400)  // the rest of the value becomes a line without a colon
            default: expected = rfcFieldValueByte(b) ? .ok : .status(400)
            }
            #expect(outcome(prefix + value + suffix) == expected, "position \(position)")
        }
    }

    @Test("byte in a request-target", arguments: allBytes)
    func targetByteSweep(_ b: UInt8) {
        let c = ParseCase("target", "GET /a§b HTTP/1.1\r\nHost: a\r\n\r\n", byte: b, .ok)
        #expect(outcome(c.bytes) == (rfcTargetByte(b) ? .ok : .status(400)))
    }

    @Test("byte as the first byte of a field line", arguments: allBytes)
    func fieldLineStartSweep(_ b: UInt8) {
        // A field line must start with a tchar; SP/HTAB would be obs-fold, LF/CR end the head early.
        let c = ParseCase("start", "GET / HTTP/1.1\r\nHost: a\r\n§X: v\r\n\r\n", byte: b, .ok)
        let expected: Outcome
        switch b {
        case 0x0A: expected = .ok  // "\n" is the empty line: the head ends before "X: v"
        default: expected = rfcTchar.contains(b) ? .ok : .status(400)
        }
        #expect(outcome(c.bytes) == expected)
    }

    /// The word-at-a-time value check against the RFC's byte rule, for every range of a 24-byte
    /// buffer holding one byte of each kind at each position (inside the range, before it, where
    /// the last word reaches back to, and after it) and a CRLF before a short range.
    @Test func fieldValueWordsAgreeWithTheBytes() {
        let kinds: [UInt8] = [0x00, 0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x41, 0x7E, 0x7F, 0x80, 0xFF]
        for kind in kinds {
            for position in 0..<24 {
                var buffer = [UInt8](repeating: 0x61, count: 24)
                buffer[position] = kind
                if position > 2 { buffer[position - 2] = 0x0D; buffer[position - 1] = 0x0A }
                buffer.withUnsafeBytes { p in
                    for from in 0...24 {
                        for to in from...24 {
                            let expected = (from..<to).allSatisfy { rfcFieldValueByte(buffer[$0]) }
                            #expect(allFieldValueBytes(p, from, to) == expected, "kind \(kind) at \(position), \(from)..<\(to)")
                        }
                    }
                }
            }
        }
    }

    /// The request-target is scanned eight bytes at a time for its end and its first `?`:
    /// every byte at every position of a long target, before, inside and after the words, with
    /// a later `?` that must not be taken for the first.
    @Test("byte at every position of a long request-target", arguments: allBytes)
    func longTargetByteSweep(_ b: UInt8) {
        let tail = Array("x?y".utf8)
        for position in 1..<22 {
            var target = [UInt8(ascii: "/")] + [UInt8](repeating: UInt8(ascii: "v"), count: 21) + tail
            target[position] = b
            let bytes = Array("GET ".utf8) + target + Array(" HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
            guard rfcTargetByte(b) else {
                #expect(outcome(bytes) == .status(400), "position \(position)")
                continue
            }
            guard case .complete(let head, _) = RequestParser().parse(bytes) else {
                Issue.record("position \(position): not parsed")
                continue
            }
            let question = target.firstIndex(of: UInt8(ascii: "?"))!
            #expect(Array(head.bytes[head.path]) == Array(target[..<question]), "position \(position)")
            #expect(head.query.map { Array(head.bytes[$0]) } == Array(target[(question + 1)...]), "position \(position)")
        }
    }

    /// Field names are scanned eight bytes at a time for the colon, and a known name's bytes
    /// are checked by `HeaderName.lookup` alone: every byte in every position of a long known
    /// name (a CR where its `-` is must not pass for it) and of a long unknown one.
    @Test("byte at every position of a long field name", arguments: allBytes)
    func longFieldNameByteSweep(_ b: UInt8) {
        for name in ["Access-Control-Request-Method", "X-A-Long-Unknown-Name"] {
            let original = Array(name.utf8)
            for position in 1..<original.count {
                var field = original
                field[position] = b
                let bytes = Array("GET / HTTP/1.1\r\nHost: a\r\n".utf8) + field + Array(": v\r\n\r\n".utf8)
                let sameName = asciiLower(b) == asciiLower(original[position])
                let expected: Outcome
                switch b {
                case 0x0A: expected = .status(400)  // the name's line ends: no colon in it
                case UInt8(ascii: ":"): expected = .ok  // the name ends there
                default: expected = rfcTchar.contains(b) ? .ok : .status(400)
                }
                #expect(outcome(bytes) == expected, "\(name), position \(position)")
                guard expected == .ok, case .complete(let head, _) = RequestParser().parse(bytes) else { continue }
                let known = head.value(.accessControlRequestMethod) != nil
                #expect(known == (name.hasPrefix("Access") && sameName), "\(name), position \(position)")
            }
        }
    }

    /// The word helpers against the bytes: each of the 256 bytes at each position of a word
    /// among neighbours of each kind, every flag checked (not only the first).
    @Test func byteWordsAgreeWithTheBytes() {
        let neighbours: [UInt8] = [0x00, 0x20, 0x21, 0x3A, 0x3F, 0x61, 0x7E, 0x7F, 0x80, 0xFF]
        for neighbour in neighbours {
            for b in allBytes {
                for position in 0..<8 {
                    var word = [UInt8](repeating: neighbour, count: 8)
                    word[position] = b
                    word.withUnsafeBytes { p in
                        let x = Bytes8.load(p.baseAddress!, 0)
                        let colons = Bytes8.equal(x, UInt8(ascii: ":"))
                        let questions = Bytes8.equal(x, UInt8(ascii: "?"))
                        let stops = Bytes8.notVchar(x)
                        for k in 0..<8 {
                            let bit: UInt64 = 0x80 << UInt64(8 * k)
                            #expect((colons & bit != 0) == (word[k] == UInt8(ascii: ":")), "\(word) at \(k)")
                            #expect((questions & bit != 0) == (word[k] == UInt8(ascii: "?")), "\(word) at \(k)")
                            #expect((stops & bit != 0) == !rfcTargetByte(word[k]), "\(word) at \(k)")
                        }
                        #expect(colons & ~Bytes8.highs == 0 && stops & ~Bytes8.highs == 0)
                        if stops != 0 {
                            let first = word.firstIndex { !rfcTargetByte($0) }!
                            #expect(Bytes8.first(stops) == first)
                            #expect(Bytes8.before(stops) & Bytes8.highs == (first == 0 ? 0 : Bytes8.highs >> UInt64(8 * (8 - first))))
                        } else {
                            #expect(Bytes8.before(stops) == ~0)
                        }
                    }
                }
            }
        }
    }

    @Test func tcharTableMatchesTheRFC() {
        for b in allBytes { #expect(isTchar(b) == rfcTchar.contains(b), "byte \(b)") }
    }

    /// RFC 3986 §3.2.2 reg-name's bytes besides pct-encoded: unreserved (§2.3) and sub-delims (§2.2).
    @Test func regNameTableMatchesTheRFC() {
        let letters = Array(UInt8(ascii: "a")...UInt8(ascii: "z")) + Array(UInt8(ascii: "A")...UInt8(ascii: "Z"))
        let regName = Set(letters + Array(UInt8(ascii: "0")...UInt8(ascii: "9")) + Array("-._~!$&'()*+,;=".utf8))
        for b in allBytes { #expect(isRegNameByte(b) == regName.contains(b), "byte \(b)") }
    }
}
