// JSONParser+Scalars: strings (RFC 8259 §7) and numbers (RFC 8259 §6), with
// UTF-8 validation (RFC 8259 §8.1, RFC 3629 §4) so every String we hand out is
// exactly what the file says.

extension JSONParser {
    /// Reads a string starting at its opening quote and returns its decoded text.
    mutating func parseString() throws(JSONSyntaxError) -> String {
        position += 1  // opening quote
        var text: [UInt8] = []
        while true {
            guard position < bytes.count else { throw error("unterminated string; expected a closing '\"'") }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: text, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &text)
            case 0x0A, 0x0D:
                throw error("a string cannot span lines; write \\n for a line break")
            case 0x00..<0x20:
                // RFC 8259 §7: control characters U+0000 through U+001F must be escaped.
                throw error("control character (byte 0x\(String(byte, radix: 16, uppercase: true))) must be escaped in a string")
            case 0x80...:
                let length = UTF8Validation.validSequenceLength(bytes, at: position)
                guard length > 0 else { throw error("invalid UTF-8 byte 0x\(String(byte, radix: 16, uppercase: true))") }
                text.append(contentsOf: bytes[position..<position + length])
                position += length
            default:
                text.append(byte)
                position += 1
            }
        }
    }

    /// RFC 8259 §7: `\" \\ \/ \b \f \n \r \t \uXXXX`, with UTF-16 surrogate pairs for astral scalars.
    mutating func parseEscape(into text: inout [UInt8]) throws(JSONSyntaxError) {
        guard position + 1 < bytes.count else { throw error("unterminated string; expected a closing '\"'") }
        let escapeStart = position
        let letter = bytes[position + 1]
        position += 2
        let simple: UInt8?
        switch letter {
        case UInt8(ascii: "\""): simple = 0x22
        case UInt8(ascii: "\\"): simple = 0x5C
        case UInt8(ascii: "/"): simple = 0x2F
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"): simple = nil
        default:
            position = escapeStart
            throw error("invalid escape sequence in a string; use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX")
        }
        if let simple {
            text.append(simple)
            return
        }
        var unit = try parseHex4(escapeStart: escapeStart)
        if unit >= 0xD800 && unit < 0xDC00 {
            // A high surrogate must be followed by \u and a low surrogate.
            guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
            else {
                position = escapeStart
                throw error("unpaired UTF-16 surrogate in a \\u escape")
            }
            position += 2
            let low = try parseHex4(escapeStart: escapeStart)
            guard low >= 0xDC00 && low < 0xE000 else {
                position = escapeStart
                throw error("unpaired UTF-16 surrogate in a \\u escape")
            }
            unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        } else if unit >= 0xDC00 && unit < 0xE000 {
            position = escapeStart
            throw error("unpaired UTF-16 surrogate in a \\u escape")
        }
        guard let scalar = Unicode.Scalar(unit) else {
            position = escapeStart
            throw error("invalid \\u escape")
        }
        UTF8.encode(scalar) { text.append($0) }
    }

    /// Four hex digits after `\u`.
    mutating func parseHex4(escapeStart: Int) throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.count, let digit = ASCII.hexValue(bytes[position]) else {
                position = escapeStart
                throw error("invalid \\u escape; expected four hex digits")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    mutating func parseNumber() throws(JSONSyntaxError) -> Double {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, isDigit(bytes[position]) else {
            throw error("expected a digit in a number")
        }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, isDigit(bytes[position]) {
                throw error("leading zeros are not allowed in a number")
            }
        } else {
            skipDigits()
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else {
                throw error("expected a digit after '.' in a number")
            }
            skipDigits()
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard position < bytes.count, isDigit(bytes[position]) else {
                throw error("expected a digit in the exponent of a number")
            }
            skipDigits()
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            position = start
            throw error("number is out of range: \(text)")
        }
        return value
    }

    func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    mutating func skipDigits() {
        while position < bytes.count, isDigit(bytes[position]) { position += 1 }
    }
}
