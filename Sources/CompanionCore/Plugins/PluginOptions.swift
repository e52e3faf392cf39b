// PluginOptions: typed readers for one `sites[i].plugins[j]` object, for built-in
// and custom plugins alike. Every problem is reported with its full key path
// (`sites[0].plugins[1].status: expected 301, 302, 307 or 308, got 303`), unknown
// keys included, and reading goes on so `companion check` lists them all.
// Also the `PluginType` initialiser that runs one parse function both for
// validation (config load) and for building the middleware.

/// Reads the options of one plugin entry and collects its problems.
///
/// Used at config load only (never per request). Each reader returns nil when the
/// key is absent or its value is wrong; in the second case the problem is recorded.
public struct PluginOptions: Sendable {
    /// The plugin entry being read.
    public let config: PluginConfig
    /// Problems found so far (with `ConfigValidator`'s messages and key paths).
    public var validator = ConfigValidator()
    private let members: [(key: String, value: JSONValue)]

    /// Starts reading `config`; every key other than `type` and `keys` is reported as unknown.
    public init(_ config: PluginConfig, keys: [String]) {
        self.config = config
        members = validator.object(config.options, at: config.keyPath, allowed: ["type"] + keys) ?? []
    }

    /// Problems found so far.
    public var problems: [ConfigProblem] { validator.problems }

    /// `sites[0].plugins[1]` + `key` → `sites[0].plugins[1].key`.
    public func path(_ key: String) -> String { ConfigProblem.keyPath(config.keyPath, key) }

    /// The raw value of `key`, or nil when absent.
    public func value(_ key: String) -> JSONValue? {
        members.first { $0.key == key }?.value
    }

    /// Records a problem for `key`.
    public mutating func report(_ key: String, _ message: String) {
        validator.report(path(key), message)
    }

    /// Records that a required `key` is missing.
    public mutating func reportMissing(_ key: String) {
        validator.reportMissing(path(key))
    }

    /// A non-empty string; reports a missing key when `required`.
    public mutating func string(_ key: String, required: Bool = false) -> String? {
        guard let value = value(key) else {
            if required { reportMissing(key) }
            return nil
        }
        return validator.string(value, at: path(key))
    }

    /// An integer in `range`.
    public mutating func integer(_ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = value(key) else { return nil }
        return validator.integer(value, at: path(key), in: range)
    }

    /// A path pattern (SPEC §4): a path, or a prefix ending in `*`.
    public mutating func pattern(_ key: String, required: Bool = false) -> PathPattern? {
        guard let text = string(key, required: required) else { return nil }
        guard let pattern = PathPattern(text) else {
            report(key, "expected a path such as \"/docs/page.html\" or a prefix such as \"/assets/*\""
                   + " (starting with \"/\", \"*\" only at the end), got \(JSONValue.string(text).shortDescription)")
            return nil
        }
        return pattern
    }

    /// A list of non-empty strings, each checked by `isValid` (its message names what
    /// was expected). Returns nil when any element is wrong.
    public mutating func stringList(_ key: String, expected: String,
                                    isValid: (String) -> Bool = { _ in true }) -> [String]? {
        guard let value = value(key) else { return nil }
        guard let elements = validator.array(value, at: path(key)) else { return nil }
        var strings: [String] = []
        var isListValid = true
        for (index, element) in elements.enumerated() {
            let elementPath = ConfigProblem.keyPath(path(key), index: index)
            guard let text = validator.string(element, at: elementPath) else {
                isListValid = false
                continue
            }
            if isValid(text) {
                strings.append(text)
            } else {
                validator.report(elementPath, "expected \(expected), got \(element.shortDescription)")
                isListValid = false
            }
        }
        return isListValid ? strings : nil
    }

    /// An object of string values (`{"Cache-Control": "no-store"}`), in file order;
    /// `isValidName`/`isValidValue` check each member, whose problems name
    /// `key.member`. Returns nil when any member is wrong.
    public mutating func stringMap(_ key: String, expectedName: String, isValidName: (String) -> Bool,
                                   expectedValue: String, isValidValue: (String) -> Bool)
        -> [(name: String, value: String)]? {
        guard let value = value(key) else { return nil }
        guard let entries = value.objectValue else {
            report(key, "expected an object, got \(value.shortDescription)")
            return nil
        }
        var result: [(name: String, value: String)] = []
        var isMapValid = true
        for (name, member) in entries {
            let memberPath = ConfigProblem.keyPath(path(key), name)
            guard isValidName(name) else {
                validator.report(memberPath, "expected \(expectedName) as the key")
                isMapValid = false
                continue
            }
            guard let text = member.stringValue else {
                validator.report(memberPath, "expected a string, got \(member.shortDescription)")
                isMapValid = false
                continue
            }
            guard isValidValue(text) else {
                validator.report(memberPath, "expected \(expectedValue), got \(member.shortDescription)")
                isMapValid = false
                continue
            }
            result.append((name, text))
        }
        return isMapValid ? result : nil
    }
}

extension PluginType {
    /// A plugin type whose options are read by one function, used twice: at config
    /// load to validate (its problems are the config errors) and at server start to
    /// build the middleware from the settings it returns.
    /// - Parameters:
    ///   - name: the `type` value in config.json.
    ///   - keys: the option keys besides `type`; any other key is an error.
    ///   - parse: reads the options (reporting problems) and returns the settings,
    ///     or nil when they are unusable.
    ///   - build: makes the middleware from valid settings and the site's context; may
    ///     throw for what only the site can tell (a missing file): a `ConfigProblem` names
    ///     its own key path, any other error is reported under the plugin's.
    public init<Settings>(name: String, keys: [String],
                          parse: @escaping @Sendable (inout PluginOptions) -> Settings?,
                          build: @escaping @Sendable (Settings, PluginContext) throws -> any Middleware) {
        self.init(
            name: name,
            validate: { config in
                var options = PluginOptions(config, keys: keys)
                _ = parse(&options)
                return options.problems
            },
            make: { config, context in
                var options = PluginOptions(config, keys: keys)
                let settings = parse(&options)
                if let problem = options.problems.first { throw problem }
                guard let settings else { throw ConfigProblem(path: config.keyPath, message: "invalid options") }
                return try build(settings, context)
            })
    }
}

/// Shared option checks for header names and values (RFC 9110 §5.1, §5.5).
enum HeaderSyntax {
    /// A field name: `token` (RFC 9110 §5.6.2).
    static func isFieldName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(AcceptEncoding.isTokenByte)
    }

    /// A field value we can write safely: visible ASCII, UTF-8, SP and HTAB only.
    /// SECURITY: CR, LF and NUL would split or end the header (response splitting); other
    /// control characters are invalid in a field value (RFC 9110 §5.5).
    static func isFieldValue(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
    }

    /// Headers the writer owns: a plugin may not set or remove them.
    static let framingHeaders: Set<String> = Set(framingHeaderNames.map { "\($0)" })

    private static let framingHeaderNames: [StaticString] = ["content-length", "transfer-encoding", "connection", "date",
                                                             "server", "keep-alive", "upgrade", "trailer"]

    /// Whether `name` is one of `framingHeaders` in any ASCII case, without allocating: the
    /// finalizer asks it of every extra field of every response.
    static func isFramingHeader(_ name: String) -> Bool {
        framingHeaderNames.contains { AcceptEncoding.matches(name.utf8, $0) }
    }
}
