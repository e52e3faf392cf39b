// ConfigValidator: collects ConfigProblems while the loader walks the JSON, and
// offers typed readers (object, integer, bool, string, array) that report a
// wrong type with the key path and the offending value instead of stopping.
// Every reader returns nil after reporting, so the loader keeps going and the
// user sees all problems at once, not one per run.

/// Problem collector and typed accessors used by ``ConfigLoader`` (and usable by plugin decoders).
public struct ConfigValidator: Sendable {
    /// Problems found so far, in the order they were reported.
    public private(set) var problems: [ConfigProblem] = []

    /// An empty collector.
    public init() {}

    /// Records a problem for the value at `path`.
    public mutating func report(_ path: String, _ message: String) {
        problems.append(ConfigProblem(path: path, message: message))
    }

    /// Records problems found elsewhere (a plugin validator).
    public mutating func append(contentsOf more: [ConfigProblem]) {
        problems.append(contentsOf: more)
    }

    /// The members of an object, after reporting each key not in `allowed` (`sites[0].lisitng: unknown key`).
    /// Reports a wrong type and returns `nil` when `value` is not an object.
    public mutating func object(_ value: JSONValue, at path: String, allowed: [String]) -> [(key: String, value: JSONValue)]? {
        guard let members = value.objectValue else {
            report(path, "expected an object, got \(value.shortDescription)")
            return nil
        }
        for member in members where !allowed.contains(member.key) {
            report(ConfigProblem.keyPath(path, member.key), Self.unknownKeyMessage(member.key, allowed: allowed))
        }
        return members
    }

    /// An integer in `range`; non-integral numbers (`2.5`) and other types are reported.
    public mutating func integer(_ value: JSONValue, at path: String, in range: ClosedRange<Int>) -> Int? {
        guard let number = value.intValue, range.contains(number) else {
            report(path, "expected \(Self.describe(range)), got \(value.shortDescription)")
            return nil
        }
        return number
    }

    /// A Boolean (`true`/`false`).
    public mutating func bool(_ value: JSONValue, at path: String) -> Bool? {
        guard let flag = value.boolValue else {
            report(path, "expected true or false, got \(value.shortDescription)")
            return nil
        }
        return flag
    }

    /// A non-empty string.
    public mutating func string(_ value: JSONValue, at path: String) -> String? {
        guard let text = value.stringValue else {
            report(path, "expected a string, got \(value.shortDescription)")
            return nil
        }
        guard !text.isEmpty else {
            report(path, "must not be empty")
            return nil
        }
        return text
    }

    /// An array, optionally required to have at least one element.
    public mutating func array(_ value: JSONValue, at path: String, nonEmpty: Bool = false) -> [JSONValue]? {
        guard let elements = value.arrayValue else {
            report(path, "expected a list, got \(value.shortDescription)")
            return nil
        }
        if nonEmpty && elements.isEmpty {
            report(path, "must not be an empty list")
            return nil
        }
        return elements
    }

    /// One string or a non-empty list (`host`, `listen`): the elements with their own key paths
    /// (`host` or `host[1]`). The caller reads each with ``string(_:at:)``, so problems stay in file order.
    public mutating func stringOrList(_ value: JSONValue, at path: String) -> [(value: JSONValue, path: String)]? {
        if case .string = value { return [(value: value, path: path)] }
        guard value.arrayValue != nil else {
            report(path, "expected a string or a list of strings, got \(value.shortDescription)")
            return nil
        }
        guard let elements = array(value, at: path, nonEmpty: true) else { return nil }
        return elements.enumerated().map { (value: $1, path: ConfigProblem.keyPath(path, index: $0)) }
    }

    /// Reports `path` as a required key that is missing.
    public mutating func reportMissing(_ path: String) {
        report(path, "missing required key")
    }

    // MARK: Messages

    /// `an integer ≥ 0`, `an integer from 1 to 9`.
    static func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == Int.max { return "an integer ≥ \(range.lowerBound)" }
        return "an integer from \(range.lowerBound) to \(range.upperBound)"
    }

    /// `unknown key (did you mean "listing"?)` when a near spelling exists, else the allowed keys.
    static func unknownKeyMessage(_ key: String, allowed: [String]) -> String {
        let lowered = Array(key.lowercased().unicodeScalars)
        var best: (name: String, distance: Int)?
        for name in allowed {
            let distance = editDistance(lowered, Array(name.lowercased().unicodeScalars))
            if distance <= 2, distance < best?.distance ?? Int.max { best = (name, distance) }
        }
        if let best { return "unknown key (did you mean \"\(best.name)\"?)" }
        return "unknown key (allowed: \(allowed.joined(separator: ", ")))"
    }

    /// Levenshtein distance with transpositions counted as one edit (optimal string alignment).
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
