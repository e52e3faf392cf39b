// JSONParser: a strict RFC 8259 parser over bytes, for config.json. Nothing more
// lenient than the RFC is accepted: no comments, no trailing commas, no single
// quotes, no NaN; duplicate keys are an error (RFC 8259 §4 leaves them
// undefined, and for a config the second value silently winning hides a mistake).
// Not on the request path; clarity over speed. Steps: value → whitespace → end.

extension JSONValue {
    /// Parses one JSON document (RFC 8259) from UTF-8 bytes.
    ///
    /// A leading UTF-8 byte order mark is skipped (RFC 8259 §8.1 allows ignoring it).
    /// - Throws: ``JSONSyntaxError`` with line and column for the first problem found.
    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        return try parser.parseDocument()
    }
}

/// The parser state: a cursor over the bytes and the key path of the value being read.
struct JSONParser {
    /// One step of the key path, turned into text only when an error needs it.
    enum PathStep {
        case key(String)
        case index(Int)
    }

    /// SECURITY: bounds recursion so a file of 100 000 `[` cannot overflow the stack.
    static let maxDepth = 256

    let bytes: [UInt8]
    var position = 0
    var path: [PathStep] = []

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func parseDocument() throws(JSONSyntaxError) -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        try skipWhitespace()
        guard position < bytes.count else { throw error("the file is empty; expected a JSON value") }
        let value = try parseValue()
        try skipWhitespace()
        if position < bytes.count {
            throw error("unexpected \(describeCurrent()) after the end of the JSON value")
        }
        return value
    }

    // MARK: Values

    mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard position < bytes.count else { throw error("unexpected end of file; expected a JSON value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case UInt8(ascii: "'"): throw error("strings must be in double quotes")
        case UInt8(ascii: "+"): throw error("a number cannot start with '+'")
        case UInt8(ascii: "."): throw error("a number must start with a digit")
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return try parseLiteral()
        default: throw error("unexpected \(describeCurrent()); expected a JSON value")
        }
    }

    mutating func parseLiteral() throws(JSONSyntaxError) -> JSONValue {
        let start = position
        while position < bytes.count, isWordByte(bytes[position]) { position += 1 }
        let word = String(decoding: bytes[start..<position], as: UTF8.self)
        switch word {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        default:
            position = start
            throw error("unexpected word '\(word)'; expected a value (strings need double quotes)")
        }
    }

    mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enterContainer()
        position += 1  // [
        var elements: [JSONValue] = []
        try skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            path.append(.index(elements.count))
            elements.append(try parseValue())
            path.removeLast()
            try skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of file; expected ',' or ']'") }
            let byte = bytes[position]
            if byte == UInt8(ascii: "]") { position += 1; break }
            guard byte == UInt8(ascii: ",") else {
                throw error("expected ',' or ']' after an array element, got \(describeCurrent())")
            }
            try rejectTrailingComma(closing: UInt8(ascii: "]"))
        }
        return .array(elements)
    }

    mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enterContainer()
        position += 1  // {
        var members: [(key: String, value: JSONValue)] = []
        var keyPositions: [String: Int] = [:]
        try skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            guard position < bytes.count else { throw error("unexpected end of file; expected a key") }
            guard bytes[position] == UInt8(ascii: "\"") else {
                throw error("expected a key in double quotes, got \(describeCurrent())")
            }
            let keyStart = position
            let key = try parseString()
            if let first = keyPositions[key] {
                // RFC 8259 §4: names SHOULD be unique; we require it.
                let firstLine = location(of: first).line
                path.append(.key(key))
                let keyPath = formatPath()
                position = keyStart
                throw error("duplicate key \"\(JSONValue.escapeForMessage(key))\" (first on line \(firstLine))",
                            path: keyPath)
            }
            keyPositions[key] = keyStart
            try skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                throw error("expected ':' after the key \"\(JSONValue.escapeForMessage(key))\"")
            }
            position += 1
            try skipWhitespace()
            path.append(.key(key))
            members.append((key: key, value: try parseValue()))
            path.removeLast()
            try skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of file; expected ',' or '}'") }
            let byte = bytes[position]
            if byte == UInt8(ascii: "}") { position += 1; break }
            guard byte == UInt8(ascii: ",") else {
                throw error("expected ',' or '}' after an object member, got \(describeCurrent())")
            }
            try rejectTrailingComma(closing: UInt8(ascii: "}"))
        }
        return .object(members)
    }

    /// At a ',': moves past it and the whitespace after; a closing bracket next is an error at the comma.
    mutating func rejectTrailingComma(closing: UInt8) throws(JSONSyntaxError) {
        let comma = position
        position += 1
        try skipWhitespace()
        if position < bytes.count, bytes[position] == closing {
            position = comma
            throw error("trailing comma is not allowed in JSON")
        }
    }

    /// Called at '[' or '{'; the key path length is the nesting depth.
    func enterContainer() throws(JSONSyntaxError) {
        if path.count >= Self.maxDepth { throw error("nesting is deeper than \(Self.maxDepth) levels") }
    }

    // MARK: Whitespace and comments

    /// RFC 8259 §2: whitespace is space, tab, LF and CR. `//` and `/*` get their own message.
    mutating func skipWhitespace() throws(JSONSyntaxError) {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D:
                position += 1
            case UInt8(ascii: "/"):
                let next = position + 1 < bytes.count ? bytes[position + 1] : 0
                if next == UInt8(ascii: "/") || next == UInt8(ascii: "*") {
                    throw error("comments are not allowed in JSON")
                }
                return
            default:
                return
            }
        }
    }

    func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
    }

    // MARK: Errors

    /// An error at the current position.
    func error(_ message: String, path keyPath: String = "") -> JSONSyntaxError {
        let (line, column) = location(of: position)
        return JSONSyntaxError(message: message, line: line, column: column, path: keyPath)
    }

    /// 1-based line and column of byte `offset`; columns count scalars (UTF-8 continuation bytes skipped).
    func location(of offset: Int) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for byte in bytes[..<min(offset, bytes.count)] {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }

    /// The current byte for a message: `'x'`, `end of file`, or `byte 0xFF`.
    func describeCurrent() -> String {
        guard position < bytes.count else { return "end of file" }
        let byte = bytes[position]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        if byte >= 0x80 { return "a non-ASCII character" }
        return "byte 0x" + String(byte, radix: 16, uppercase: true)
    }

    func formatPath() -> String {
        var text = ""
        for step in path {
            switch step {
            case .key(let key): text = ConfigProblem.keyPath(text, key)
            case .index(let index): text = ConfigProblem.keyPath(text, index: index)
            }
        }
        return text
    }
}
