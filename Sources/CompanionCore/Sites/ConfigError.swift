// ConfigProblem and ConfigError: every problem found in a config file, each
// tied to the JSON key path that caused it, thrown together so `companion check`
// can list them all at once. Also the key-path spelling helpers
// shared by the loader and by plugin config decoders.

/// One thing wrong with a config file, e.g. `sites[1].root: directory does not exist: sites/blg`.
///
/// Also thrown by a plugin's `build` for what only the site can tell (a missing page): the
/// server reports it as it is, under its own key path.
public struct ConfigProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// JSON key path of the offending value (`sites[1].root`), or `""` for the whole file.
    public var path: String
    /// What is wrong and, where it helps, the offending value as written.
    public var message: String

    /// Creates a problem for the value at `path`.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `sites[1].root: directory does not exist: sites/blg`, or just the message for the whole file.
    public var description: String {
        path.isEmpty ? message : "\(path): \(message)"
    }

    /// The key path of member `key` inside the value at `base`: `sites[0]` + `root` → `sites[0].root`.
    /// Keys that are not plain names are quoted: `set["Cache.Control"]`.
    public static func keyPath(_ base: String, _ key: String) -> String {
        let isPlain = !key.isEmpty && key.utf8.allSatisfy { byte in
            byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: ".") && byte != UInt8(ascii: "[")
                && byte != UInt8(ascii: "]") && byte != UInt8(ascii: "\"")
        }
        if isPlain { return base.isEmpty ? key : "\(base).\(key)" }
        return "\(base)[\"\(JSONValue.escapeForMessage(key))\"]"
    }

    /// The key path of element `index` of the array at `base`: `sites` + 1 → `sites[1]`.
    public static func keyPath(_ base: String, index: Int) -> String {
        "\(base)[\(index)]"
    }
}

/// A config file that cannot be used, with every problem found in it.
///
/// Thrown by ``ConfigLoader``; the whole config is rejected when there is at least one problem.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// The config file as the user named it (`config.json`, `/etc/companion/config.json`).
    public var file: String
    /// All problems, in the order they appear in the file.
    public var problems: [ConfigProblem]

    /// Creates an error for `file` holding `problems`.
    public init(file: String, problems: [ConfigProblem]) {
        self.file = file
        self.problems = problems
    }

    /// One line per problem, each prefixed with the file: `config.json: sites[1].root: directory does not exist: sites/blg`.
    public var description: String {
        lines.joined(separator: "\n")
    }

    /// The lines of ``description``, for printers that add their own prefix (`companion: `).
    public var lines: [String] {
        problems.map { "\(file): \($0)" }
    }
}
