// JSONValue: the JSON document model used for config.json and plugin options.
// Objects keep their keys in file order (so problems are reported in the order a
// person reads the file). Parsing lives in JSONParser.swift; this file owns the
// value type, its accessors and the short descriptions used in error messages.

/// A JSON value (RFC 8259 §3), with object members kept in document order.
///
/// Produced by ``JSONValue/parse(_:)``, which rejects duplicate keys, so an
/// object's keys are unique and ``subscript(_:)`` finds at most one member.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// The member named `key` when this is an object; `nil` for a missing key or a non-object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for member in members where member.key == key { return member.value }
        return nil
    }

    /// The element at `index` when this is an array and the index is in range.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The string payload, or `nil` for any other kind of value.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The Boolean payload, or `nil` for any other kind of value.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The number payload, or `nil` for any other kind of value.
    public var doubleValue: Double? {
        if case .number(let d) = self { return d }
        return nil
    }

    /// The number as an `Int` when it is integral and fits (`2`, `2.0`, `2e3`); `nil` otherwise.
    public var intValue: Int? {
        guard case .number(let d) = self, d.isFinite, d.rounded(.towardZero) == d,
              d >= -9.2e18, d <= 9.2e18 else { return nil }
        return Int(d)
    }

    /// The elements when this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members, in document order, when this is an object.
    public var objectValue: [(key: String, value: JSONValue)]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Structural equality; object members compare in order (tuples are not `Equatable`).
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (x, y) in zip(a, b) where x.key != y.key || x.value != y.value { return false }
            return true
        default: return false
        }
    }
}

extension JSONValue {
    /// A short rendering of the value for messages such as `expected an integer ≥ 0, got "two"`:
    /// scalars are shown as written (long strings cut), containers by kind (`an array`, `an object`).
    public var shortDescription: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d): return Self.format(number: d)
        case .string(let s):
            let cut = s.count > 60 ? String(s.prefix(57)) + "..." : s
            return "\"" + Self.escapeForMessage(cut) + "\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Formats a number without a needless `.0` (`2`, `2.5`, `1e+300`).
    static func format(number d: Double) -> String {
        if d.isFinite, d.rounded(.towardZero) == d, abs(d) < 1e15 { return String(Int(d)) }
        return String(d)
    }

    /// Escapes quotes, backslashes, control characters and DEL as JSON does (RFC 8259 §7),
    /// so a value stays on one line in a message or inside a JSON string literal. C1
    /// controls and bidi characters (TerminalSafety) are written as `\uXXXX` too: the
    /// JSON means the same, and a terminal showing it is not driven by them.
    static func escapeForMessage(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if TerminalSafety.isUnsafe(scalar) {
                    let hex = String(scalar.value, radix: 16, uppercase: false)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
