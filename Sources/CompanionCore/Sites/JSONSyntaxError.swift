// JSONSyntaxError: why a byte sequence is not JSON, with the line and column a
// person needs to find the spot, and the key path for duplicate keys.

/// A JSON syntax error found by ``JSONValue/parse(_:)``.
///
/// `line` and `column` are 1-based; columns count Unicode scalars, as editors do.
/// `path` is the key path of the offending member for errors tied to one
/// (duplicate keys: `sites[0].root`), else empty.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, as a sentence without the location (`comments are not allowed in JSON`).
    public var message: String
    /// 1-based line of the offending character.
    public var line: Int
    /// 1-based column (in Unicode scalars) of the offending character.
    public var column: Int
    /// Key path of the member the error is about, or `""`.
    public var path: String

    /// Creates an error; normally only the parser does this.
    public init(message: String, line: Int, column: Int, path: String = "") {
        self.message = message
        self.line = line
        self.column = column
        self.path = path
    }

    /// `line 3, column 5: comments are not allowed in JSON`, prefixed by the key path when there is one.
    public var description: String {
        let location = "line \(line), column \(column): \(message)"
        return path.isEmpty ? location : "\(path): \(location)"
    }
}
